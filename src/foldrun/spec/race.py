"""The `[race]` table of the spec: racing of a model's variants (owned by run/race.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RaceSpec(BaseModel):
    """Racing: a model's variants that are clearly worse stop before running every fold."""

    model_config = ConfigDict(extra="forbid")

    # folds every variant runs before any can stop (the t-test needs >= 2)
    after: int = Field(2, ge=2, description=(
        "Folds every variant runs before any can stop (the t-test needs at least 2)."))
    # a variant stops when the corrected paired t-test against the current best, Holm-
    # corrected over the variants still racing, is below alpha
    alpha: float = Field(0.05, gt=0, lt=1, description=(
        "A variant stops when the corrected paired t-test against the current best, "
        "Holm-corrected over the variants still racing, is below alpha."))
