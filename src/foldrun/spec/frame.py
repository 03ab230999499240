"""Reading the data table into pandas (imported here only, when a split must be made)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from foldrun.errors import DataError

if TYPE_CHECKING:
    import pandas as pd


def read_frame(path: Path) -> pd.DataFrame:
    """The table at `path` (csv, tsv or parquet); DataError when missing or unreadable."""
    import pandas as pd

    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".csv", ".tsv"):
            return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    except FileNotFoundError:
        raise DataError("data table not found; check [data] table", file=path) from None
    except Exception as err:
        raise DataError(f"cannot read the data table: {err}", file=path) from err
    raise DataError(f"unknown table format {suffix!r}; use .csv, .tsv or .parquet", file=path)
