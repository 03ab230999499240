"""The interface every execution engine implements. A new engine is one new module.

A backend receives the tasks that still have to run (already filtered: not done, not
stale unless --force), in dependency order, and makes each one execute through
`python -m foldrun.run.worker --spec SPEC --task KEY` (or the in-process equivalent),
which does the real work and the atomic commit of the task folder. Completion is
decided by the task folders (DONE + fingerprint) first, the scheduler second.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import ClassVar, Protocol

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


class Outcome(Enum):
    """How a task left a backend's hands: THE protocol between a backend and the runner
    (a backend's messages are for people; nothing reads them back)."""

    DONE = "done"
    FAILED = "failed"  # it ran and failed: its log says why
    BLOCKED = "blocked"  # not run: a task it depends on failed
    CANCELLED = "cancelled"  # stopped by the run while it ran or waited (`Steering`)
    PRUNED = "pruned"  # a variant the race stopped: not run (or cancelled), see race.json
    QUEUED = "queued"  # submitted, not followed (SLURM without --wait), or a dry run
    RUNNING = "running"  # submitted, not followed, and running now

    @property
    def state(self) -> TaskState:
        """The task's state as the run counts it: blocked counts as failed (it is not
        done, and its upstream failure is the run's failure); cancelled as pending (the
        race marks its own tasks pruned)."""
        return _STATE_OF[self]

    @classmethod
    def of(cls, found: TaskState) -> Outcome:
        """A scheduler's state of a task it still holds (done, failed, pending, running)."""
        return _OF_STATE.get(found, cls.QUEUED)


_STATE_OF = {
    Outcome.DONE: TaskState.DONE,
    Outcome.FAILED: TaskState.FAILED,
    Outcome.BLOCKED: TaskState.FAILED,
    Outcome.CANCELLED: TaskState.PENDING,
    Outcome.PRUNED: TaskState.PRUNED,
    Outcome.QUEUED: TaskState.PENDING,
    Outcome.RUNNING: TaskState.RUNNING,
}
_OF_STATE = {
    TaskState.DONE: Outcome.DONE,
    TaskState.FAILED: Outcome.FAILED,
    TaskState.RUNNING: Outcome.RUNNING,
}


@dataclass
class BackendResult:
    """What a backend reports back: each task's outcome (final, or for submit-and-return,
    queued or running), and messages for the user."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    @property
    def states(self) -> dict[str, TaskState]:
        """Each task's state as the run counts it (read-only: backends set `outcomes`)."""
        return {key: found.state for key, found in self.outcomes.items()}

    def blocked(self, key: str, upstream: str = "") -> None:
        """`key` was not run because a task it depends on failed."""
        self.outcomes[key] = Outcome.BLOCKED
        self.messages.append(f"{key}: not run, " + (f"upstream {upstream} failed" if upstream
                                                    else "an upstream task failed"))  # fmt: skip


class Steering(Protocol):
    """What a run decides while a backend executes (the race, as results arrive)."""

    def rank(self, task: PlannedTask) -> tuple[float, ...] | None:
        """The order ready tasks start in (lowest first; ties in the plan's order); None:
        not yet (the backend asks again after the next task ends)."""

    def ended(self, key: str, outcome: Outcome) -> Iterable[str]:
        """A task ended (any outcome, cancelled and blocked included): the tasks to cancel
        now (one not started never starts; a running one is stopped)."""


class Backend(ABC):
    name: ClassVar[str]
    # its dry run writes files that need the split (SLURM's job scripts and array files)
    dry_run_writes: ClassVar[bool] = False
    # it can run steered (`execute_steered`): tasks ranked, cancelled as results arrive
    steers: ClassVar[bool] = False

    @classmethod
    def prepare(
        cls, tasks: Sequence[PlannedTask], ctx: RunContext, gpus: Sequence[int] | None
    ) -> RunContext:
        """The context the tasks will run in, checked before anything is written (a task
        that can never fit is an error now, not a hang later); `gpus` as the user gave
        them (None: not given)."""
        return replace(ctx, gpus=tuple(gpus or ()))

    def dry_run(self, tasks: Sequence[PlannedTask], ctx: RunContext) -> None:
        """What this backend would do, shown or written for the user to do by hand (the
        plan itself is shown by the caller; a local dry run adds nothing to it)."""
        return None

    @abstractmethod
    def execute(self, tasks: Sequence[PlannedTask], ctx: RunContext) -> BackendResult:
        """Run (or submit) the tasks, respecting `task.deps` among them."""

    def execute_steered(
        self, tasks: Sequence[PlannedTask], ctx: RunContext, steering: Steering
    ) -> BackendResult:
        """`execute`, asking `steering` which ready task starts first and telling it each
        task's end; what it cancels ends as `Outcome.CANCELLED` (not done, not failed: its
        attempt leaves nothing), and so do the tasks waiting on it. Only where `steers`."""
        raise NotImplementedError(f"the {self.name} backend runs no steered execution")

    def scheduler_states(self, ctx: RunContext) -> dict[str, TaskState]:
        """Tasks the scheduler knows as queued/running/failed; local runs know none."""
        return {}

    def cancel(self, ctx: RunContext) -> int:
        """Cancel queued and running work of this run; returns how many were cancelled."""
        return 0
