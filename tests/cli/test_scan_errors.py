"""`foldrun scan` given what users give it by mistake: each is one line, exit 2, nothing
written (issue 22 item 9; every case was a traceback, or a silently wrong table, before)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.reliability.helpers import main_in_process

PATTERN = "{subject}_{record}.jpg"


_foldrun = main_in_process  # (exit code, stdout, stderr) of foldrun in this process


@pytest.fixture
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "img"
    folder.mkdir()
    for subject in "abc":
        for record in "12":
            (folder / f"{subject}_{record}.jpg").write_text(subject)
    return folder


def _refused(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> str:
    before = sorted(tmp_path.rglob("*"))
    code, out, err = _foldrun(capsys, "scan", *args)
    assert code == 2, (out, err)
    assert err.startswith("foldrun: error:") and err.count("\n") == 1, err
    assert sorted(tmp_path.rglob("*")) == before  # nothing written
    return err


@pytest.mark.parametrize("column", ["record", "path"])
def test_label_column_named_like_a_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, images: Path, column: str
) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(f"subject,{column},y\na,1,0\nb,0,1\nc,1,1\n")
    err = _refused(capsys, tmp_path, str(images), "--pattern", PATTERN, "--labels",
                   str(labels), "--on", "subject", "--out", str(tmp_path / "t.csv"))  # fmt: skip
    assert f"column {column!r}" in err and "--label" in err
    # picking the other columns with --label is the way out
    code, _, err = _foldrun(capsys, "scan", str(images), "--pattern", PATTERN, "--labels",
                            str(labels), "--on", "subject", "--label", "y", "--out",
                            str(tmp_path / "t.csv"))  # fmt: skip
    assert code == 0, err


def test_pattern_field_named_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, images: Path
) -> None:
    err = _refused(capsys, tmp_path, str(images), "--pattern", "{path}_{record}.jpg",
                   "--out", str(tmp_path / "t.csv"))  # fmt: skip
    assert "'path'" in err and "rename the field" in err


@pytest.mark.skipif(sys.platform != "linux", reason="file names are bytes on Linux only")
def test_file_name_that_is_not_utf8(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, images: Path
) -> None:
    (Path(os.fsdecode(bytes(images) + b"/\xff_1.jpg"))).write_text("x")
    err = _refused(capsys, tmp_path, str(images), "--pattern", PATTERN,
                   "--out", str(tmp_path / "t.csv"))  # fmt: skip
    assert "not UTF-8" in err and "\\xff_1.jpg" in err


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_out_where_nothing_can_be_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, images: Path
) -> None:
    err = _refused(capsys, tmp_path, str(images), "--pattern", PATTERN, "--out", "/proc/x.csv")
    assert "/proc/x.csv" in err and "--out" in err


def test_out_is_the_label_table(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    images: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    labels = tmp_path / "labels.csv"
    text = "subject,y\na,0\nb,1\nc,1\n"
    labels.write_text(text)
    monkeypatch.chdir(tmp_path)
    for out in ("labels.csv", str(labels), "./img/../labels.csv"):
        err = _refused(capsys, tmp_path, str(images), "--pattern", PATTERN, "--labels",
                       "labels.csv", "--on", "subject", "--out", out)  # fmt: skip
        assert "--out names the label table" in err
    assert labels.read_text() == text
