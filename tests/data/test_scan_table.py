from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from foldrun.cli import cli
from foldrun.data.example import load_example_table, write_example_table
from foldrun.data.table import read_table
from foldrun.errors import DataError
from tests.reliability.helpers import FOLDRUN  # the console script beside this Python


def _files(root: Path) -> None:
    for name in ["s1_r1_t1.jpg", "s1_r2_t1.jpg", "s2_r1_t2.jpg", "s3_r1_t1.jpg", "notes.txt"]:
        (root / name).write_text("x")


def test_scan_with_labels_drops_and_counts(tmp_path: Path) -> None:
    _files(tmp_path)
    pd.DataFrame({"subject": ["s1", "s2"], "label": [0, 1]}).to_csv(tmp_path / "l.csv",
                                                                       index=False)  # fmt: skip
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--pattern",
                                      "{subject}_{record}_{kind}.jpg", "--labels",
                                      str(tmp_path / "l.csv"), "--on", "subject", "--out",
                                      str(tmp_path / "t.csv")])  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "t.csv")
    assert list(table.columns) == ["subject", "record", "kind", "path", "label"]
    assert len(table) == 3 and "1 dropped" in result.output


def test_scan_console_script_bad_folder(tmp_path: Path) -> None:
    out = str(tmp_path / "t.csv")
    args = ["scan", str(tmp_path / "nope"), "--pattern", "{a}.jpg", "--out", out]
    done = subprocess.run([str(FOLDRUN), *args], capture_output=True, text=True)
    assert done.returncode == 2
    assert "nope" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "t.csv").exists()


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_read_table_round_trip(tmp_path: Path, suffix: str) -> None:
    path = write_example_table(tmp_path / f"t{suffix}")
    table = read_table(path)
    assert table.shape == (569, 33)
    assert table["label"].isin(["malignant", "benign"]).all()


@pytest.mark.parametrize("name", ["t.xlsx", "missing.csv"])
def test_read_table_errors_name_the_file(tmp_path: Path, name: str) -> None:
    with pytest.raises(DataError) as info:
        read_table(tmp_path / name)
    assert name in info.value.one_line()


def test_unreadable_table(tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match="cannot read"):
        read_table(tmp_path / "bad.parquet")


def test_example_table_is_deterministic_with_skewed_patients() -> None:
    a, b = load_example_table(), load_example_table()
    pd.testing.assert_frame_equal(a, b)
    sizes = a["patient"].value_counts()
    assert sizes.max() >= 5 * sizes.median()
    assert a["id"].is_unique and a["id"].iloc[0] == "s0000"
