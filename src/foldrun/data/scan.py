"""`scan`: index files whose names follow a pattern into a table (a column per field)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from foldrun.data.table import read_table
from foldrun.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class ScanResult:
    table: pd.DataFrame
    n_files: int
    n_unlabelled: int  # rows dropped because the label table had no row for them
    n_empty: dict[str, int] = field(default_factory=dict)  # dropped: empty value, by column
    mapped: list[str] = field(default_factory=list)  # label columns whose True/False -> 1/0
    n_duplicates: int = 0  # exact duplicate label rows collapsed into one

    @property
    def n_dropped(self) -> int:
        return self.n_unlabelled + sum(self.n_empty.values())


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """`{subject}_{record}.jpg` -> a regex with one named group per field."""
    fields = _FIELD.findall(pattern)
    if not fields:
        raise DataError(f"the pattern {pattern!r} has no {{field}}; add e.g. {{subject}}")
    if len(set(fields)) != len(fields):
        raise DataError(f"the pattern {pattern!r} names a field twice")
    if "path" in fields:  # scan writes the file's path in that column itself
        raise DataError(f"the pattern {pattern!r} names a field 'path', the column scan "
                        "writes the file's path in; rename the field")  # fmt: skip
    parts, last = [], 0
    for match in _FIELD.finditer(pattern):
        parts.append(re.escape(pattern[last : match.start()]))
        parts.append(f"(?P<{match.group(1)}>[^/]+?)")
        last = match.end()
    parts.append(re.escape(pattern[last:]))
    return re.compile("".join(parts) + r"\Z")


def scan(
    folder: str | Path,
    pattern: str,
    labels: str | Path | None = None,
    on: str | None = None,
    base: str | Path | None = None,
    keep: list[str] | None = None,
) -> ScanResult:
    """One row per matching file (relative path matched, sorted), joined to `labels`.

    `path` is relative to `base` (the folder of the output table, where the spec and the
    commands it runs normally are), or absolute when `base` is None. `keep` names the label
    columns to take (default: all); a row whose value is empty in one of them is dropped.
    """
    import pandas as pd

    root = Path(folder)
    if not root.is_dir():
        raise DataError("folder not found; check the path", file=root)
    regex = pattern_regex(pattern)
    rows = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        match = regex.match(path.relative_to(root).as_posix())
        if match:
            _readable_name(path)
            rows.append({**match.groupdict(), "path": _path_from(path, base)})
    if not rows:
        raise DataError(f"no file matches {pattern!r}; check --pattern", file=root)
    table = pd.DataFrame(rows)
    if labels is None:
        return ScanResult(table, len(table), 0)
    return _join(table, read_table(labels, text=[on]), Path(labels), on, keep)


def _readable_name(path: Path) -> None:
    """A file name that is not UTF-8 (read by Python as surrogates) cannot be written into
    a CSV or Parquet table, nor matched against a text id later."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise DataError(
            "the file name is not UTF-8 text; rename the file (or move it out of the folder)",
            file=shown,
        ) from None


def _path_from(path: Path, base: str | Path | None) -> str:
    """`path` as seen from `base` (absolute when None or on another drive)."""
    absolute = os.path.abspath(path)
    if base is None:
        return absolute
    try:
        return Path(os.path.relpath(absolute, os.path.abspath(base))).as_posix()
    except ValueError:  # Windows: another drive has no relative path
        return absolute


def _join(
    table: pd.DataFrame, labels: pd.DataFrame, file: Path, on: str | None, keep: list[str] | None
) -> ScanResult:
    labels = _label_columns(table, labels, file, on, keep)
    assert on is not None  # _label_columns refused it
    labels, n_duplicates = _one_row_per_key(labels.astype({on: str}), on, file)
    columns = [c for c in labels.columns if c != on]
    mapped = [c for c in columns if _map_true_false(labels, c)]
    for column in columns:
        _integers_stay_integers(labels, column)
    joined = table.merge(labels, on=on, how="inner", sort=False)
    n_unlabelled = len(table) - len(joined)
    n_empty: dict[str, int] = {}
    for column in columns:  # a row empty in several columns counts once, at the first
        empty = _is_empty(joined[column])
        if empty.any():
            n_empty[column] = int(empty.sum())
            joined = joined[~empty]
    joined = joined.reset_index(drop=True)
    for column in columns:
        if str(joined[column].dtype) == "Int64":  # no value left missing: plain integers
            joined[column] = joined[column].astype("int64")
    if joined.empty:
        raise DataError(f"no file kept a label ({n_unlabelled} without a label row, "
                        f"{sum(n_empty.values())} with an empty value); check --on and the "
                        "label table's keys", file=file, column=on)  # fmt: skip
    return ScanResult(joined, len(table), n_unlabelled, n_empty, mapped, n_duplicates)


def _label_columns(
    table: pd.DataFrame, labels: pd.DataFrame, file: Path, on: str | None, keep: list[str] | None
) -> pd.DataFrame:
    """The key and the label columns to join (`--label`), checked against the pattern."""
    if on is None:
        raise DataError("--labels needs --on COL, the column shared with the file names")
    for frame, where in ((table, "the pattern"), (labels, str(file))):
        if on not in frame.columns:
            raise DataError(f"column not found in {where}", column=on, file=file)
    for column in keep or []:
        if column not in labels.columns or column == on:
            raise DataError("--label names no label column of the label table; check the "
                            "header", column=column, file=file)  # fmt: skip
    if keep:
        labels = labels[[on, *dict.fromkeys(keep)]]
    for column in labels.columns:  # the join would name both `record_x` and `record_y`
        if column != on and column in table.columns:
            raise DataError("the label table has a column named like a field of the pattern "
                            "(or `path`); rename it, or pick other columns with --label",
                            column=column, file=file)  # fmt: skip
    return labels


def _one_row_per_key(labels: pd.DataFrame, on: str, file: Path) -> tuple[pd.DataFrame, int]:
    """(one row per key, how many exact duplicate rows were dropped). Rows of one key that
    differ are an error naming the first such key and how many keys conflict: which row is
    right is the author's call, never foldrun's."""
    unique = labels.drop_duplicates()
    n_duplicates = len(labels) - len(unique)
    twice = unique[on].duplicated(keep=False)
    if twice.any():
        keys = unique.loc[twice, on]
        first = keys.iloc[0]
        raise DataError(
            f"the label table has {keys.nunique()} key(s) with rows that differ (e.g. "
            f"{first!r}: {int((keys == first).sum())} different rows); keep one row per key",
            column=on, file=file,
        )  # fmt: skip
    return unique.reset_index(drop=True), n_duplicates


def _is_empty(values: pd.Series) -> pd.Series:
    """Missing, or text that is only blanks (` ` in a CSV cell)."""
    return values.isna() | values.astype(str).str.strip().eq("")


def _map_true_false(labels: pd.DataFrame, column: str) -> bool:
    """A column holding only True/False (any case) and empty values becomes 1/0 (empty stays
    missing, dropped later). pandas reads `True`/`TRUE`/`true` as booleans, not `tRuE`."""
    values = labels[column]
    kept = values[~_is_empty(values)]
    text = kept.astype(str).str.strip().str.lower()
    if kept.empty or not text.isin(["true", "false"]).all():
        return False
    labels[column] = text.eq("true").astype("Int64").reindex(values.index)
    return True


def _integers_stay_integers(labels: pd.DataFrame, column: str) -> None:
    """0/1 with an empty value is read as 0.0/1.0; keep integers integers."""
    from pandas.api.types import is_float_dtype

    values = labels[column]
    if is_float_dtype(values) and (values.dropna() % 1 == 0).all():
        labels[column] = values.astype("Int64")
