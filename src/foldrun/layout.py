"""Where every file of a run folder (RunLayout) and of a split folder (SplitLayout) lives.
All code builds those paths through here (tests/test_owners.py checks it on the AST)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from foldrun.core.state import DONE, METRICS, PREDICTIONS
from foldrun.core.strategies import MANIFEST_FORMATS

# the fold dir of a task key, its one format (core/taskid.py owns the key)
from foldrun.core.taskid import (  # noqa: F401
    FOLD,
    INNER,
    REFIT_FOLD,
    REPEAT,
    fold_dir_name,
    part_glob,
    part_name,
    part_number,
)

MANIFESTS = ("train", "val", "test")  # the manifests of a fold folder (val: when it has one)
INNER_MANIFESTS = ("train", "test")  # the manifests of an inner fold folder


class TaskFiles:
    """The names of the files foldrun writes in a task folder (docs/ARCHITECTURE.md "Run
    folder"); core/state.py owns the three it judges (DONE and the outputs)."""

    DONE = DONE  # the fingerprint, written last by an atomic rename
    METRICS = METRICS  # flat `<subset>/<metric>` numbers
    PREDICTIONS = PREDICTIONS  # id, subset, pred / proba_<class> / score (y_true)
    RESOURCES = "resources.json"  # started, ended, wall_s, cpu_s, peak_mb, exit_code ...
    LOG = "train.log"  # stdout and stderr, the command first
    COMMAND = "cmd.txt"  # the resolved command (or estimator + params)
    PARAMS = "params.json"
    CODE = "code.json"  # the hashes of the user's files the task ran
    POINTS = "metrics.jsonl"  # foldrun.log's points (and a program's own lines)
    NAMES = (DONE, METRICS, PREDICTIONS, RESOURCES, LOG, COMMAND, PARAMS, CODE, POINTS)


def numbered(base: Path, word: str) -> list[int]:
    """The numbers of the `<word>_NN` folders in `base` (FOLD, REPEAT, INNER: a fold dir's
    parts, core/taskid.py), in listing order; [] when `base` is no folder."""
    try:
        names = os.listdir(base)
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = [(n, part_number(n, word)) for n in names]
    return [i for n, i in found if i is not None and (base / n).is_dir()]


@dataclass(frozen=True)
class SplitLayout:
    """The files of one split folder (`foldrun split --out`, a run's `split/`, a `[split]
    from` folder): split/store.py writes them; planning, results, reports and a program's
    {assignments} read them here.

    details.json (the marker: foldrun made the folder), assignments.csv, assignments.json,
    folds.parquet, holdout.<fmt>, `<fold dir>/{train,val,test}.<fmt>`,
    `<fold dir>/inner_NN/{train,test}.<fmt>` (fold dir: core/taskid.py; fmt: csv|parquet)."""

    root: Path

    MARKER: ClassVar[str] = "details.json"
    FILES: ClassVar[tuple[str, ...]] = (
        MARKER, "assignments.csv", "assignments.json", "folds.parquet"
    )

    @property
    def details(self) -> Path:
        return self.root / self.MARKER

    @property
    def assignments_csv(self) -> Path:
        return self.root / "assignments.csv"

    @property
    def assignments_json(self) -> Path:
        """{"key": column, "repeats": [{value: test fold}]} (a program's {assignments})."""
        return self.root / "assignments.json"

    @property
    def folds_parquet(self) -> Path:
        """The long table: id, repeat, fold, subset."""
        return self.root / "folds.parquet"

    def holdout(self, fmt: str) -> Path:
        return self.root / f"holdout.{fmt}"

    def find_holdout(self) -> Path | None:
        """The holdout manifest on disk (CSV first), None when the split has none."""
        return next((p for x in MANIFEST_FORMATS if (p := self.holdout(x)).is_file()), None)

    def fold_dir(self, fold: int, repeat: int = 0, n_repeats: int = 1) -> Path:
        return self.root / fold_dir_name(fold, repeat, n_repeats)

    @staticmethod
    def inner_dir(fold_folder: Path, inner: int) -> Path:
        return fold_folder / part_name(INNER, inner)

    @staticmethod
    def manifest(folder: Path, subset: str, fmt: str) -> Path:
        """`<folder>/<subset>.<fmt>` (train, val, test)."""
        return folder / f"{subset}.{fmt}"

    def repeats(self) -> list[int]:
        """The numbers of the `repeat_NN` folders, sorted ([]: a split of one repeat)."""
        return sorted(numbered(self.root, REPEAT))

    def folds_in(self, repeat: int | None = None) -> list[tuple[int, Path]]:
        """(fold, folder) of the fold folders of `repeat` (None: a split without repeat
        folders), sorted."""
        base = self.root if repeat is None else self.root / part_name(REPEAT, repeat)
        return [(f, base / part_name(FOLD, f)) for f in sorted(numbered(base, FOLD))]

    @staticmethod
    def inners_in(fold_folder: Path) -> list[tuple[int, Path]]:
        """(inner, folder) of a fold folder's inner folds, sorted."""
        found = sorted(numbered(fold_folder, INNER))
        return [(i, SplitLayout.inner_dir(fold_folder, i)) for i in found]

    def manifest_format(self) -> str:
        """The format of the folder's manifests: "parquet" or "csv"."""
        first = part_glob(FOLD)
        for fold_dirs in (first, f"{part_glob(REPEAT)}/{first}"):
            if next(self.root.glob(f"{fold_dirs}/train.parquet"), None) is not None:
                return "parquet"
        return "csv"

    @classmethod
    def owned_patterns(cls) -> tuple[str, ...]:
        """Every file a split folder foldrun made may hold (core/owned.py replaces only
        such a folder)."""
        fold = part_glob(FOLD, digits=True)
        dirs = (fold, f"{part_glob(REPEAT, digits=True)}/{fold}")
        inner = part_glob(INNER, digits=True)
        return (
            *cls.FILES,
            *(f"holdout.{x}" for x in MANIFEST_FORMATS),
            *(f"{d}/{s}.{x}" for d in dirs for s in MANIFESTS for x in MANIFEST_FORMATS),
            *(f"{d}/{inner}/{s}.{x}" for d in dirs for s in INNER_MANIFESTS
              for x in MANIFEST_FORMATS),
        )  # fmt: skip


@dataclass(frozen=True)
class RunLayout:
    """The paths of one run folder (`runs/<name>/`).

    With `dataset` (a spec's `[datasets.<name>]`), the paths of that dataset: its tasks
    (`tasks/<dataset>/`), split (`split/<dataset>/`), result tables (`results/<dataset>/`)
    and planning records (`.foldrun/datasets/<dataset>/`); the audit log, the lock, the
    scheduler's files and the report stay the run's."""

    root: Path
    dataset: str | None = None

    def _own(self, path: Path) -> Path:
        return path / self.dataset if self.dataset else path

    @property
    def split_dir(self) -> Path:
        return self._own(self.root / "split")

    @property
    def split(self) -> SplitLayout:
        """The run's own split folder (`split_dir`); `used_split` is the one tasks use."""
        return SplitLayout(self.split_dir)

    @property
    def tasks_dir(self) -> Path:
        return self._own(self.root / "tasks")

    @property
    def records_dir(self) -> Path:
        """The planning records of the run (or of its dataset): split.json, data.json,
        split_from.json, the refit manifest."""
        return self._own(self.state_dir / "datasets") if self.dataset else self.state_dir

    @property
    def audit_log(self) -> Path:
        return self.root / "audit.log"

    @property
    def results_dir(self) -> Path:
        return self._own(self.root / "results")

    @property
    def report_dir(self) -> Path:
        return self.root / "report"

    @property
    def slurm_dir(self) -> Path:
        return self.root / "slurm"

    @property
    def state_dir(self) -> Path:
        """foldrun's private bookkeeping (lock, scheduler job ids, tmp task folders)."""
        return self.root / ".foldrun"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / "lock"

    @property
    def worker_log(self) -> Path:
        """What workers print outside a task's own train.log (a crash before it opened)."""
        return self.state_dir / "worker.log"

    @property
    def checkpoints_dir(self) -> Path:
        return self.state_dir / "checkpoints"

    def checkpoint_dir(self, key: str) -> Path:
        """`FOLDRUN_CHECKPOINT_DIR` of a task (its key, core/taskid.py): it survives retries
        and requeues, so it lives outside the task folder (the SLURM job script's too)."""
        return self.checkpoints_dir / key

    def task_path(self, key: str) -> Path:
        """The folder of the task `key` (core/taskid.py: the key is its path under
        `tasks/`, its dataset first; so this is the run's `tasks/`, never a dataset's)."""
        return self.root / "tasks" / key

    def recorded_datasets(self) -> list[str]:
        """The datasets planning recorded in this run folder (`[datasets]`), sorted; []
        for a run without datasets."""
        try:
            found = (self.state_dir / "datasets").iterdir()
            return sorted(p.name for p in found if p.is_dir())
        except OSError:
            return []

    def holds_plain_run(self) -> bool:
        """Whether planning recorded the split of a run without datasets here (its
        split.json, or split_from.json), which a spec with `[datasets]` must not mix with."""
        return any((self.state_dir / n).is_file() for n in ("split.json", "split_from.json"))

    @property
    def split_record(self) -> Path:
        """The options and data sha256 the run's split was made with (plan/split.py)."""
        return self.records_dir / "split.json"

    @property
    def data_cache(self) -> Path:
        """What planning read from the data table, kept while the table is unchanged."""
        return self.records_dir / "data.json"

    @property
    def split_from_file(self) -> Path:
        """Where a run that reuses a split (`[split] from`) records that folder."""
        return self.records_dir / "split_from.json"

    def used_split(self) -> Path:
        """The split folder the run's tasks use: its own split/, else the `from` folder it
        recorded (results and reports read details.json and folds.parquet there)."""
        if self.split_dir.is_dir():
            return self.split_dir
        try:
            recorded = json.loads(self.split_from_file.read_text())["from"]
        except (OSError, ValueError, KeyError, TypeError):
            return self.split_dir
        return Path(str(recorded))

    def task_dir(
        self, model: str, variant: str, fold: int, stage: str, repeat: int = 0, n_repeats: int = 1
    ) -> Path:
        return self.tasks_dir / model / variant / fold_dir_name(fold, repeat, n_repeats) / stage
