"""core/taskid.py: the one format and parse of a task key and its fold dir (issue 23)."""

from __future__ import annotations

import pytest

from foldrun.core.audit import audit_line, split_key
from foldrun.core.taskid import TaskId, fold_dir_name, parse_fold_dir
from foldrun.layout import RunLayout
from foldrun.layout import fold_dir_name as layout_fold_dir_name
from foldrun.results.collect import parse_fold_dir as outer_fold_dir
from foldrun.results.collect import read_audit

KEYS = {
    "m/v/fold_00/train": TaskId("m", "v", 0, "train"),
    "m/v/all/refit": TaskId("m", "v", -1, "refit"),
    "d/m/v/repeat_01/fold_02/predict": TaskId("m", "v", 2, "predict", 1, dataset="d",
                                              repeated=True),
    "m/v/repeat_00/fold_03/evaluate": TaskId("m", "v", 3, "evaluate", 0, repeated=True),
    "m/v/fold_00/inner_01/train": TaskId("m", "v", 0, "train", inner=1),
    # variants named like fold parts are no fold parts: read from the end, never by prefix
    "m/inner_relu/fold_00/train": TaskId("m", "inner_relu", 0, "train"),
    "d/fold_x/all_v/fold_04/train": TaskId("fold_x", "all_v", 4, "train", dataset="d"),
    "d/m/v/all/refit": TaskId("m", "v", -1, "refit", dataset="d"),
}


@pytest.mark.parametrize("key", sorted(KEYS))
def test_a_key_parses_and_formats_back_to_itself(key: str) -> None:
    task = TaskId.parse(key)
    assert task == KEYS[key]
    assert task.key == key == str(task) == task.path
    fold_dir, model_variant, stage = split_key(key)
    assert (fold_dir, model_variant, stage) == (task.fold_dir, task.model_variant, task.stage)
    assert TaskId.of_parts(model_variant, fold_dir, stage) == task


@pytest.mark.parametrize("text", ["", "m/v", "m/v/train", "m/v/fold_0x/train",
                                  "a/b/c/d/fold_00/train", "m//fold_00/train",
                                  "m/v/repeat_01/train"])  # fmt: skip
def test_what_is_no_key_parses_to_none(text: str) -> None:
    assert TaskId.parse(text) is None


def test_the_layout_and_the_results_use_the_one_fold_dir() -> None:
    assert layout_fold_dir_name is fold_dir_name
    assert fold_dir_name(3, 1, 2) == "repeat_01/fold_03"
    assert fold_dir_name(0, 0, 1, inner=2) == "fold_00/inner_02"
    assert parse_fold_dir("repeat_01/fold_03") == (3, 1, -1)
    assert parse_fold_dir(["fold_00", "inner_02"]) == (0, 0, 2)
    assert outer_fold_dir(["fold_00", "inner_02"]) is None  # the outer tables skip them
    assert outer_fold_dir(["all"]) == (-1, 0)
    path = RunLayout(__import__("pathlib").Path("/r")).task_dir("m", "v", 1, "train", 1, 2)
    assert path.as_posix() == "/r/tasks/m/v/repeat_01/fold_01/train"


def test_the_audit_log_reads_back_what_it_writes_for_every_key(tmp_path) -> None:
    log = tmp_path / "audit.log"
    log.write_text("".join(audit_line(k, "failed") for k in KEYS))
    plain = read_audit(log)
    outer = {k: t for k, t in KEYS.items() if t.inner < 0}
    assert set(plain) == {(t.model, t.variant, t.fold, t.repeat, t.stage)
                          for t in outer.values() if not t.dataset}  # fmt: skip
    assert set(read_audit(log, "d")) == {(t.model, t.variant, t.fold, t.repeat, t.stage)
                                         for t in outer.values() if t.dataset == "d"}  # fmt: skip
