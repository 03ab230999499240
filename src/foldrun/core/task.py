"""One planned task: a model × variant × fold × repeat × stage, with what it needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

STAGES = ("train", "predict", "evaluate", "refit")  # the one list of stage names, in order
FOLD_STAGES = STAGES[:3]  # the stages of a fold; refit runs once, on all the data


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
    gpus_optional: bool = False  # runs on CPU where no GPU is found (not in class_key)

    def class_key(self) -> tuple[int, int, int, int]:
        """Tasks of one stage with equal resources share one SLURM array."""
        return (self.cpus, self.gpus, self.mem_mb, self.time_min)


@dataclass(frozen=True, slots=True)
class TaskRecipe:
    """What a task runs, on what, with which settings: built by plan/ when the task is
    planned (never changed after), read by run/ and the backends.

    The fingerprint covers `kind`, `problem` (as `task`), `params`, `estimator`,
    `preprocess`, `entry`, `command`, `data`, `seed`, `input_sha256`, `code` and (for the
    stages that score) `scorers`: plan/graph.py `_payload`. The dicts are the planner's
    own, shared by the tasks of a plan; no one changes them.
    """

    run_dir: Path
    kind: str = "command"  # who runs the model: "estimator", "entry" or "command"
    problem: str = "classification"  # [data] task: classification, regression, multilabel...
    params: dict[str, Any] = field(default_factory=dict)  # model params + variant values
    estimator: str | None = None  # "module:Class"
    preprocess: tuple[str, ...] = ()  # "module:Class" steps before the estimator
    entry: str | None = None  # "module:function"
    command: str | None = None  # this stage's template; None for foldrun's own evaluate
    # manifest paths (train, val, test, holdout, external:<name>); None: no such rows
    inputs: dict[str, str | None] = field(default_factory=dict)
    upstream: dict[str, str] = field(default_factory=dict)  # stage -> its task folder
    input_sha256: dict[str, str | None] = field(default_factory=dict)  # the worker checks them
    outputs: tuple[str, ...] = ()  # files the task must leave (`a|b`: either)
    code: dict[str, str] = field(default_factory=dict)  # the user's files it runs -> sha256
    # installed modules its Python files import: their versions go to packages.json (never
    # part of the fingerprint: the environment, not the experiment)
    packages: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)  # id, target, group, features
    seed: int = 0
    spec_path: Path | None = None  # the spec's folder goes first on sys.path, and is a
    # command's working folder
    n_repeats: int = 1
    scorers: dict[str, str] = field(default_factory=dict)  # [report] scorers
    # racing ([race]: after, alpha) and what it races on; never part of a fingerprint
    race: dict[str, Any] | None = None
    primary_metric: str | None = None
    lower_is_better: tuple[str, ...] = ()
    last_in_fold: bool = False  # the fold's last stage: audit.log says "fold completed"
    # the program's own files (spec/outputs.py, as dicts): metrics files read after it
    # exits, and its predictions' file and columns
    metrics: tuple[dict[str, Any], ...] = ()
    predictions: dict[str, Any] | None = None
    # the training curves file a train or refit leaves (`curves`), as a dict; the worker
    # records where it is (curves.json); not part of the fingerprint
    curves: dict[str, Any] | None = None
    # a train-only model's train: foldrun scores the predictions it leaves, in the task
    # (no evaluate task follows); not part of the fingerprint
    scores: bool = False
    # the program's inputs as it expects them (plan/inputs.py): manifest columns kept and
    # renamed, a config file rendered from a template; None: the manifests as they are
    program_inputs: dict[str, Any] | None = None


@dataclass(frozen=True)
class PlannedTask:
    """Everything a backend needs to schedule a task; the worker re-plans to execute it.

    `key` is `model/variant/<fold dir>/stage` (`<dataset>/model/...` in a spec with
    datasets), the task folder relative to `tasks/`, and identifies the task everywhere
    (audit.log, status, SLURM array files). An inner task
    (nested selection) has `inner` >= 0 and the fold dir `fold_00/inner_01`: results and
    reports of the outer folds never read it (results/nested.py does). What it runs is
    its `recipe`.
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
    recipe: TaskRecipe = field(compare=False, hash=False)
    inner: int = -1  # the inner fold of `fold`'s training part (nested selection), else -1
    dataset: str = ""  # `[datasets.<name>]`: the key and folder start with `<name>/`

    def external_sets(self) -> list[str]:
        """`external:<name>` of every external set this task reads (its inputs)."""
        inputs = self.recipe.inputs
        return [k for k, v in inputs.items() if k.startswith("external:") and v]


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
