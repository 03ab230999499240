"""Settings shared by every test: no display, the venv's console scripts on PATH; finished
toy runs made once per session and copied (toy_run)."""

from __future__ import annotations

import os
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


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist, the tests of the one local SLURM cluster run on one worker, one
    after another (they share its queue and its node's CPUs); every other test is a unit of
    its own, as with --dist load. (--dist loadgroup's xdist_group mark cannot do it: it
    renames the test's node id, which pytest 9 no longer allows, so the mark is ignored.)"""
    from xdist.scheduler import LoadScopeScheduling  # lazy: only under pytest-xdist

    class OneSlurmWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "slurm" if nodeid.startswith(SLURM_FILES) else nodeid

    return OneSlurmWorker(config, log)


@pytest.fixture(scope="session")
def _toy_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple, Path]:
    return {}  # finished toy runs of this session, by project() arguments


@pytest.fixture
def toy_run(_toy_runs: dict[tuple, Path], tmp_path_factory: pytest.TempPathFactory,
            tmp_path: Path) -> Callable[..., Path]:
    """toy_run(root=tmp_path/'p', **project_args) -> the spec of a finished run of
    tests.reliability.helpers.project(root, **project_args), copied from the one run made
    per session for those arguments (each run took 5-15 s). Its counter.txt is relative
    (tasks run in the spec's folder), so a copy's reruns count in the copy."""
    from tests.reliability.helpers import invoke, project

    def copy(root: Path | None = None, **args: Any) -> Path:
        key = tuple(sorted(args.items()))
        if key not in _toy_runs:
            made = tmp_path_factory.mktemp("toy-run")
            spec = project(made, **args)
            spec.write_text(spec.read_text().replace(f'"{made / "counter.txt"}"',
                                                     '"counter.txt"'))
            done = invoke("run", str(spec), "--jobs", "2")
            assert done.returncode == 0, done.stdout + done.stderr
            _toy_runs[key] = made
        root = root or tmp_path / "p"
        shutil.copytree(_toy_runs[key], root, symlinks=True, dirs_exist_ok=True)
        return root / "foldrun.toml"

    return copy
