"""Settings shared by every test: no display, the venv's console scripts on PATH; finished
runs made once per test run and copied (toy_run, demo_run); the xdist scheduling."""

from __future__ import annotations

import fcntl
import functools
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# subprocess tests call the real `foldrun` console script of the interpreter running pytest
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")


# the files of the tests that use the one local SLURM cluster (marked `slurm`)
SLURM_FILES = "tests/run/backends/test_slurm_"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test marked `slurm` must live in a SLURM_FILES file: those run on one worker."""
    for item in items:
        if item.get_closest_marker("slurm") and not item.nodeid.startswith(SLURM_FILES):
            raise pytest.UsageError(f"{item.nodeid} is marked slurm: move it to a "
                                    f"{SLURM_FILES}*.py file (they run on one xdist worker)")


# a test file that builds a fixture once for its tests (a finished run, a report): made on each
# worker that runs one of its tests, so the whole file goes to one worker
_SHARED_SETUP = re.compile(r"""scope=["'](module|class|package)["']""")


@functools.cache
def _shares_setup(path: Path) -> bool:
    try:
        return bool(_SHARED_SETUP.search(path.read_text()))
    except OSError:
        return False


@pytest.hookimpl(optionalhook=True)  # pytest -p no:xdist runs the tests too
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist, the tests of the one local SLURM cluster run on one worker, one
    after another (they share its queue and its node's CPUs); the tests of a file with a
    module- or class-scoped fixture run on one worker, so the fixture is built once, not once
    per worker (a finished run took 20-30 s); every other test is a unit of its own, as with
    --dist load. Units go out with the most tests first (xdist's --loadscope-reorder), so
    the single tests even the workers out at the end. (--dist loadgroup's xdist_group mark
    cannot do it: it renames the test's node id, which pytest 9 no longer allows.)"""
    from xdist.scheduler import LoadScopeScheduling  # lazy: only under pytest-xdist

    root = config.rootpath

    class OneSlurmWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(SLURM_FILES):
                return "slurm"
            file = nodeid.split("::", 1)[0]
            return file if _shares_setup(root / file) else nodeid

    return OneSlurmWorker(config, log)


@pytest.fixture(scope="session")
def _made_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of this test run's finished runs, one for all its xdist workers (the
    parent of a worker's base temp is the run's own), so each is made once per test run."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    (shared / "made-once").mkdir(exist_ok=True)
    return shared / "made-once"


def _make_once(folder: Path, make: Callable[[Path], None]) -> Path:
    """folder, made by make(folder) by the first worker that asks; the others wait on its
    lock and get the finished folder (copy it, never change it)."""
    finished = folder.with_name(folder.name + ".finished")
    with open(folder.with_name(folder.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not finished.exists():
            shutil.rmtree(folder, ignore_errors=True)  # a failed worker's half-made one
            make(folder)
            finished.touch()
    return folder


def _run_toy(made: Path, args: dict[str, Any]) -> None:
    from tests.reliability.helpers import invoke, project

    spec = project(made, **args)
    spec.write_text(spec.read_text().replace(f'"{made / "counter.txt"}"', '"counter.txt"'))
    done = invoke("run", str(spec), "--jobs", "2")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def toy_run(_made_once: Path, tmp_path: Path) -> Callable[..., Path]:
    """toy_run(root=tmp_path/'p', **project_args) -> the spec of a finished run of
    tests.reliability.helpers.project(root, **project_args), copied from the one run made
    per test run for those arguments (each run took 5-15 s). Its counter.txt is relative
    (tasks run in the spec's folder), so a copy's reruns count in the copy."""

    def copy(root: Path | None = None, **args: Any) -> Path:
        name = "-".join(["toy", *(f"{k}={v}" for k, v in sorted(args.items()))])
        made = _make_once(_made_once / name, lambda folder: _run_toy(folder, args))
        root = root or tmp_path / "p"
        shutil.copytree(made, root, symlinks=True, dirs_exist_ok=True)
        return root / "foldrun.toml"

    return copy


def _run_demo(folder: Path) -> None:
    from tests.reliability.helpers import invoke

    done = invoke("demo", str(folder))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="session")
def demo_run(_made_once: Path) -> Path:
    """The folder of one finished `foldrun demo` (a ~20 s run), made once per test run and
    shared by every test that reads one: copy it before changing anything in it."""
    return _make_once(_made_once / "demo", _run_demo)
