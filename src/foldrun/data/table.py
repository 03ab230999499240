"""Reading and writing data tables (csv, tsv, parquet, chosen by the file suffix)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from foldrun.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


def read_table(path: str | Path) -> pd.DataFrame:
    """The table at `path`; DataError naming the file when missing, unknown or unreadable."""
    import pandas as pd

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"unknown table format {suffix!r}; use .csv, .tsv or .parquet", file=path)
    if not path.is_file():
        raise DataError("table not found; check the path", file=path)
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    except pd.errors.EmptyDataError:
        raise DataError("the table is empty; give a header and rows", file=path) from None
    except Exception as err:  # a parser error of any kind: one line, no traceback
        why = " ".join(str(err).split())[:200]
        raise DataError(f"cannot read the table ({why}); fix or re-export it", file=path) from err


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write `df` by suffix, atomically (a temp file beside it, then rename)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"unknown table format {suffix!r}; use .csv, .tsv or .parquet", file=path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        if suffix in (".parquet", ".pq"):
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False, sep="\t" if suffix == ".tsv" else ",")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
