"""`scan`: index files whose names follow a pattern into a table (a column per field)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from foldrun.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class ScanResult:
    table: pd.DataFrame
    n_files: int
    n_unlabelled: int  # rows dropped because the label table had no row for them


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """`{subject}_{record}.jpg` -> a regex with one named group per field."""
    fields = _FIELD.findall(pattern)
    if not fields:
        raise DataError(f"the pattern {pattern!r} has no {{field}}; add e.g. {{subject}}")
    if len(set(fields)) != len(fields):
        raise DataError(f"the pattern {pattern!r} names a field twice")
    parts, last = [], 0
    for match in _FIELD.finditer(pattern):
        parts.append(re.escape(pattern[last : match.start()]))
        parts.append(f"(?P<{match.group(1)}>[^/]+?)")
        last = match.end()
    parts.append(re.escape(pattern[last:]))
    return re.compile("".join(parts) + r"\Z")


def scan(
    folder: str | Path, pattern: str, labels: str | Path | None = None, on: str | None = None
) -> ScanResult:
    """One row per matching file (relative path matched, sorted), joined to `labels`."""
    import pandas as pd

    from foldrun.data.table import read_table

    root = Path(folder)
    if not root.is_dir():
        raise DataError("folder not found; check the path", file=root)
    regex = pattern_regex(pattern)
    rows = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        match = regex.match(path.relative_to(root).as_posix())
        if match:
            rows.append({**match.groupdict(), "path": str(path)})
    if not rows:
        raise DataError(f"no file matches {pattern!r}; check --pattern", file=root)
    table = pd.DataFrame(rows)
    if labels is None:
        return ScanResult(table, len(table), 0)
    return _join(table, read_table(labels, text=[on]), Path(labels), on)


def _join(table: pd.DataFrame, labels: pd.DataFrame, file: Path, on: str | None) -> ScanResult:
    if on is None:
        raise DataError("--labels needs --on COL, the column shared with the file names")
    for frame, where in ((table, "the pattern"), (labels, str(file))):
        if on not in frame.columns:
            raise DataError(f"column not found in {where}", column=on, file=file)
    labels = labels.astype({on: str})
    if labels[on].duplicated().any():
        raise DataError("the label table has duplicate keys; keep one row per key", column=on,
                        file=file)  # fmt: skip
    joined = table.merge(labels, on=on, how="inner", sort=False)
    return ScanResult(joined, len(table), len(table) - len(joined))
