"""The interface every execution engine implements. A new engine is one new module.

A backend receives the tasks that still have to run (already filtered: not done, not
stale unless --force), in dependency order, and makes each one execute through
`python -m foldrun.run.worker --spec SPEC --task KEY` (or the in-process equivalent),
which does the real work and the atomic commit of the task folder. Completion is
decided by the task folders (DONE + fingerprint) first, the scheduler second.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from foldrun.core.task import PlannedTask, TaskState


@dataclass
class RunContext:
    spec_path: Path
    run_dir: Path
    run_id: str  # carried in every SLURM job name
    jobs: int = 1
    gpus: tuple[int, ...] = ()
    retries: int = 0
    dry_run: bool = False
    wait: bool = True
    options: dict[str, object] = field(default_factory=dict)


@dataclass
class BackendResult:
    """What a backend reports back: per-task final (or, for submit-and-return, queued) states."""

    states: dict[str, TaskState] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)


class Backend(ABC):
    name: ClassVar[str]

    @abstractmethod
    def execute(self, tasks: Sequence[PlannedTask], ctx: RunContext) -> BackendResult:
        """Run (or submit) the tasks, respecting `task.deps` among them."""

    def scheduler_states(self, ctx: RunContext) -> dict[str, TaskState]:
        """Tasks the scheduler knows as queued/running/failed; local runs know none."""
        return {}

    def cancel(self, ctx: RunContext) -> int:
        """Cancel queued and running work of this run; returns how many were cancelled."""
        return 0
