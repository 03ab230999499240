"""core/files: the one atomic writer every replaced-in-place file goes through."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from foldrun.core.files import write_atomic, write_if_changed, write_json, write_with


def test_replaces_whole_and_makes_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "record.json"
    write_json(target, {"x": 1}, sort_keys=True)
    write_atomic(target, "second", sync=True)
    assert target.read_text() == "second"
    assert os.listdir(target.parent) == ["record.json"]  # no temporary file left


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "table.parquet"
    target.write_text("old")

    def half(tmp: Path) -> None:
        tmp.write_text("half of the new one")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_with(target, half)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["table.parquet"]


def test_unchanged_text_is_not_rewritten(tmp_path: Path) -> None:
    target = tmp_path / "refit_train.csv"
    assert write_if_changed(target, "id\n1\n")
    before = target.stat().st_mtime_ns
    os.utime(target, ns=(before - 10**9, before - 10**9))
    assert not write_if_changed(target, "id\n1\n")
    assert target.stat().st_mtime_ns == before - 10**9
    assert write_if_changed(target, "id\n2\n") and target.read_text() == "id\n2\n"
