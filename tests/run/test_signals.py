"""SIGTERM and SIGINT sent to the runner alone (`kill -TERM <pid>`): the running tasks stop
with their process groups, the lock and temp folders go, every task's state is true, one
line is printed, and the exit code is 143 / 130. A closed stdout costs no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.reliability.helpers import FOLDRUN, foldrun, project

# every train writes its shell's pid, then works for a long time
SLOW = "echo $$ >> pids.txt; sleep 120; "


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is gone
    except FileNotFoundError:
        return False


def _task_server_pids(root: Path) -> list[int]:
    """The run's fork server (`foldrun.run.backends.local.zygote`), found by its log path."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        zygote = b"foldrun.run.backends.local.zygote" in cmd
        if zygote and any(str(root).encode() in c for c in cmd):
            found.append(int(entry.name))
    return [p for p in found if _alive(p)]


def _wait_for(check, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_to_the_runner_stops_tasks_and_leaves_true_states(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    spec = project(tmp_path, folds=3, grid=1, prefix=SLOW)
    proc = subprocess.Popen(
        [FOLDRUN, "run", str(spec), "--jobs", "2"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a terminal's Ctrl-C would not reach it: only our kill
    )
    pids_file = tmp_path / "pids.txt"
    _wait_for(lambda: pids_file.exists() and len(pids_file.read_text().split()) == 2)
    servers = _task_server_pids(tmp_path)
    assert servers
    started = time.monotonic()
    os.kill(proc.pid, sig)
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 15  # it did not wait for the tasks
    assert proc.returncode == code, out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "interrupted by" in lines[0], err
    assert "stopped 2 running task(s)" in lines[0]
    assert "Traceback" not in err
    tasks = [int(p) for p in pids_file.read_text().split()]
    _wait_for(lambda: not any(_alive(p) for p in tasks + servers), timeout=10)
    run = tmp_path / "runs/toy"
    assert not (run / ".foldrun/lock").exists()
    assert list((run / "tasks").rglob(".*.tmp-*")) == []
    assert list((run / "tasks").rglob("DONE")) == []
    assert list((run / "tasks").rglob("*.failed")) == []
    assert (run / "audit.log").read_text().count("| interrupted |") == 2
    status = foldrun("status", str(spec), cwd=tmp_path)
    assert "running" not in status.stdout and "9 pending" in status.stdout, status.stdout
    # the next run starts cleanly (no lock held, nothing counted)
    (tmp_path / "model.py").write_text((tmp_path / "model.py").read_text())
    spec.write_text(spec.read_text().replace(SLOW, ""))
    again = foldrun("run", str(spec), cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr


def _closed_stdout_run(args: list[str], cwd: Path, sigint_after: float | None = None):
    read, write = os.pipe()
    os.close(read)  # the reader is gone (`| head` that ended, or killed by the same Ctrl-C)
    try:
        proc = subprocess.Popen(
            [FOLDRUN, *args], cwd=cwd, stdout=write, stderr=subprocess.PIPE, text=True
        )
    finally:
        os.close(write)
    if sigint_after is not None:
        time.sleep(sigint_after)
        proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=120)[1]
    return proc.returncode, err


@pytest.mark.parametrize("delay", [None, 0.4, 0.8])
def test_closed_stdout_prints_no_traceback(tmp_path: Path, delay: float | None) -> None:
    spec = project(tmp_path, folds=3, grid=2)
    code, err = _closed_stdout_run(["run", str(spec), "--dry-run"], tmp_path, delay)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert code in (1, 130, 141), err


def test_ctrl_c_while_the_cli_imports_prints_one_line(tmp_path: Path) -> None:
    # a Ctrl-C that lands while `foldrun` still imports its modules
    script = (
        "import os, signal, time\n"
        "import foldrun.cli\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "time.sleep(5)\n"
    )
    (tmp_path / "foldrun").write_text(script)  # named as the console script is
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "foldrun")], capture_output=True, text=True, timeout=60,
        # a terminal's Ctrl-C: the default disposition, even when this suite runs with SIGINT
        # ignored (`nohup ... &`), which Python and foldrun rightly leave ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.returncode == 130
    assert proc.stderr == "foldrun: aborted\n"


def test_ctrl_c_as_the_command_ends_never_kills_by_sigint(tmp_path: Path) -> None:
    """A Ctrl-C that lands while the command is ending (Python frees its modules with
    SIGINT's default action back) exits with the command's code, not a death by SIGINT
    (-2); the moments are fractions of this machine's own dry run, around its end."""
    spec = project(tmp_path, folds=3, grid=2)
    start = time.monotonic()
    assert _closed_stdout_run(["run", str(spec), "--dry-run"], tmp_path)[0] in (1, 141)
    whole = time.monotonic() - start
    for fraction in (0.8, 0.85, 0.9, 0.95, 1.0):
        code, err = _closed_stdout_run(["run", str(spec), "--dry-run"], tmp_path,
                                       fraction * whole)  # fmt: skip
        assert "Traceback" not in err and "Exception ignored" not in err, err
        assert code in (1, 130, 141), (fraction, code, err)
