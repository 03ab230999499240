"""Resource requests of the spec (`cpus`, `gpus`, `mem`, `time`) and their parsing.

`mem` is "4G", "512M", "1T" or a number of megabytes; `time` is SLURM's format:
"MM", "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS", or a number of minutes.
"""

from __future__ import annotations

import math
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from foldrun.core.task import Resources

_MEM_UNITS_MB = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}
_MEM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*$", re.IGNORECASE)
_TIME = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


def parse_mem(value: str | int | float) -> int:
    """Megabytes from "4G", "512M", "1.5G" or a plain number of megabytes."""
    if isinstance(value, bool):
        raise ValueError(f"mem must be like '4G' or '512M', got {value!r}")
    if isinstance(value, int | float):
        if value <= 0:
            raise ValueError(f"mem must be positive, got {value!r}")
        return math.ceil(value)
    match = _MEM.match(value)
    if not match:
        raise ValueError(f"mem must be like '4G' or '512M', got {value!r}")
    number, unit = float(match.group(1)), (match.group(2) or "M").upper()
    megabytes = math.ceil(number * _MEM_UNITS_MB[unit])
    if megabytes <= 0:
        raise ValueError(f"mem must be positive, got {value!r}")
    return megabytes


def parse_time(value: str | int | float) -> int:
    """Minutes from SLURM time formats ("90", "01:00:00", "1-00:00:00") or a number."""
    if isinstance(value, bool):
        raise ValueError(f"time must be like '01:00:00' or '90' (minutes), got {value!r}")
    if isinstance(value, int | float):
        if value <= 0:
            raise ValueError(f"time must be positive, got {value!r}")
        return math.ceil(value)
    match = _TIME.match(value.strip())
    if not match:
        raise ValueError(
            f"time must be like '90' (minutes), '01:00:00' or '1-00:00:00', got {value!r}"
        )
    days, a, b, c = (int(g) if g is not None else None for g in match.groups())
    minutes = _clock_minutes(days, a, b, c)
    if minutes <= 0:
        raise ValueError(f"time must be positive, got {value!r}")
    return minutes


def _clock_minutes(days: int | None, a: int | None, b: int | None, c: int | None) -> int:
    """SLURM: without days, "M", "M:S", "H:M:S"; with days, "D-H", "D-H:M", "D-H:M:S"."""
    assert a is not None
    if days is None:
        if b is None:
            return a
        if c is None:
            return a + math.ceil(b / 60)
        return a * 60 + b + math.ceil(c / 60)
    return days * 1440 + a * 60 + (b or 0) + math.ceil((c or 0) / 60)


class ResourcesSpec(BaseModel):
    """A partial resource request; unset fields fall back to the level above."""

    model_config = ConfigDict(extra="forbid")

    cpus: int | None = Field(default=None, ge=1, description="CPU cores a task asks for.")
    gpus: int | None = Field(default=None, ge=0, description="GPUs a task asks for.")
    # the task may run on CPU where no GPU is found (a laptop); else it is refused there
    gpus_optional: bool | None = Field(default=None, strict=True, description=(
        "The task may run on CPU where no GPU is found (FOLDRUN_GPUS is then empty)."))
    mem: str | int | float | None = Field(None, description=(
        'Memory: "4G", "512M", "1T" or a number of megabytes.'))
    time: str | int | float | None = Field(None, description=(
        'Time limit in SLURM\'s format ("90", "01:00:00", "1-00:00:00") or minutes.'))

    @field_validator("mem")
    @classmethod
    def _check_mem(cls, value: str | int | float | None) -> str | int | float | None:
        if value is not None:
            parse_mem(value)
        return value

    @field_validator("time")
    @classmethod
    def _check_time(cls, value: str | int | float | None) -> str | int | float | None:
        if value is not None:
            parse_time(value)
        return value


def merge_resources(*levels: ResourcesSpec | None) -> Resources:
    """Defaults <- model <- stage: each later level overrides the fields it sets."""
    base = Resources()
    cpus, gpus, mem_mb, time_min = base.cpus, base.gpus, base.mem_mb, base.time_min
    optional = base.gpus_optional
    for level in levels:
        if level is None:
            continue
        cpus = level.cpus if level.cpus is not None else cpus
        gpus = level.gpus if level.gpus is not None else gpus
        optional = level.gpus_optional if level.gpus_optional is not None else optional
        mem_mb = parse_mem(level.mem) if level.mem is not None else mem_mb
        time_min = parse_time(level.time) if level.time is not None else time_min
    return Resources(cpus=cpus, gpus=gpus, mem_mb=mem_mb, time_min=time_min,
                     gpus_optional=optional)  # fmt: skip
