"""The job store of a run (`.foldrun/slurm_jobs.json`) and scheduler lines -> task states.

Each submission is one array: its job id and the task keys in array-index order, so an
element `20_3` of squeue or sacct names exactly one task.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from foldrun.core.files import write_atomic
from foldrun.core.task import TaskState
from foldrun.errors import SchedulerError
from foldrun.layout import RunLayout
from foldrun.run.backends.slurm.parse import JobRecord, classify

JOBS_FILE = "slurm_jobs.json"


@dataclass(frozen=True)
class Submission:
    """One `sbatch --array` of a run."""

    job_id: str
    stage: str
    keys: tuple[str, ...]  # line i of the array file = array index i
    array_file: str = ""
    script: str = ""
    label: str = ""
    submitted: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))


@dataclass(frozen=True)
class SchedulerTaskState:
    """What the scheduler says about one task: state, why, and which array element."""

    state: TaskState
    reason: str
    job: str  # "20_3"


def jobs_path(run_dir: Path) -> Path:
    return RunLayout(run_dir).state_dir / JOBS_FILE


def load_jobs(run_dir: Path) -> list[Submission]:
    """Every submission of this run, oldest first (empty when nothing was submitted)."""
    path = jobs_path(run_dir)
    try:
        data = json.loads(path.read_text())
        return [Submission(**{**s, "keys": tuple(s["keys"])}) for s in data["submissions"]]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SchedulerError(
            f"cannot read {JOBS_FILE} ({err}); delete it if no job of this run is queued",
            file=path,
        ) from None


def save_jobs(run_dir: Path, run_id: str, submissions: Sequence[Submission]) -> None:
    """Write the store atomically (temp file, then rename)."""
    data = {"run_id": run_id, "submissions": [asdict(s) for s in submissions]}
    write_atomic(jobs_path(run_dir), json.dumps(data, indent=1) + "\n")


def _elements(
    records: Sequence[JobRecord], submissions: Sequence[Submission]
) -> Iterator[tuple[str, int, str, JobRecord]]:
    """(task key, submission rank, "job_index", record) for each task a line speaks about."""
    by_id = {s.job_id: (rank, s) for rank, s in enumerate(submissions)}
    for record in records:
        if record.job_id not in by_id:
            continue
        rank, sub = by_id[record.job_id]
        indices = record.indices
        if indices is None:
            # a raw id (sacct -c): it names element 0 only when the array has one task
            indices = (0,) if len(sub.keys) == 1 else ()
        for index in indices:
            if 0 <= index < len(sub.keys):
                yield sub.keys[index], rank, f"{record.job_id}_{index}", record


def task_states(
    records: Sequence[JobRecord], submissions: Sequence[Submission]
) -> dict[str, SchedulerTaskState]:
    """Scheduler lines -> per task state. The newest submission of a task decides; a
    COMPLETED element says nothing (the task folder decides), so it hides older failures."""
    newest: dict[str, tuple[int, SchedulerTaskState | None]] = {}
    for key, rank, job, record in _elements(records, submissions):
        if key in newest and newest[key][0] > rank:
            continue
        mapped, reason = classify(record.state, record.reason)
        newest[key] = (rank, SchedulerTaskState(mapped, reason, job) if mapped else None)
    return {key: found for key, (_, found) in newest.items() if found is not None}
