"""Two `foldrun run` on one run folder: the second refuses, naming the holder's pid and
host (exit 2); a lock left by a dead process is taken over and the run completes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.reliability.helpers import FOLDRUN, counts, done_keys, foldrun, project


def _lock(root: Path) -> Path:
    return root / "runs/toy/.foldrun/lock"


@pytest.mark.slow
def test_second_run_refuses_naming_pid_and_host(tmp_path: Path) -> None:
    spec = project(tmp_path, folds=2, grid=1, prefix="sleep 1; ")
    first = subprocess.Popen(
        [FOLDRUN, "run", str(spec), "--jobs", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.time() + 60
    while not _lock(tmp_path).exists():
        assert time.time() < deadline and first.poll() is None, "the first run never locked"
        time.sleep(0.05)
    second = foldrun("run", str(spec), "--jobs", "1")
    assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    lines = second.stderr.splitlines()
    assert second.returncode == 2, second.stderr
    assert len(lines) == 1 and "Traceback" not in second.stderr, second.stderr
    assert f"pid {first.pid}" in lines[0] and socket.gethostname() in lines[0], lines[0]
    assert set(counts(tmp_path).values()) == {1}  # every task ran once, by the first run
    assert not _lock(tmp_path).exists()  # released at the end


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("content", ["dead-pid", "empty-after-crash"])
def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path: Path, content: str) -> None:
    spec = project(tmp_path, folds=2, grid=1)
    assert foldrun("run", str(spec), "--folds", "0").returncode == 0
    owner = {"pid": _dead_pid(), "host": socket.gethostname(), "started": "2026-01-01T00:00:00"}
    _lock(tmp_path).write_text(json.dumps(owner) if content == "dead-pid" else "")
    if content == "empty-after-crash":
        # a lock emptied by a crash mid-write names no process: refused with a way out
        done = foldrun("run", str(spec))
        assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
        assert "lock" in done.stderr
        return
    done = foldrun("run", str(spec))
    assert done.returncode == 0, done.stderr
    assert len(done_keys(tmp_path)) == 6
    assert set(counts(tmp_path).values()) == {1}
    assert not _lock(tmp_path).exists()


def test_lock_of_a_live_process_on_another_host_is_respected(tmp_path: Path) -> None:
    spec = project(tmp_path, folds=2, grid=1)
    assert foldrun("run", str(spec), "--folds", "0").returncode == 0
    owner = {"pid": _dead_pid(), "host": "elsewhere-node-7", "started": "2026-01-01T00:00:00"}
    _lock(tmp_path).write_text(json.dumps(owner))
    done = foldrun("run", str(spec))
    assert done.returncode == 2, done.stderr
    assert "elsewhere-node-7" in done.stderr and str(owner["pid"]) in done.stderr
    assert len(done_keys(tmp_path)) == 3  # nothing more ran


def test_stale_takeover_never_steals_a_fresh_lock(tmp_path: Path, monkeypatch) -> None:
    """Two runners find the same stale lock; the first takes it over. The second, which
    read the stale content before that, must not throw the first one's fresh lock away."""
    from foldrun.errors import RunError
    from foldrun.run import lock

    path = tmp_path / "lock"
    host = socket.gethostname()
    path.write_text(json.dumps({"pid": _dead_pid(), "host": host, "started": "then"}))
    real_read = lock.read_lock

    def racing_read(where: Path) -> dict | None:
        owner = real_read(where)
        # the other runner takes the stale lock over right after we read it
        where.write_text(json.dumps({"pid": os.getppid(), "host": host, "started": "now"}))
        monkeypatch.setattr(lock, "read_lock", real_read)
        return owner

    monkeypatch.setattr(lock, "read_lock", racing_read)
    with pytest.raises(RunError, match=f"pid {os.getppid()}"):
        lock.acquire(path)
    assert json.loads(path.read_text())["pid"] == os.getppid()
