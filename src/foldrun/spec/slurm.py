"""The `[slurm]` table of the spec (owned by the SLURM backend).

Per-task resources (cpus, gpus, mem, time) come from `[defaults].resources` and each
model's `resources`; this table holds what is about the cluster: where jobs go, how many
run at once, and how preemption is handled.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from foldrun.core.task import STAGES
from foldrun.errors import SpecError


class SlurmSpec(BaseModel):
    """Where `foldrun run --backend slurm` sends the task arrays, how many run at once,
    and how preemption is handled."""

    model_config = ConfigDict(extra="forbid")

    partition: str | None = Field(None, description="The partition of every array.")
    account: str | None = Field(None, description="The account charged for every array.")
    # each of these: one value for every array, or a table stage -> value
    qos: str | dict[str, str] | None = Field(None, description=(
        "The quality of service (--qos), or a table stage -> qos."))
    max_concurrent: int | dict[str, int] | None = Field(None, description=(
        "Tasks of an array running at once (its %N throttle), or a table stage -> number."))
    partitions: dict[str, str] = Field(default_factory=dict, description=(
        "Stage -> partition (e.g. evaluate on CPU nodes)."))
    accounts: dict[str, str] = Field(default_factory=dict, description="Stage -> account.")
    constraints: str | dict[str, str] | None = Field(None, description=(
        "sbatch --constraint (node features), or a table stage -> constraint."))
    extra: list[str] | dict[str, list[str]] = Field(default_factory=list, description=(
        'More sbatch options ("--name=value"), or a table stage -> options.'))
    max_requeues: int = Field(default=3, ge=0, description=(
        "Requeues of a task after preemption or its time limit."))
    signal_before_s: int = Field(default=90, ge=1, description=(
        "Seconds before the time limit the task gets USR2 (to checkpoint)."))
    python: str | None = Field(None, description=(
        "The Python interpreter on the nodes (default: the one that submits)."))
    poll_max_s: float = Field(default=8.0, gt=0, description=(
        "--wait polls the scheduler at most this many seconds apart."))

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

    @field_validator("partitions", "accounts", "qos", "max_concurrent", "constraints", "extra")
    @classmethod
    def _stages(cls, value: Any, info: ValidationInfo) -> Any:
        bad = sorted(set(value) - set(STAGES)) if isinstance(value, dict) else []
        if bad:
            raise ValueError(
                f"{info.field_name}: unknown stage {', '.join(map(repr, bad))}; "
                f"use one of: {', '.join(STAGES)}"
            )
        return value

    @field_validator("max_concurrent")
    @classmethod
    def _positive(cls, value: int | dict[str, int] | None) -> int | dict[str, int] | None:
        numbers = value.values() if isinstance(value, dict) else [value]
        if any(number is not None and number < 1 for number in numbers):
            raise ValueError("max_concurrent: Input should be greater than or equal to 1")
        return value

    @field_validator("extra")
    @classmethod
    def _options(cls, value: list[str] | dict[str, list[str]]) -> list[str] | dict[str, list[str]]:
        lists = value.values() if isinstance(value, dict) else [value]
        for option in (option for options in lists for option in options):
            if not option.startswith("-") or "\n" in option:
                raise ValueError(
                    f"extra: {option!r} is not an sbatch option; write it as '--name=value'"
                )
        return value

    def partition_for(self, stage: str) -> str | None:
        """The partition of a stage: `partitions[stage]`, else `partition`."""
        return self.partitions.get(stage, self.partition)

    def for_stage(self, stage: str) -> dict[str, Any]:
        """What an array of `stage` is submitted with: its throttle, partition, account,
        QOS, constraint and extra sbatch lines (a table's missing stage: none)."""
        return {
            "max_concurrent": _of_stage(self.max_concurrent, stage),
            "partition": self.partition_for(stage),
            "account": self.accounts.get(stage, self.account),
            "qos": _of_stage(self.qos, stage),
            "constraint": _of_stage(self.constraints, stage),
            "extra": _of_stage(self.extra, stage) or [],
        }


def _of_stage(value: Any, stage: str) -> Any:
    """A setting given once for every stage, or as a table by stage."""
    return value.get(stage) if isinstance(value, dict) else value


_UNION_TAGS = frozenset({"int", "str", "list[str]", "dict[str,int]", "dict[str,str]",
                         "dict[str,list[str]]"})
_SHAPES = {
    "max_concurrent": "a number, or a table by stage like { train = 15, evaluate = 20 }",
    "qos": "text, or a table by stage like { train = \"gpu\" }",
    "constraints": "text, or a table by stage like { train = \"a100\" }",
    "extra": "a list of sbatch lines, or a table by stage of such lists",
}


def slurm_spec_from_table(
    table: dict[str, Any] | None, *, file: str | Path | None = None
) -> SlurmSpec:
    """Validate a `[slurm]` table; a bad key or value is one SpecError line."""
    try:
        return SlurmSpec.model_validate(table or {})
    except ValidationError as err:
        first = err.errors()[0]
        # pydantic names the member of a union it tried (`int`, `dict[str,int]`): not a key
        parts = [str(part) for part in first["loc"] if str(part) not in _UNION_TAGS]
        where = ".".join(parts)
        message = first["msg"].removeprefix("Value error, ")
        if len(first["loc"]) > len(parts) and parts[0] in _SHAPES:
            message = f"{parts[0]} must be {_SHAPES[parts[0]]}"
        raise SpecError(message, file=file, key=f"slurm.{where}" if where else "slurm") from None
