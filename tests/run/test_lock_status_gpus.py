from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from foldrun.api import Project
from foldrun.core import state
from foldrun.core.task import TaskState
from foldrun.errors import RunError
from foldrun.run import gpus, lock
from foldrun.run.gpus import GpuPool, detect_gpus, parse_gpus
from foldrun.run.status import collect
from foldrun.run.worker import execute_planned
from tests.run.helpers import task, toy_project


def test_lock_refuses_a_second_holder_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / ".foldrun" / "lock"
    lock.acquire(path)
    owner = json.loads(path.read_text())
    assert owner["pid"] == os.getpid()
    # another live process holding it: simulate with our parent's pid
    path.write_text(json.dumps({**owner, "pid": os.getppid()}))
    with pytest.raises(RunError, match=f"locked by pid {os.getppid()}"):
        lock.acquire(path)
    path.unlink()


def test_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    path = tmp_path / "lock"
    import socket

    path.write_text(
        json.dumps({"pid": int(dead.stdout), "host": socket.gethostname(), "started": "x"})
    )
    with lock.held(path):
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert not path.exists()


def test_lock_of_another_host_is_not_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    path.write_text(json.dumps({"pid": 999999, "host": "elsewhere", "started": "x"}))
    with pytest.raises(RunError, match="on elsewhere"):
        lock.acquire(path)


def test_gpu_pool_never_hands_out_one_gpu_twice() -> None:
    pool = GpuPool([0, 1, 2])
    a = pool.take(2)
    assert a == (0, 1) and pool.take(2) is None
    b = pool.take(1)
    assert b == (2,) and pool.take(1) is None
    pool.give_back(a)
    assert pool.take(2) == (0, 1)
    with pytest.raises(ValueError, match="twice"):
        pool.give_back([2, 2])


def test_parse_gpus() -> None:
    assert parse_gpus("0,1") == (0, 1) and parse_gpus("") == () and parse_gpus(None) is None
    with pytest.raises(RunError, match="--gpus"):
        parse_gpus("a,b")
    with pytest.raises(RunError, match="distinct"):
        parse_gpus("1,1")


def test_gpus_detected_from_a_fake_nvidia_smi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\nprintf '0\\n1\\n3\\n'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert detect_gpus() == (0, 1, 3)
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert detect_gpus() == ()


def test_status_states(tmp_path: Path) -> None:
    done = task(tmp_path, "m", "train", 0, command="true")
    failed = task(tmp_path, "m", "train", 1, command="false")
    running = task(tmp_path, "m", "train", 2, command="true")
    pending = task(tmp_path, "m", "train", 3, command="true")
    assert execute_planned(done) == 0 and execute_planned(failed) == 1
    state.tmp_dir(running.task_dir, os.getpid()).mkdir(parents=True)  # a live worker's folder
    stale = task(tmp_path, "m", "train", 0, command="true # changed")
    plan = {t.key: t for t in (stale, failed, running, pending)}
    rows = {r.key: r for r in collect(plan, {})}
    assert rows[stale.key].state == TaskState.STALE and rows[stale.key].duration_s is not None
    assert rows[failed.key].state == TaskState.FAILED
    assert rows[running.key].state == TaskState.RUNNING
    assert rows[pending.key].state == TaskState.PENDING
    # the scheduler's word counts when the folders say nothing
    rows = {r.key: r for r in collect(plan, {pending.key: TaskState.RUNNING})}
    assert rows[pending.key].state == TaskState.RUNNING
    assert rows[stale.key].fold == "fold_00"


@pytest.mark.parametrize(("resources", "slurm", "refused"), [
    ("resources = { gpus = 1 }", "", True),
    ("resources = { gpus = 1, gpus_optional = true }", "", False),  # runs on CPU here
    ("resources = { gpus = 1 }", "[slurm]\npartition = \"gpu\"\n", False),  # for a cluster
    ("", "", False),
])
def test_check_refuses_a_gpu_task_no_machine_here_can_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, resources: str, slurm: str, refused: bool
) -> None:
    spec = toy_project(tmp_path / "p")
    text = spec.read_text().replace("[models.toy]\n", f"{slurm}[models.toy]\n{resources}\n")
    spec.write_text(text)
    monkeypatch.setattr(gpus, "detect_gpus", lambda: ())  # a machine without a GPU
    result = Project(spec).check()
    if refused:
        assert result.problems == (
            f"{spec}: models.toy.resources.gpus: asks for a GPU, this machine has none "
            "(nvidia-smi finds none) and the spec has no [slurm] table; set "
            "resources.gpus_optional = true to run it on CPU where there is no GPU, or add a "
            "[slurm] table to run it on a cluster",)
    else:
        assert result.problems == ()
    assert not (tmp_path / "p" / "runs").exists()  # check writes nothing
