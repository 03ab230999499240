"""The `[slurm]` table of the spec (owned by the SLURM backend)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SlurmSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    max_concurrent: int | None = Field(default=None, ge=1)
    partitions: dict[str, str] = Field(default_factory=dict)  # stage -> partition
    extra: list[str] = Field(default_factory=list)
