"""The `[mlflow]` table of the spec (owned by experiment tracking)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class MlflowSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tracking_uri: str = "sqlite:///mlruns.db"
    experiment: str | None = None  # default: the spec's name
