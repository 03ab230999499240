"""Bad-input cases of the rule in foldrun.core.owned: report and split replace only a folder
foldrun made, report and query write only into a run folder, split waits for a running
run's lock. Each exits 2 with one line and writes nothing (the catalogue's check)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reliability.helpers import invoke, project, table
from tests.reliability.test_bad_input import Case, _expect_one_line_exit_2

RUN = Path("runs/toy")


def _run_folder(root: Path) -> Path:
    """The toy project with a run folder as `foldrun run` leaves it (no tasks run: every
    case is refused before results are read)."""
    project(root)
    for sub in ("tasks", ".foldrun"):
        (root / RUN / sub).mkdir(parents=True)
    return root / RUN


def _user_folder(root: Path, name: str = "mydocs") -> str:
    (root / name).mkdir(parents=True)
    (root / name / "thesis.tex").write_text("chapter 1")
    return name


def _report_out(out: Callable[[Path], str]) -> Callable[[Path], list[str]]:
    def setup(root: Path) -> list[str]:
        _run_folder(root)
        return ["report", "foldrun.toml", "--out", out(root)]

    return setup


def _file(root: Path) -> str:
    (root / "notes.txt").write_text("mine")
    return "notes.txt"


def _report_own_folder_with_notes(root: Path) -> list[str]:
    report = _run_folder(root) / "report"
    report.mkdir()
    for name in ("index.html", "cv_summary.json", "notes.txt"):
        (report / name).write_text(name)
    return ["report", "foldrun.toml"]


def _not_a_run(command: str, *extra: str) -> Callable[[Path], list[str]]:
    def setup(root: Path) -> list[str]:
        (root / "mydocs/report").mkdir(parents=True)
        (root / "mydocs/report/draft.md").write_text("draft")
        return [command, "mydocs", *extra]

    return setup


def _spec_output_not_a_run(root: Path) -> list[str]:
    project(root)
    _user_folder(root, str(RUN))
    return ["report", "foldrun.toml"]


def _split(out: Callable[[Path], str], *extra: str) -> Callable[[Path], list[str]]:
    def setup(root: Path) -> list[str]:
        table(40).to_csv(root / "t.csv", index=False)
        return ["split", "t.csv", "--out", out(root), "--overwrite", *extra]

    return setup


def _split_with_notes(root: Path) -> str:
    table(40).to_csv(root / "t.csv", index=False)
    assert invoke("split", "t.csv", "--out", "s", cwd=root).returncode == 0
    (root / "s/notes.txt").write_text("mine")
    return "s"


def _split_files_without_marker(root: Path) -> str:
    (root / "s/fold_00").mkdir(parents=True)
    (root / "s/fold_00/train.csv").write_text("id\n1\n")
    return "s"


def _locked_run_split(root: Path) -> str:
    run = _run_folder(root)
    table(40).to_csv(root / "t.csv", index=False)
    assert invoke("split", "t.csv", "--out", str(RUN / "split"), cwd=root).returncode == 0
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "started": "now"}
    (run / ".foldrun/lock").write_text(json.dumps(owner))  # this live process runs it
    return str(RUN / "split")


CASES = [
    Case("report-out-user-folder", _report_out(_user_folder), "thesis.tex"),
    Case("report-out-run-folder", _report_out(lambda root: str(RUN)), "run folder"),
    Case("report-out-current-folder", _report_out(lambda root: "."), "current folder"),
    Case("report-out-parent-of-run", _report_out(lambda root: "runs"), "run folder"),
    Case("report-out-a-file", _report_out(_file), "not a folder"),
    Case("report-own-folder-with-notes", _report_own_folder_with_notes, "notes.txt"),
    Case("report-not-a-run-folder", _not_a_run("report"), "not a foldrun run folder"),
    Case("query-not-a-run-folder", _not_a_run("query", "SELECT 1"), "not a foldrun run folder"),
    Case("report-spec-output-not-a-run", _spec_output_not_a_run, "output"),
    Case("split-overwrite-user-folder", _split(_user_folder), "thesis.tex"),
    Case("split-overwrite-split-with-notes", _split(_split_with_notes, "--seed", "1"), "notes.txt"),
    Case("split-overwrite-no-marker", _split(_split_files_without_marker), "details.json"),
    Case("split-overwrite-current-folder", _split(lambda root: "."), "current folder"),
    Case("split-overwrite-locked-run", _split(_locked_run_split, "--seed", "1"), "lock"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_owned_bad_input_is_one_line_exit_2_nothing_written(tmp_path: Path, case: Case) -> None:
    argv = case.setup(tmp_path)
    _expect_one_line_exit_2(tmp_path, argv, case.names)
