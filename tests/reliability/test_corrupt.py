"""Task folders that no longer read back whole, and failed tasks, through the console script:
a DONE task with a truncated output (or DONE) is `corrupt` in status, report and results,
a plain `foldrun run` redoes it, the results cache never keeps its old numbers, and a failed
task is one task, never two."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reliability.helpers import check_folders, counts, invoke, project, tasks_dir

pytestmark = pytest.mark.slow

EVALUATE = "toy/k0/fold_01/evaluate"


def _run(tmp_path: Path, **kwargs) -> tuple[Path, Path]:
    spec = project(tmp_path, grid=1, folds=4, **kwargs)
    ran = invoke("run", str(spec), "--jobs", "2")
    assert ran.returncode == 0, ran.stderr
    return tmp_path, spec


def _finished(tmp_path: Path, toy_run: Callable[..., Path]) -> tuple[Path, Path]:
    """_run's project, finished: a copy of the session's run (conftest.toy_run)."""
    return tmp_path, toy_run(tmp_path, grid=1, folds=4)


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _summary(spec: Path) -> dict:
    made = invoke("report", str(spec))
    assert made.returncode == 0, made.stderr
    return json.loads((spec.parent / "runs/toy/report/cv_summary.json").read_text())


def _auc(summary: dict) -> dict:
    return next(v for v in summary["variants"] if v["metric"] == "roc_auc")


@pytest.mark.parametrize("damage", ["metrics.json", "predictions.parquet", "DONE", "DONE-dir"])
def test_corrupt_task_is_shown_counted_and_rerun(tmp_path: Path, damage: str,
                                                 toy_run: Callable[..., Path]) -> None:
    root, spec = _finished(tmp_path, toy_run)
    whole = _auc(_summary(spec))
    folder = tasks_dir(root) / EVALUATE
    if damage == "DONE-dir":
        (folder / "DONE").unlink()
        (folder / "DONE").mkdir()
    else:
        _truncate(folder / damage)
    status = invoke("status", str(spec))
    assert status.returncode == 1, status.stdout  # not every task is done
    assert "corrupt" in status.stdout and "1 corrupt" in status.stdout, status.stdout
    summary = _summary(spec)
    assert summary["tasks"]["corrupt"] == 1 and summary["tasks"]["done"] == 11
    assert any("fold_01/evaluate (corrupt)" in m for m in summary["missing"])
    assert _auc(summary)["n"] == 3  # said, not silently dropped: the fold is listed above
    before = counts(root)
    rerun = invoke("run", str(spec))  # no --force: foldrun made the folder, it replaces it
    assert rerun.returncode == 0, rerun.stderr
    assert counts(root) == before  # only the evaluate stage ran again (it writes no counter)
    assert invoke("status", str(spec)).returncode == 0
    check_folders(root)
    assert _auc(_summary(spec)) == whole


def test_results_cache_follows_changed_and_truncated_files(
    tmp_path: Path, toy_run: Callable[..., Path]
) -> None:
    root, spec = _finished(tmp_path, toy_run)
    first = _auc(_summary(spec))  # builds results/*.parquet
    metrics = tasks_dir(root) / EVALUATE / "metrics.json"
    values = json.loads(metrics.read_text())
    values["test/roc_auc"] = 0.0 if values["test/roc_auc"] > 0.5 else 1.0
    metrics.write_text(json.dumps(values))  # DONE untouched
    changed = _auc(_summary(spec))
    assert changed["n"] == 4 and changed["mean"] != pytest.approx(first["mean"])
    _truncate(metrics)
    summary = _summary(spec)
    assert summary["tasks"].get("corrupt") == 1
    assert _auc(summary)["n"] == 3


def test_failed_task_is_counted_once(tmp_path: Path) -> None:
    spec = project(tmp_path, grid=1, folds=4)
    (tmp_path / "fault-toy_k0_1_train").write_text("kill")
    ran = invoke("run", str(spec), "--jobs", "2")
    assert ran.returncode == 1
    assert (tasks_dir(tmp_path) / "toy/k0/fold_01/train.failed").is_dir()
    status = invoke("status", str(spec))
    assert "9 done" in status.stdout and "1 failed" in status.stdout, status.stdout
    summary = _summary(spec)
    assert summary["tasks"]["total"] == 12, summary["tasks"]
    assert summary["tasks"]["failed"] == 1 and summary["tasks"]["done"] == 9
    query = invoke("query", str(spec), "SELECT count(*) AS n FROM tasks")
    assert query.returncode == 0, query.stderr
    assert "12" in query.stdout, query.stdout


def test_task_own_test_metric_is_not_averaged_with_evaluate(tmp_path: Path) -> None:
    # train writes its own test/roc_auc (and a metric evaluate does not compute)
    metrics = """'{"test/roc_auc": 0.99, "test/own_score": 2.0}'"""
    own = f"echo {metrics} > $FOLDRUN_TASK_DIR/metrics.json && "
    root, spec = _run(tmp_path, prefix=own)
    summary = _summary(spec)
    auc = _auc(summary)
    assert auc["n"] == 4  # one value per fold: evaluate's
    evaluated = [
        json.loads((tasks_dir(root) / f"toy/k0/fold_{f:02d}/evaluate/metrics.json").read_text())
        for f in range(4)
    ]
    assert auc["mean"] == pytest.approx(sum(m["test/roc_auc"] for m in evaluated) / 4)
    own_score = next(v for v in summary["metrics"] if v["metric"] == "own_score")
    assert own_score["n"] == 4 and own_score["mean"] == 2.0  # evaluate has none: train's counts
