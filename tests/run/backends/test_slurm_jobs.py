"""The job store and the mapping of scheduler lines to task keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from foldrun.core.task import TaskState
from foldrun.errors import SchedulerError
from foldrun.run.backends.slurm.jobs import Submission, load_jobs, save_jobs, task_states
from foldrun.run.backends.slurm.parse import parse_sacct, parse_squeue

FIRST = Submission("20", "train", ("a/v/fold_00/train", "a/v/fold_01/train"))
RETRY = Submission("31", "train", ("a/v/fold_01/train",))


def test_store_round_trip_is_atomic(tmp_path: Path) -> None:
    save_jobs(tmp_path, "run-abc", [FIRST, RETRY])
    assert load_jobs(tmp_path) == [FIRST, RETRY]
    assert [p.name for p in (tmp_path / ".foldrun").iterdir()] == ["slurm_jobs.json"]


def test_damaged_store_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / ".foldrun").mkdir()
    (tmp_path / ".foldrun" / "slurm_jobs.json").write_text("{not json")
    with pytest.raises(SchedulerError, match="delete it if no job of this run is queued"):
        load_jobs(tmp_path)


@pytest.mark.parametrize("reverse", [False, True])
def test_newest_submission_decides_whatever_the_line_order(reverse: bool) -> None:
    lines = ["20_0|RUNNING|None|n", "20_1|FAILED|NonZeroExitCode|n", "31_0|COMPLETED|None|n"]
    states = task_states(parse_squeue("\n".join(lines[::-1] if reverse else lines)), [FIRST, RETRY])
    assert states["a/v/fold_00/train"].state is TaskState.RUNNING
    assert "a/v/fold_01/train" not in states  # its retry completed: the folder decides


def test_pending_range_maps_each_element() -> None:
    states = task_states(parse_squeue("20_[0-1%1]|PENDING|JobArrayTaskLimit|n\n"), [FIRST])
    assert {s.job for s in states.values()} == {"20_0", "20_1"}
    assert all(s.reason == "JobArrayTaskLimit" for s in states.values())


def test_raw_ids_name_a_task_only_for_one_task_arrays() -> None:
    out = "20|n|FAILED|1:0\n31|n|FAILED|2:0\n77|other|FAILED|1:0\n"
    states = task_states(parse_sacct(out), [FIRST, RETRY])
    assert list(states) == ["a/v/fold_01/train"]
    assert states["a/v/fold_01/train"].reason == "FAILED (exit code 2:0)"
