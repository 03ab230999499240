"""One rule for a task folder's state (state.disk_state): a DONE folder whose DONE or
outputs do not read back whole is `corrupt`, never done and never stale, and never crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from foldrun.core import state
from foldrun.core.task import TaskState

FP = "a" * 64


def _done_task(root: Path) -> Path:
    task = root / "tasks/m/v/fold_00/evaluate"
    task.mkdir(parents=True)
    (task / "metrics.json").write_text(json.dumps({"test/roc_auc": 0.7}))
    pd.DataFrame({"id": ["a", "b"], "pred": [0, 1]}).to_parquet(task / "predictions.parquet")
    state.write_done(task, FP)
    return task


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_whole_folder_is_done_or_stale(tmp_path: Path) -> None:
    task = _done_task(tmp_path)
    assert state.disk_state(task, FP) == TaskState.DONE
    assert state.disk_state(task, "b" * 64) == TaskState.STALE
    assert state.read_fingerprint(task) == FP


@pytest.mark.parametrize("name", ["metrics.json", "predictions.parquet", "DONE"])
def test_truncated_file_is_corrupt(tmp_path: Path, name: str) -> None:
    task = _done_task(tmp_path)
    _truncate(task / name)
    assert state.disk_state(task, FP) == TaskState.CORRUPT
    assert state.disk_state(task, "b" * 64) == TaskState.CORRUPT  # not stale either
    assert state.read_fingerprint(task) != FP  # a worker never skips it as done


@pytest.mark.parametrize("damage", ["empty", "folder", "metrics-list", "binary"])
def test_odd_files_read_as_corrupt_without_crashing(tmp_path: Path, damage: str) -> None:
    task = _done_task(tmp_path)
    if damage == "empty":
        (task / "DONE").write_text("")
    elif damage == "folder":
        (task / "DONE").unlink()
        (task / "DONE").mkdir()
    elif damage == "metrics-list":
        (task / "metrics.json").write_text("[1, 2]\n")
    else:
        (task / "DONE").write_bytes(b"\xff\xfe\x00garbage")
    assert state.disk_state(task, FP) == TaskState.CORRUPT
    assert state.read_fingerprint(task) is None


def test_no_done_is_pending_or_failed(tmp_path: Path) -> None:
    task = tmp_path / "tasks/m/v/fold_00/train"
    assert state.disk_state(task, FP) == TaskState.PENDING
    state.failed_dir(task).mkdir(parents=True)
    assert state.disk_state(task, FP) == TaskState.FAILED
