"""foldrun run by a process that gave it no stdout at all (`>&-`, a service with fd 1
closed): Python has no sys.stdout then."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.synthetic_run import RunShape, write_run
from tests.reliability.helpers import FOLDRUN, project


def test_report_with_stdout_closed_builds_it_without_a_traceback(tmp_path: Path) -> None:
    """The report was built, then the exit's flush of sys.stdout (None) raised an
    AttributeError: a traceback and exit 1 for a report that succeeded."""
    run = write_run(tmp_path / "run", RunShape(grid={}, n_folds=3, holdout=0, curves=0))
    done = subprocess.run([FOLDRUN, "report", str(run)], stderr=subprocess.PIPE, text=True,
                          preexec_fn=lambda: os.close(1), timeout=300)  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    assert (run / "report/index.html").is_file()


@pytest.mark.parametrize("command", [["check"], ["run", "--dry-run"]])
def test_json_output_with_stdout_closed_ends_without_a_traceback(
    tmp_path: Path, command: list[str]
) -> None:
    """Putting user code's prints on stderr (for --format json) flushed sys.stdout first:
    an AttributeError on None."""
    spec = project(tmp_path, folds=2, grid=1)
    done = subprocess.run([FOLDRUN, command[0], str(spec), *command[1:], "--format", "json"],
                          stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(1),
                          timeout=300)  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
