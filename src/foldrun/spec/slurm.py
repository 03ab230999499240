"""The `[slurm]` table of the spec (owned by the SLURM backend).

Per-task resources (cpus, gpus, mem, time) come from `[defaults].resources` and each
model's `resources`; this table holds what is about the cluster: where jobs go, how many
run at once, and how preemption is handled.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from foldrun.core.task import STAGES
from foldrun.errors import SpecError


class SlurmSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    max_concurrent: int | None = Field(default=None, ge=1)  # the `%N` throttle of every array
    partitions: dict[str, str] = Field(default_factory=dict)  # stage -> partition
    extra: list[str] = Field(default_factory=list)  # more sbatch options, e.g. "--qos=normal"
    max_requeues: int = Field(default=3, ge=0)  # preemption/time-limit requeues per task
    signal_before_s: int = Field(default=90, ge=1)  # USR2 this long before the time limit
    python: str | None = None  # interpreter on the nodes; default: the submitting one
    poll_max_s: float = Field(default=8.0, gt=0)  # --wait polls squeue at most this far apart

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        # pydantic's own message names the bad key but not the good ones
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(cls.model_fields))
            if unknown:
                close = difflib.get_close_matches(unknown[0], list(cls.model_fields), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(
                    f"unknown [slurm] option {', '.join(map(repr, unknown))}{hint}; "
                    f"valid options: {', '.join(cls.model_fields)}"
                )
        return data

    @field_validator("partitions")
    @classmethod
    def _stages(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(set(value) - set(STAGES))
        if bad:
            raise ValueError(
                f"partitions: unknown stage {', '.join(map(repr, bad))}; "
                f"use one of: {', '.join(STAGES)}"
            )
        return value

    @field_validator("extra")
    @classmethod
    def _options(cls, value: list[str]) -> list[str]:
        for option in value:
            if not option.startswith("-") or "\n" in option:
                raise ValueError(
                    f"extra: {option!r} is not an sbatch option; write it as '--name=value'"
                )
        return value

    def partition_for(self, stage: str) -> str | None:
        """The partition of a stage: `partitions[stage]`, else `partition`."""
        return self.partitions.get(stage, self.partition)


def slurm_spec_from_table(
    table: dict[str, Any] | None, *, file: str | Path | None = None
) -> SlurmSpec:
    """Validate a `[slurm]` table; a bad key or value is one SpecError line."""
    try:
        return SlurmSpec.model_validate(table or {})
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise SpecError(message, file=file, key=f"slurm.{where}" if where else "slurm") from None


def load_slurm_spec(spec_path: str | Path) -> SlurmSpec:
    """The `[slurm]` table of a spec file (defaults when the table is absent)."""
    from foldrun.spec.load import read_document

    path = Path(spec_path)
    document = read_document(path)
    table = document.get("slurm")
    if table is not None and not isinstance(table, dict):
        raise SpecError("[slurm] must be a table", file=path, key="slurm")
    return slurm_spec_from_table(table, file=path)
