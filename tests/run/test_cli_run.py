"""`foldrun run` and `foldrun status` on a real spec (command model, hand-written split)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from foldrun.cli import cli
from foldrun.cli.run import expand_multi
from tests.reliability.helpers import invoke
from tests.run.helpers import toy_project


def _counts(root: Path) -> dict[str, int]:
    path = root / "counter.txt"
    lines = path.read_text().split() if path.exists() else []
    return {line: lines.count(line) for line in lines}


def test_expand_multi() -> None:
    args = ["s.toml", "--models", "a", "b,c", "--force", "--folds", "0", "1"]
    assert expand_multi(args) == [
        "s.toml",
        "--models",
        "a",
        "--models",
        "b",
        "--models",
        "c",
        "--force",
        "--folds",
        "0",
        "--folds",
        "1",
    ]
    assert expand_multi(["--stages", "train", "x.toml"]) == ["--stages", "train", "x.toml"]


@pytest.mark.slow
def test_run_status_and_resume_through_the_console_script(tmp_path: Path) -> None:
    spec = toy_project(tmp_path, folds=3, grid=2)
    status = subprocess.run(["foldrun", "status", str(spec)], capture_output=True, text=True)
    assert status.returncode == 1 and "pending" in status.stdout
    first = subprocess.run(
        ["foldrun", "run", str(spec), "--jobs", "2"], capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    assert "18 task(s) run" in first.stdout
    assert set(_counts(tmp_path).values()) == {1} and len(_counts(tmp_path)) == 12
    status = subprocess.run(["foldrun", "status", str(spec)], capture_output=True, text=True)
    assert status.returncode == 0 and "18 done" in status.stdout
    again = subprocess.run(["foldrun", "run", str(spec)], capture_output=True, text=True)
    assert again.returncode == 0 and "0 task(s) run, 18 already done" in again.stdout
    assert set(_counts(tmp_path).values()) == {1}
    audit = (tmp_path / "runs/toy/audit.log").read_text()
    assert audit.count("| started") == 18 and audit.count("| finished") == 18


@pytest.mark.slow
def test_cli_subset_dry_run_stale_and_force(tmp_path: Path) -> None:
    spec = toy_project(tmp_path, folds=2, grid=2)
    runner = CliRunner()
    dry = runner.invoke(
        cli,
        [
            "run",
            str(spec),
            "--dry-run",
            "--models",
            "toy/k1",
            "--folds",
            "1",
            "--stages",
            "predict",
        ],
        standalone_mode=False,
    )
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines()[:2] == ["toy/k1/fold_01/train", "toy/k1/fold_01/predict"]
    assert _counts(tmp_path) == {}
    ok = runner.invoke(cli, ["run", str(spec), "--stages", "train"], standalone_mode=False)
    assert ok.exit_code == 0 and len(_counts(tmp_path)) == 4
    # a changed train command makes the done trains stale
    spec.write_text(spec.read_text().replace("python toy.py {train}", "python ./toy.py {train}"))
    stale = invoke("run", str(spec))
    assert stale.returncode == 2
    assert "stale" in stale.stderr and "--force" in stale.stderr and "toy/k0 (2)" in stale.stderr
    forced = invoke("run", str(spec), "--force")
    assert forced.returncode == 0, forced.stderr
    assert _counts(tmp_path)["toy/k0/0/train"] == 2  # rerun once, on purpose


@pytest.mark.slow
def test_failed_task_exit_1_with_log_tail(tmp_path: Path) -> None:
    spec = toy_project(tmp_path, folds=2, grid=1)
    spec.write_text(
        spec.read_text().replace(
            "python toy.py - {test}", "echo predict-went-wrong >&2; exit 7; python toy.py - {test}"
        )
    )
    out = invoke("run", str(spec), "--jobs", "2")
    assert out.returncode == 1
    assert "FAILED toy/k0/fold_00/predict" in out.stderr and "predict-went-wrong" in out.stderr
    assert "train.failed" not in out.stderr and "predict.failed/train.log" in out.stderr
    assert "not run: an upstream task failed" in out.stderr  # evaluate after predict
    assert len(_counts(tmp_path)) == 2  # both trains ran
