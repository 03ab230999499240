"""`read_table` parses a CSV in parts of CSV_ROWS rows (less memory) and gives the frame
`pandas.read_csv` gives, whatever the parts hold (issue 26: `foldrun split` of 1e6 x 20)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from foldrun.data import table as tables
from foldrun.data.table import read_table

ROWS = [
    # (column, values down the file): the same type in every part, or not
    ("int", [str(i) for i in range(40)]),
    ("float", [f"{i / 7!r}" for i in range(40)]),
    ("int_then_float", [str(i) for i in range(30)] + ["1.5"] * 10),
    ("int_then_text", [str(i) for i in range(35)] + ["x"] * 5),
    ("empty_part", ["a"] * 10 + [""] * 10 + ["b"] * 20),
    ("bool_then_empty", ["True", "False"] * 15 + [""] * 10),
    ("quoted", ['"1,5"', '"a ""b"""'] * 20),
    ("big_int", ["9007199254740993"] * 20 + ["1e3"] * 20),
]


@pytest.mark.parametrize("part_rows", [7, 10, 1000])
@pytest.mark.parametrize("text", [(), ("int",)])
def test_csv_in_parts_is_the_frame_read_csv_gives(tmp_path, monkeypatch, part_rows, text):
    path = tmp_path / "t.csv"
    names = [name for name, _ in ROWS]
    lines = [",".join(names)] + [",".join(v[i] for _, v in ROWS) for i in range(40)]
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(tables, "CSV_ROWS", part_rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' DtypeWarning for the mixed columns
        got = read_table(path, text=text)
        want = pd.read_csv(path, dtype={c: str for c in text} or None)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert isinstance(got.index, pd.RangeIndex) and len(got) == 40


def test_csv_with_a_header_only_is_an_empty_frame(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(tables, "CSV_ROWS", 3)
    (tmp_path / "t.csv").write_text("a,b\n")
    got = read_table(tmp_path / "t.csv")
    assert list(got.columns) == ["a", "b"] and len(got) == 0


def test_text_read_in_parts_comes_as_one_chunk(tmp_path, monkeypatch) -> None:
    """A manifest or folds.parquet then takes the text without copying it whole."""
    import pyarrow as pa

    monkeypatch.setattr(tables, "CSV_ROWS", 4)
    (tmp_path / "t.csv").write_text("id,x\n" + "".join(f"u{i},{i}\n" for i in range(10)))
    got = read_table(tmp_path / "t.csv")
    assert got["id"].tolist() == [f"u{i}" for i in range(10)]
    assert got["id"].dtype == pd.read_csv(tmp_path / "t.csv")["id"].dtype
    values = pa.array(got["id"])
    assert not isinstance(values, pa.ChunkedArray) or values.num_chunks == 1
