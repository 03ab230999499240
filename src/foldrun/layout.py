"""Where every file of a run folder lives. All code builds paths through here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# the fold dir of a task key, its one format (core/taskid.py owns the key)
from foldrun.core.taskid import REFIT_FOLD, fold_dir_name  # noqa: F401


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
