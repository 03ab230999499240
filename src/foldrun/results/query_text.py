"""The answer of `foldrun query` as text (csv, json, the terminal table's cells) without
pandas: DuckDB hands the rows (`fetchall`), and each value is written as pandas' `to_csv`
and `to_json` wrote it before, to the byte (scripts read it; tests/results/test_query_text.py
compares the two on every type this module writes).

Importing pandas to build a DataFrame only to print it cost ~0.3 s of a 10,000-task query
(issue 26 item 2). DuckDB can write CSV and JSON itself, but in its own dialect (`true`,
timestamps, float digits), and `COPY` is refused inside the query's sandbox; Python's csv
module writes the CSV (pandas' writer is that module too); what no library does without
pandas is pandas' JSON number (ujson, 10 decimals) and string escapes, written here. A
result with a column of any other type (timestamps, DECIMAL, HUGEINT, lists, structs)
or two columns of one name is formatted by pandas, as before.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
PLAIN = INTEGERS | {"DOUBLE", "VARCHAR", "BOOLEAN", '"NULL"'}  # written here; others: pandas
NUMERIC_KINDS = "iuf"  # the table's right-aligned columns (numpy dtype kinds)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


@dataclass
class Answer:
    """A query's columns, their DuckDB types and rows; `frame` (a pandas DataFrame) instead
    of rows when a column's type is not one of PLAIN."""

    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    frame: Any = None

    @classmethod
    def of(cls, result: Any) -> Answer:
        """The answer of a DuckDB result (the query ran; its rows not yet fetched)."""
        described = result.description or []
        columns = [str(d[0]) for d in described]
        types = [str(d[1]) for d in described]
        # DuckDB's frame renames a name met again, ASCII case aside (a, A -> a, A_1)
        distinct = {c.translate(_ASCII_LOWER) for c in columns}
        if described and set(types) <= PLAIN and len(distinct) == len(columns):
            return cls(columns, types, result.fetchall())
        frame = result.df()  # pandas writes what this module does not (its names: a, a_1)
        return cls([str(c) for c in frame.columns], types, frame=frame)

    def __len__(self) -> int:
        return len(self.rows) if self.frame is None else len(self.frame)

    def csv(self) -> str:
        """pandas' `to_csv(index=False)`: the csv module, minimal quoting, NULL and NaN
        empty, a double as numpy's shortest repr (the same digits as Python's repr)."""
        if self.frame is not None:
            return str(self.frame.to_csv(index=False))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator=os.linesep)  # pandas' own defaults
        writer.writerow(self.columns)
        writer.writerows(_formatted(self.rows, [_CSV[t] for t in self.types], ""))
        return out.getvalue()

    def json(self) -> str:
        """pandas' `to_json(orient="records", date_format="iso", indent=1)`."""
        if self.frame is not None:
            return str(self.frame.to_json(orient="records", date_format="iso", indent=1))
        keys = [f'  {_json_string(c)}:' for c in self.columns]
        values = _formatted(self.rows, [_JSON[t] for t in self.types], "null")
        records = [" {\n" + ",\n".join(map(str.__add__, keys, row)) + "\n }" for row in values]
        return "[\n" + ",\n".join(records) + "\n]"

    def numeric(self) -> list[bool]:
        """Which columns the table aligns right (numbers, as by the frame's dtype before)."""
        if self.frame is not None:
            return [self.frame[c].dtype.kind in NUMERIC_KINDS for c in self.frame.columns]
        return [t in INTEGERS or t == "DOUBLE" for t in self.types]

    def cells(self, limit: int) -> list[list[str]]:
        """The table's cells of the first `limit` rows: a double to 6 significant digits,
        NULL as the DataFrame's missing value printed ("<NA>", "nan", "")."""
        if self.frame is not None:
            rows = self.frame.head(limit).itertuples(index=False)
            return [[_cell(v) for v in row] for row in rows]
        nulls = [_NULL_CELL.get(t, "") for t in self.types]
        return [[n if v is None else _cell(v) for n, v in zip(nulls, row, strict=True)]
                for row in self.rows[:limit]]  # fmt: skip


def _formatted(rows: list[tuple[Any, ...]], writers: list[Callable[[Any], str]], null: str
               ) -> list[list[str]]:  # fmt: skip
    """Each value as its column's writer writes it, NULL as `null`."""
    return [[null if v is None else w(v) for w, v in zip(writers, row, strict=True)]
            for row in rows]  # fmt: skip


def _csv_double(value: float) -> str:
    return "" if math.isnan(value) else repr(value)


# a NULL as pandas' column of that type held it (pd.NA, NaN, None), printed by _cell
_NULL_CELL = {**dict.fromkeys(INTEGERS | {"BOOLEAN"}, "<NA>"), "DOUBLE": "nan", "VARCHAR": "nan"}


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


# pandas' JSON writer (its vendored ujson): a double in fixed notation rounded to 10
# decimals, trailing zeros dropped ("0.5", "1.0"), `%.10g` beyond 1e16 - 1 or below 1e-15,
# NaN and infinities null; strings as ASCII with "/" escaped.
_DECIMALS = 10
_POW10 = 10.0**_DECIMALS
_THRES_MAX, _THRES_MIN = 1e16 - 1, 1e-15


def _json_double(value: float) -> str:
    """ujson's Buffer_AppendDoubleUnchecked, the same double arithmetic step by step."""
    if math.isnan(value) or math.isinf(value):
        return "null"
    sign, value = ("-", -value) if value < 0 else ("", value)
    if value > _THRES_MAX or (value != 0.0 and value < _THRES_MIN):
        return "%.10g" % (-value if sign else value)  # C printf's %g, as ujson
    whole = int(value)
    tmp = (value - whole) * _POW10
    frac = int(tmp)
    diff = tmp - frac
    if diff > 0.5 or (diff == 0.5 and (frac == 0 or frac & 1)):
        frac += 1  # ujson's rounding, half-way cases included
    if frac >= _POW10:
        frac, whole = 0, whole + 1
    digits = str(frac).rjust(_DECIMALS, "0").rstrip("0") if frac else "0"
    return f"{sign}{whole}.{digits}"


def _json_string(value: object) -> str:
    """ujson's ASCII string: json's escapes, "/" as "\\/", DEL (0x7f) as itself."""
    return json.dumps(str(value)).replace("/", "\\/").replace("\\u007f", "\x7f")


def _json_int(value: int) -> str:
    return str(value)


def _json_bool(value: bool) -> str:
    return "true" if value else "false"


def _csv_text(value: object) -> str:
    return str(value)


_CSV: dict[str, Callable[[Any], str]] = {**dict.fromkeys(PLAIN, _csv_text), "DOUBLE": _csv_double}
_JSON: dict[str, Callable[[Any], str]] = {
    **dict.fromkeys(INTEGERS, _json_int), "DOUBLE": _json_double, "BOOLEAN": _json_bool,
    "VARCHAR": _json_string, '"NULL"': _json_string,
}
