"""foldrun.log / log_params and `foldrun log`: lines in the task's files, buffering, no-ops."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

import foldrun
from foldrun.cli import cli
from foldrun.track import log as tlog


@pytest.fixture
def task_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FOLDRUN_TASK_DIR", str(tmp_path))
    monkeypatch.delenv("FOLDRUN_METRICS_FILE", raising=False)
    yield tmp_path
    tlog.flush()


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_log_appends_after_flush(task_dir: Path) -> None:
    foldrun.log("loss", 0.5, step=1)
    foldrun.log("loss", 0.25, step=2)
    tlog.flush()
    rows = _lines(task_dir / "metrics.jsonl")
    assert [(r["name"], r["value"], r["step"]) for r in rows] == [
        ("loss", 0.5, 1),
        ("loss", 0.25, 2),
    ]
    assert all(abs(float(r["time"]) - time.time()) < 60 for r in rows)


def test_metrics_file_variable_wins(task_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = task_dir / "other.jsonl"
    monkeypatch.setenv("FOLDRUN_METRICS_FILE", str(other))
    foldrun.log("acc", 1)
    tlog.flush()
    assert _lines(other)[0]["step"] is None
    assert not (task_dir / "metrics.jsonl").exists()


def test_buffer_flushes_every_n_lines(task_dir: Path) -> None:
    tlog.flush()  # restarts the time-based flush clock
    for i in range(tlog.FLUSH_LINES + 5):
        foldrun.log("x", i, step=i)
    assert len(_lines(task_dir / "metrics.jsonl")) == tlog.FLUSH_LINES  # the rest is buffered
    tlog.flush()
    assert len(_lines(task_dir / "metrics.jsonl")) == tlog.FLUSH_LINES + 5


def test_switching_task_flushes_to_the_old_file(task_dir: Path, monkeypatch, tmp_path_factory):
    foldrun.log("a", 1)
    second = tmp_path_factory.mktemp("second")
    monkeypatch.setenv("FOLDRUN_TASK_DIR", str(second))
    foldrun.log("b", 2)
    tlog.flush()
    assert [r["name"] for r in _lines(task_dir / "metrics.jsonl")] == ["a"]
    assert [r["name"] for r in _lines(second / "metrics.jsonl")] == ["b"]


def test_bad_arguments(task_dir: Path) -> None:
    with pytest.raises(ValueError, match="number"):
        foldrun.log("x", "abc")
    with pytest.raises(ValueError, match="step"):
        foldrun.log("x", 1.0, step=1.5)
    with pytest.raises(ValueError, match="name"):
        foldrun.log("", 1.0)


def test_outside_a_task_warns_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FOLDRUN_TASK_DIR", raising=False)
    monkeypatch.delenv("FOLDRUN_METRICS_FILE", raising=False)
    monkeypatch.setattr(tlog, "_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        foldrun.log("x", 1.0)
        foldrun.log("x", 2.0)
        foldrun.log_params(a=1)
    assert len([w for w in caught if "not inside a foldrun task" in str(w.message)]) == 1


def test_log_params_merges(task_dir: Path) -> None:
    import numpy as np

    foldrun.log_params(lr=0.1, opt="adam")
    foldrun.log_params(lr=np.float64(0.2), layers=[1, 2])
    assert json.loads((task_dir / tlog.PARAMS_FILE).read_text()) == {
        "layers": [1, 2],
        "lr": 0.2,
        "opt": "adam",
    }


def test_subprocess_exit_flushes_and_kill_loses_at_most_a_buffer(task_dir: Path) -> None:
    code = "import foldrun\nfor i in range(2500): foldrun.log('x', i, step=i)\n"
    env = {**os.environ, "FOLDRUN_TASK_DIR": str(task_dir)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    assert len(_lines(task_dir / "metrics.jsonl")) == 2500
    killed = code + "import os, signal; os.kill(os.getpid(), signal.SIGKILL)\n"
    subprocess.run([sys.executable, "-c", killed], env=env, check=False)
    assert 2500 + 2500 - tlog.FLUSH_LINES <= len(_lines(task_dir / "metrics.jsonl")) < 5000


def test_cli_log_and_params(task_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["log", "val_loss", "-0.5", "--step", "3"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["log", "--param", "lr=0.01", "--param", "opt=sgd"])
    assert result.exit_code == 0, result.output
    assert _lines(task_dir / "metrics.jsonl") == [
        {**_lines(task_dir / "metrics.jsonl")[0], "name": "val_loss", "value": -0.5, "step": 3}
    ]
    assert json.loads((task_dir / tlog.PARAMS_FILE).read_text()) == {"lr": 0.01, "opt": "sgd"}


def test_console_script(task_dir: Path) -> None:
    env = {**os.environ, "FOLDRUN_TASK_DIR": str(task_dir)}
    exe = str(Path(sys.executable).parent / "foldrun")
    subprocess.run([exe, "log", "acc", "0.9"], env=env, check=True)
    assert _lines(task_dir / "metrics.jsonl")[0]["value"] == 0.9
    bad = subprocess.run([exe, "log", "acc", "high"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "not a number" in bad.stderr
    env.pop("FOLDRUN_TASK_DIR")
    out = subprocess.run([exe, "log", "acc", "1"], env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "not inside a foldrun task" in out.stderr
    slow = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "foldrun", "log", "acc", "1"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert "pandas" not in slow.stderr
