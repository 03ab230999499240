"""The run folder a spec names, read from its TOML as it is (cancel, report): one rule, with
the spec's checks, and a one-line error naming the key when it is of the wrong kind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from foldrun.errors import ReportError, SpecError
from foldrun.spec.load import read_document, run_folder


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "foldrun.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "where"),
    [('name = "x"\n', "runs/x"), ('name = "x"\noutput = "out/here"\n', "out/here")],
)
def test_output_else_runs_name_beside_the_spec(tmp_path: Path, text: str, where: str) -> None:
    path = _spec(tmp_path, text)
    assert run_folder(path, read_document(path)) == (tmp_path / where).resolve()


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("output = 5\n", "output", "must be text"),
        ('name = ["a"]\n', "name", "must be text"),
        ('name = "../../etc"\n', "name", "is not allowed"),
        ("seed = 1\n", "name", "has no 'name'"),
    ],
)
def test_a_wrong_name_or_output_is_named(tmp_path: Path, text: str, key: str, words: str) -> None:
    path = _spec(tmp_path, text)
    for error in (SpecError, ReportError):
        with pytest.raises(error, match=words) as caught:
            run_folder(path, read_document(path), error)
        assert caught.value.key == key


def test_report_and_cancel_say_the_same_in_one_line(tmp_path: Path) -> None:
    path = _spec(tmp_path, "output = 5\n")
    for command in (["report", str(path)], ["cancel", str(path)]):
        done = subprocess.run([sys.executable, "-m", "foldrun", *command], capture_output=True,
                              text=True, cwd=tmp_path)  # fmt: skip
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "'output' must be text" in lines[0], done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foldrun.toml"]  # nothing written
