"""What planning and `check` need from the data table, read without pandas (fast start).

Columns, which are numeric, and the distinct values of the target (for inferring the task).
CSV/TSV are read with the csv module; Parquet with pyarrow.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field
from pathlib import Path

from foldrun.data.table import unique_columns
from foldrun.errors import DataError

MAX_DISTINCT = 1000  # enough to tell many from few
MANY_VALUES = 20  # a numeric target with more distinct values than this is a regression
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


def kind_of_values(numeric: bool, integral: bool, n_distinct: int) -> str:
    """THE rule for a target's problem kind from its values: regression for a numeric
    target with non-integer values or more than MANY_VALUES distinct values, else
    classification. Planning reads the values from the data table (`TableInfo`), a run
    without a spec from its predictions (results/collect.py `infer_task`)."""
    regression = numeric and (not integral or n_distinct > MANY_VALUES)
    return "regression" if regression else "classification"


@dataclass
class TableInfo:
    columns: list[str]
    numeric: set[str] = field(default_factory=set)
    distinct: dict[str, set[str]] = field(default_factory=dict)  # for the columns asked

    def infer_task(self, target: str | list[str]) -> str:
        """multilabel for a list of columns; regression for a numeric target with
        non-integer values or more than 20 distinct values; classification otherwise."""
        if isinstance(target, list):
            return "multilabel"
        values = self.distinct.get(target, set())
        if target not in self.numeric:
            return "classification"
        non_integer = any(not float(v).is_integer() for v in values if _is_number(v))
        return kind_of_values(True, not non_integer, len(values))

    def default_features(self, exclude: set[str]) -> list[str]:
        return [c for c in self.columns if c in self.numeric and c not in exclude]


def table_columns(path: Path) -> list[str]:
    """The column names only (a CSV's header row, a Parquet schema): cheap on any size."""
    return read_table_info(path, header_only=True).columns


def read_table_info(
    path: Path, distinct_of: tuple[str, ...] = (), *, header_only: bool = False
) -> TableInfo:
    """Columns, numeric columns and distinct values of `distinct_of`; DataError if unreadable.
    With `header_only`, the columns alone. Read once while the file's size and mtime stay
    the same (the datasets of one spec ask about one table)."""
    try:
        stat = path.stat()
    except OSError:
        return _table_info(path, distinct_of, header_only)  # its error names the file
    key = (stat.st_size, stat.st_mtime_ns)
    return _info_of(str(path.resolve()), key, tuple(distinct_of), header_only)


@functools.lru_cache(maxsize=16)
def _info_of(
    path: str, stat: tuple[int, int], distinct_of: tuple[str, ...], header_only: bool
) -> TableInfo:
    return _table_info(Path(path), distinct_of, header_only)


def _table_info(path: Path, distinct_of: tuple[str, ...], header_only: bool) -> TableInfo:
    if not path.is_file():
        raise DataError(
            "data table not found; check [data] table (relative to the spec)", file=path
        )
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DataError(f"unknown table format {suffix!r}; use .csv, .tsv or .parquet", file=path)
    try:
        if suffix in (".parquet", ".pq"):
            return _parquet_info(path, distinct_of)
        return _csv_info(path, "\t" if suffix == ".tsv" else ",", distinct_of, header_only)
    except DataError:
        raise
    except Exception as err:  # any reader failure means the same thing to the user
        raise DataError(f"cannot read the data table: {err}", file=path) from err


def _csv_info(
    path: Path, delimiter: str, distinct_of: tuple[str, ...], header_only: bool = False
) -> TableInfo:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        columns = next(reader, None)
        if not columns:
            raise DataError("the data table is empty (no header row)", file=path)
        unique_columns(columns, path)
        if header_only:
            return TableInfo(columns=columns)
        numeric = [True] * len(columns)
        seen_value = [False] * len(columns)
        wanted = {columns.index(c): set[str]() for c in distinct_of if c in columns}
        for row in reader:
            for i, value in enumerate(row[: len(columns)]):
                if value == "" or value.lower() in ("nan", "na", "null"):
                    continue
                seen_value[i] = True
                if numeric[i] and not _is_number(value):
                    numeric[i] = False
                if i in wanted and len(wanted[i]) < MAX_DISTINCT:
                    wanted[i].add(value)
    return TableInfo(
        columns=columns,
        numeric={c for c, n, s in zip(columns, numeric, seen_value, strict=True) if n and s},
        distinct={columns[i]: values for i, values in wanted.items()},
    )


def _parquet_info(path: Path, distinct_of: tuple[str, ...]) -> TableInfo:
    import pyarrow.parquet as pq
    import pyarrow.types as pt

    schema = pq.read_schema(path)
    columns = unique_columns(
        [n for n in schema.names if not n.startswith("__index_level_")], path
    )
    numeric = {f.name for f in schema if pt.is_integer(f.type) or pt.is_floating(f.type)}
    wanted = [c for c in distinct_of if c in columns]
    distinct: dict[str, set[str]] = {}
    if wanted:
        table = pq.read_table(path, columns=wanted)
        for name in wanted:
            values = table.column(name).unique().to_pylist()[:MAX_DISTINCT]
            distinct[name] = {str(v) for v in values if v is not None}
    return TableInfo(columns=columns, numeric=numeric, distinct=distinct)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
