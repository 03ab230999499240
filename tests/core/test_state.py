"""core/state: a committed task folder's predictions.parquet damaged after the commit
(a data page's bytes changed, header and footer whole) is corrupt, never done; a valid
Parquet file put in its place reads back whole and stays done."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from foldrun.core import state
from foldrun.core.task import TaskState
from foldrun.run.adapters.common import write_predictions

FINGERPRINT = "f" * 64


def _committed(tmp_path: Path) -> Path:
    """A predict folder committed by state.finish, predictions written as a task does."""
    folder = tmp_path / "tasks/m/default/fold_00/predict"
    folder.mkdir(parents=True)
    preds = pd.DataFrame({"id": ["a", "b", "c"], "subset": "test", "pred": [1, 0, 1],
                          "proba_1": [0.8, 0.1, 0.9]})  # fmt: skip
    write_predictions(preds, folder)
    (folder / "metrics.json").write_text(json.dumps({"test/accuracy": 1.0}))
    state.finish(folder, FINGERPRINT, None)
    return folder


def flip_a_value(path: Path) -> None:
    """Change one bit of proba_1's last value (its dictionary page), in place: the file
    keeps its size, header and footer, and reads back with another number unless its
    pages' checksums are verified."""
    column = pq.ParquetFile(path).metadata.row_group(0).column(3)
    assert column.path_in_schema == "proba_1"
    data = bytearray(path.read_bytes())
    data[column.data_page_offset - 1] ^= 0x01
    time.sleep(0.05)  # a later write than the commit's, as any damage is
    path.write_bytes(bytes(data))


def test_a_committed_folder_is_done(tmp_path: Path) -> None:
    folder = _committed(tmp_path)
    assert state.disk_state(folder, FINGERPRINT) == TaskState.DONE
    assert state.read_fingerprint(folder) == FINGERPRINT


def test_a_data_page_changed_after_the_commit_makes_the_folder_corrupt(tmp_path: Path) -> None:
    folder = _committed(tmp_path)
    flip_a_value(folder / "predictions.parquet")
    assert state.disk_state(folder, FINGERPRINT) == TaskState.CORRUPT
    assert state.read_fingerprint(folder) is None


def test_a_valid_parquet_file_put_in_its_place_stays_done(tmp_path: Path) -> None:
    folder = _committed(tmp_path)
    path = folder / "predictions.parquet"
    time.sleep(0.05)
    pq.write_table(pq.read_table(path).slice(0, 1), path)  # no page checksums
    assert state.disk_state(folder, FINGERPRINT) == TaskState.DONE


def test_a_task_that_wrote_no_predictions_stays_done(tmp_path: Path) -> None:
    folder = tmp_path / "tasks/m/default/fold_00/train"
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text("{}")
    state.finish(folder, FINGERPRINT, None)
    assert (folder / state.WROTE).read_text() == "metrics.json\n"
    assert state.disk_state(folder, FINGERPRINT) == TaskState.DONE


def test_a_folder_recorded_with_names_only_keeps_the_ends_check(tmp_path: Path) -> None:
    """A folder committed before the record held the file's stamp (names only)."""
    folder = _committed(tmp_path)
    (folder / state.WROTE).write_text("metrics.json\npredictions.parquet\n")
    assert state.disk_state(folder, FINGERPRINT) == TaskState.DONE
    (folder / "predictions.parquet").write_bytes(b"PAR1" + b"\0" * 8)
    assert state.disk_state(folder, FINGERPRINT) == TaskState.CORRUPT


@pytest.mark.xfail(strict=True, reason=(
    "the commit's stamp is size:mtime (kept by cp -p / rsync -a so a copied run is not "
    "read whole), so a page damaged in place with the mtime put back (touch -r, bit rot) "
    "is never read against its checksums: done, and its other number reaches the tables"))
def test_a_data_page_changed_with_its_mtime_put_back_makes_the_folder_corrupt(
    tmp_path: Path,
) -> None:
    folder = _committed(tmp_path)
    path = folder / "predictions.parquet"
    before = path.stat()
    flip_a_value(path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert state.disk_state(folder, FINGERPRINT) == TaskState.CORRUPT
