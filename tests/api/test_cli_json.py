"""`--format json` of run, status and check: one JSON object on stdout, for scripts and
Airflow; the exit codes stay those of the text output."""

from __future__ import annotations

import json
from pathlib import Path

from tests.reliability.helpers import foldrun, project


def _json(*argv: str, cwd: Path) -> tuple[int, dict]:
    done = foldrun(*argv, "--format", "json", cwd=cwd)
    return done.returncode, json.loads(done.stdout)  # the whole stdout is one object


def test_run_status_check_as_json(tmp_path: Path) -> None:
    project(tmp_path, folds=2, grid=1)
    code, checked = _json("check", "foldrun.toml", cwd=tmp_path)
    assert code == 0 and checked["ok"] is True and checked["problems"] == []
    code, status = _json("status", "foldrun.toml", cwd=tmp_path)
    assert code == 1 and status["complete"] is False and status["counts"] == {"pending": 6}
    code, dry = _json("run", "foldrun.toml", "--dry-run", cwd=tmp_path)
    assert code == 0 and len(dry["would_run"]) == 6
    code, ran = _json("run", "foldrun.toml", "--folds", "1", cwd=tmp_path)
    assert code == 0 and sorted(ran["ran"]) == sorted(
        f"toy/k0/fold_01/{s}" for s in ("train", "predict", "evaluate"))
    assert ran["counts"]["done"] == 3 and ran["failures"] == []
    code, status = _json("status", "foldrun.toml", cwd=tmp_path)
    states = {t["key"]: t["state"] for t in status["tasks"]}
    assert states["toy/k0/fold_01/evaluate"] == "done"
    assert states["toy/k0/fold_00/evaluate"] == "pending"


def test_check_json_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    spec = project(tmp_path, folds=2, grid=1)
    text = spec.read_text().replace('target = "target"', 'target = "nope"')
    spec.write_text(text.replace("folds = 2", "folds = 1"))
    code, checked = _json("check", "foldrun.toml", cwd=tmp_path)
    assert code == 2 and checked["ok"] is False
    assert any("nope" in p for p in checked["problems"])
    assert any("folds" in p for p in checked["problems"])


def test_failed_task_in_run_json(tmp_path: Path) -> None:
    project(tmp_path, folds=2, grid=1)
    (tmp_path / "fault-toy_k0_0_train").write_text("kill")
    code, ran = _json("run", "foldrun.toml", cwd=tmp_path)
    assert code == 1
    assert [f["key"] for f in ran["failures"]] == ["toy/k0/fold_00/train"]
    assert ran["not_run_upstream_failed"] == ["toy/k0/fold_00/predict", "toy/k0/fold_00/evaluate"]
    text = foldrun("run", "foldrun.toml", cwd=tmp_path)  # the fault was one-off: now it runs
    assert text.returncode == 0 and "3 task(s) run, 3 already done" in text.stdout


def test_text_summary_separates_failed_and_not_run(tmp_path: Path) -> None:
    project(tmp_path, folds=2, grid=1)
    (tmp_path / "fault-toy_k0_1_train").write_text("kill")
    done = foldrun("run", "foldrun.toml", cwd=tmp_path)
    assert done.returncode == 1
    assert "4 task(s) run, 1 failed, 2 not run because an upstream task failed" in done.stdout
