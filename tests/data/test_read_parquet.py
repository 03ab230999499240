"""`read_table` reads a Parquet file a column at a time (less memory): the frame is the
one `pandas.read_parquet` gives, every dtype alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from foldrun.data.table import read_table
from foldrun.errors import DataError


def test_column_at_a_time_gives_pandas_frame(tmp_path) -> None:
    frame = pd.DataFrame({
        "id": ["007", None, "x"], "o": pd.Series(["x", "y", None], dtype=object),
        "i": [1, 2, 3], "I": pd.array([1, None, 3], dtype="Int64"), "f": [1.0, np.nan, 2.5],
        "c": pd.Categorical(["n", "s", "n"], categories=["s", "n", "w"], ordered=True),
        "d": pd.to_datetime(["2020-01-01", None, "2021-02-03"]), "b": [True, False, True],
        "B": pd.array([True, None, False], dtype="boolean"),
        "t": pd.to_timedelta([1, 2, 3], unit="s"),
        "z": pd.to_datetime(["2020-01-01", "2020-01-02", None]).tz_localize("UTC"),
        "s": pd.array(["p", None, "q"], dtype="string"),
    }, index=pd.Index([5, 6, 7], name="row"))  # fmt: skip
    path = tmp_path / "t.parquet"
    frame.to_parquet(path, row_group_size=2)  # the index kept, two row groups
    pd.testing.assert_frame_equal(read_table(path), pd.read_parquet(path))
    assert read_table(path).index.tolist() == [5, 6, 7]


def test_repeated_column_name_is_refused(tmp_path) -> None:
    table = pa.table([pa.array([1]), pa.array([2])], names=["a", "a"])
    pq.write_table(table, tmp_path / "t.parquet")
    with pytest.raises(DataError, match="names column 'a' twice"):
        read_table(tmp_path / "t.parquet")
