"""Training curves read from a task folder (results/curves.py): the long form of seed 003's
epoch logs, the wide form, foldrun.log's own lines, and unreadable lines counted."""

from __future__ import annotations

import json
from pathlib import Path

from foldrun.results import curves

LONG = [
    {"run_id": "r", "timestamp": "t", "step": 1, "epoch": 1, "phase": "train", "metric": "loss",
     "value": 0.62},
    {"run_id": "r", "timestamp": "t", "step": 1, "epoch": 1, "phase": "val", "metric": "loss",
     "value": 0.51},
    {"step": 2, "epoch": 2, "phase": "train", "metric": "loss", "value": 0.4},
    {"step": 2, "epoch": 2, "phase": "train", "metric": "f1", "value": 0.7},
]  # fmt: skip


def _jsonl(path: Path, records: list[object], tail: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    return path


def test_long_lines_are_curves_per_metric_and_phase(tmp_path: Path) -> None:
    _jsonl(tmp_path / "metrics.jsonl", LONG)
    found = curves.task_curves(tmp_path)
    assert found.unreadable == 0
    assert [(n, s, v) for n, s, v, _ in found.points] == [
        ("train/loss", 1, 0.62), ("val/loss", 1, 0.51), ("train/loss", 2, 0.4),
        ("train/f1", 2, 0.7)]  # fmt: skip


def test_unreadable_lines_are_counted_never_drawn(tmp_path: Path) -> None:
    bad = [{"phase": "train", "metric": "loss", "value": "high"}, [1, 2], {"phase": "val"}]
    _jsonl(tmp_path / "metrics.jsonl", [*LONG[:2], *bad], tail='{"step": 3, "pha')
    found = curves.task_curves(tmp_path)
    assert len(found.points) == 2 and found.unreadable == 4


def test_foldrun_log_lines_still_read_with_a_count_per_name_for_missing_steps(
    tmp_path: Path,
) -> None:
    rows = [{"name": "val_loss", "value": 1.0, "step": float("nan"), "time": 5.0},
            {"name": "lr", "value": 0.1, "step": None, "time": 6.0},
            {"name": "val_loss", "value": 0.5, "step": None, "time": 7.0}]  # fmt: skip
    _jsonl(tmp_path / "metrics.jsonl", rows)
    found = curves.task_curves(tmp_path)
    assert found.points == [("val_loss", 0, 1.0, 5.0), ("lr", 0, 0.1, 6.0),
                            ("val_loss", 1, 0.5, 7.0)]  # fmt: skip


def test_a_declared_wide_csv_and_a_long_csv(tmp_path: Path) -> None:
    (tmp_path / "history.csv").write_text("epoch,train_loss,val_loss\n1,0.9,1.0\n2,0.5,x\n")
    (tmp_path / "curves.json").write_text('{"file": "history.csv", "format": "wide"}')
    found = curves.task_curves(tmp_path)
    assert [(n, s, v) for n, s, v, _ in found.points] == [
        ("train_loss", 1, 0.9), ("val_loss", 1, 1.0), ("train_loss", 2, 0.5)]  # fmt: skip
    assert curves.has_curves(tmp_path) and not (tmp_path / "metrics.jsonl").exists()
    long = tmp_path / "long.csv"
    long.write_text("epoch,phase,metric,value\n1,train,acc,0.5\n1,val,acc,0.4\n2,val,acc,n/a\n")
    read = curves.read_file(long, "long")
    assert [(n, v) for n, _, v, _ in read.points] == [("train/acc", 0.5), ("val/acc", 0.4)]
    assert read.unreadable == 1


def test_a_declared_metrics_jsonl_is_read_once(tmp_path: Path) -> None:
    _jsonl(tmp_path / "metrics.jsonl", LONG)
    (tmp_path / "curves.json").write_text('{"file": "metrics.jsonl", "format": "long"}')
    assert len(curves.task_curves(tmp_path).points) == len(LONG)
