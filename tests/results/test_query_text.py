"""results/query_text.py writes a query's answer as pandas' to_csv / to_json wrote it, to the
byte, without pandas; the terminal table's cells as the DataFrame's were."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from foldrun.results.query_text import Answer

SPECIAL = [0.0, -0.0, 0.5, 1.5, 2.5, 0.05, 0.15, 0.25, 1e16, 9999999999999998.0, 1e15 + 0.3,
           1e-15, 9.9e-16, 0.99999999995, 0.999999999949, 5e-11, 4.9999999999e-11, 2.0**53,
           1.00000000005, 0.1 + 0.2, 123456.7890123456789, -7.25, float("nan"), float("inf"),
           -float("inf")]  # fmt: skip
TEXTS = ["", "a,b", 'q"uote', "line\nbreak", "tab\there", "/path/x", "\r", "\x00\x01\x1f",
         "\x7f", "é", "naïve – “x”", "日本", "\U0001f600", "back\\slash", "<&>"]  # fmt: skip


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    rng = np.random.default_rng(7)
    n = 3000
    doubles = rng.standard_normal(n) * 10.0 ** rng.integers(-20, 22, n)
    doubles[::5] = np.round(doubles[::5], 3)
    doubles[: len(SPECIAL)] = SPECIAL
    texts = [TEXTS[i % len(TEXTS)] * (i % 3) for i in range(n)]
    df = pd.DataFrame({"d": doubles, "s": texts, "i": rng.integers(-(2**62), 2**62, n),
                       "b": rng.random(n) < 0.5})  # fmt: skip
    con = duckdb.connect()
    con.register("source", df)
    con.execute(
        "CREATE TABLE t AS SELECT d, s, i, b, (i % 100)::TINYINT ti, (i % 1000)::SMALLINT si, "
        "(i % 100000)::INTEGER ii, abs(i % 200)::UTINYINT ut, abs(i % 60000)::USMALLINT us, "
        "abs(i % 100000)::UINTEGER ui FROM source"
    )
    nulls = ", ".join(f"CASE WHEN hash(i, '{c}') % 5 = 0 THEN NULL ELSE {c} END AS {c}"
                      for c in ("d", "s", "i", "b", "ti", "ui"))  # fmt: skip
    con.execute(f"CREATE TABLE u AS SELECT {nulls}, NULL AS n FROM t")
    return con


QUERIES = [
    "SELECT * FROM t",
    "SELECT * FROM u",
    "SELECT s FROM u",  # one column: an empty value is written ""
    "SELECT * FROM u WHERE false",  # no rows
    "SELECT n FROM u LIMIT 3",
    'SELECT 1 AS "we/ird,""name", \'é/\' AS "ü"',
]


@pytest.mark.parametrize("sql", QUERIES)
def test_csv_and_json_are_pandas_text(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    answer = Answer.of(con.execute(sql))
    assert answer.frame is None  # written here, without pandas
    df = con.execute(sql).df()
    assert answer.csv() == df.to_csv(index=False)
    assert answer.json() == df.to_json(orient="records", date_format="iso", indent=1)


@pytest.mark.parametrize("sql", ["SELECT * FROM u", "SELECT 'nan'::DOUBLE AS x, 1.5e-7 AS y"])
def test_table_cells_and_alignment_are_the_frames(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    rows = Answer.of(con.execute(sql))
    frame = Answer(rows.columns, rows.types, frame=con.execute(sql).df())
    assert rows.frame is None
    assert rows.cells(50) == frame.cells(50)
    assert rows.numeric() == frame.numeric() and len(rows) == len(frame)


@pytest.mark.parametrize("sql", [
    "SELECT TIMESTAMPTZ '2026-12-07 10:00:00+00' AS t",
    "SELECT 1.25 AS d",  # DECIMAL
    "SELECT sum(i) AS h FROM t",  # HUGEINT
    "SELECT [1, 2] AS l",
    "SELECT 1 AS a, 2 AS a",  # two columns of one name: pandas says what it says
    "SELECT 1 AS a, 2 AS A",  # one name to DuckDB too: the frame's a, A_1 (was a, A)
])  # fmt: skip
def test_other_types_are_written_by_pandas(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    answer = Answer.of(con.execute(sql))
    assert answer.frame is not None
    df = con.execute(sql).df()
    assert answer.csv() == df.to_csv(index=False)
    assert answer.columns == list(df.columns)  # the table's header as the frame's: a, a_1
