"""One planned task: a model × variant × fold × repeat × stage, with what it needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

STAGES = ("train", "predict", "evaluate", "refit")


class TaskState(str, Enum):  # noqa: UP042 (str() and pickles stay as they are)
    DONE = "done"
    RUNNING = "running"
    FAILED = "failed"
    PENDING = "pending"
    STALE = "stale"
    CORRUPT = "corrupt"  # DONE, but DONE or an output does not read back whole
    PRUNED = "pruned"  # stopped by a race ([race]): never run while its settings stay


@dataclass(frozen=True)
class Resources:
    cpus: int = 1
    gpus: int = 0
    mem_mb: int = 4096
    time_min: int = 60

    def class_key(self) -> tuple[int, int, int, int]:
        """Tasks of one stage with equal resources share one SLURM array."""
        return (self.cpus, self.gpus, self.mem_mb, self.time_min)


@dataclass(frozen=True)
class PlannedTask:
    """Everything a backend needs to schedule a task; the worker re-plans to execute it.

    `key` is `model/variant/<fold dir>/stage` (`<dataset>/model/...` in a spec with
    datasets), the task folder relative to `tasks/`, and identifies the task everywhere
    (audit.log, status, SLURM array files). An inner task
    (nested selection) has `inner` >= 0 and the fold dir `fold_00/inner_01`: results and
    reports of the outer folds never read it (results/nested.py does).
    """

    key: str
    model: str
    variant: str
    fold: int  # -1 for refit
    repeat: int
    stage: str
    deps: tuple[str, ...]
    resources: Resources
    fingerprint: str
    task_dir: Path
    meta: dict[str, object] = field(default_factory=dict, compare=False, hash=False)
    inner: int = -1  # the inner fold of `fold`'s training part (nested selection), else -1
    dataset: str = ""  # `[datasets.<name>]`: the key and folder start with `<name>/`

    def external_sets(self) -> list[str]:
        """`external:<name>` of every external set this task reads (its inputs)."""
        inputs = self.meta.get("inputs") or {}
        return [k for k, v in inputs.items() if k.startswith("external:") and v]  # type: ignore[union-attr]


def matches(
    task: PlannedTask,
    models: Sequence[str],
    folds: Sequence[int],
    stages: Sequence[str],
    datasets: Sequence[str] = (),
) -> bool:
    """Whether a task is in the subset of --models (model or model/variant), --folds,
    --stages and --datasets."""
    if datasets and task.dataset not in datasets:
        return False
    if models and task.model not in models and f"{task.model}/{task.variant}" not in models:
        return False
    if folds and task.fold not in folds:
        return False
    return not stages or task.stage in stages
