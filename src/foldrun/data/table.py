"""Reading and writing data tables (csv, tsv, parquet, chosen by the file suffix)."""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foldrun.core.files import write_with
from foldrun.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


def read_table_shared(path: str | Path, text: Iterable[str | None] = ()) -> pd.DataFrame:
    """`read_table`, read once per process while the file's size and mtime stay the same:
    the datasets of one spec share a table, and each one's split reads it (a copy is
    returned, so a caller's edits never reach the next one)."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return read_table(path, text)  # its error names the file
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, tuple(c for c in text if c))
    return _last_read(key).copy()


def forget_shared_tables() -> None:
    """Drop the table `read_table_shared` keeps (a long run must not hold it)."""
    _last_read.cache_clear()


@functools.lru_cache(maxsize=1)  # the last table only: a big table is not kept twice
def _last_read(key: tuple[str, int, int, tuple[str, ...]]) -> pd.DataFrame:
    return read_table(key[0], key[3])


def read_table(path: str | Path, text: Iterable[str | None] = ()) -> pd.DataFrame:
    """The table at `path`; DataError naming the file when missing, unknown or unreadable.

    The columns named in `text` (ids, groups, fold-table keys) are read as text, as written:
    `007` stays `007`, and `1` and `001` are two ids. Other columns are parsed as usual.
    """
    import pandas as pd

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"unknown table format {suffix!r}; use .csv, .tsv or .parquet", file=path)
    if not path.is_file():
        raise DataError("table not found; check the path", file=path)
    wanted = {c for c in text if c}
    try:
        if suffix in (".parquet", ".pq"):
            return _as_text(_read_parquet(path), wanted)
        sep = "\t" if suffix == ".tsv" else ","
        header = unique_columns(read_header(path, sep), path)
        dtype = {c: str for c in wanted if c in header}
        return _read_csv(path, sep, dtype or None)
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError("the table is empty; give a header and rows", file=path) from None
    except Exception as err:  # a parser error of any kind: one line, no traceback
        why = " ".join(str(err).split())[:200]
        raise DataError(f"cannot read the table ({why}); fix or re-export it", file=path) from err


CSV_ROWS = 100_000  # rows of a CSV parsed at a time


def _read_csv(path: Path, sep: str, dtype: dict[str, type] | None) -> pd.DataFrame:
    """pandas' `read_csv` of the whole file, parsed CSV_ROWS rows at a time and joined:
    the same frame at a lower peak (1e6 x 20: +360 MB over the imports, +625 MB parsed at
    once: the parser holds its buffers and every string of the file together). When a
    column's type differs between parts (ints, then text; a part of empty values) the
    file is parsed at once instead: pandas joins such parts its own way."""
    import pandas as pd

    with pd.read_csv(path, sep=sep, dtype=dtype, chunksize=CSV_ROWS) as reader:
        parts = list(reader)
    if len(parts) == 1:
        return parts[0]
    if not parts or any(not part.dtypes.equals(parts[0].dtypes) for part in parts[1:]):
        del parts
        return pd.read_csv(path, sep=sep, dtype=dtype)
    frame = pd.concat(parts, ignore_index=True)
    del parts
    release_heap()  # the parts' pages (1e6 x 20: RSS 498 -> 382 MB after reading)
    for name in frame.columns[frame.dtypes.map(_arrow_text)]:
        frame[name] = _one_chunk(frame[name])
    import pyarrow as pa

    pa.default_memory_pool().release_unused()  # and the chunks' pages, from Arrow's pool
    return frame


def _arrow_text(dtype: object) -> bool:
    import pandas as pd

    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def _one_chunk(column: pd.Series) -> pd.Series:
    """Arrow-backed text in one chunk (the parts gave one per part): what writes it (a
    manifest, folds.parquet) takes it without a copy; the same values and dtype."""
    import pandas as pd
    import pyarrow as pa

    values = pa.array(column)
    if not isinstance(values, pa.ChunkedArray) or values.num_chunks < 2:
        return column
    whole = pd.array(values.combine_chunks(), dtype=column.dtype)
    return pd.Series(whole, index=column.index, name=column.name)


def release_heap() -> None:
    """Give the C heap's free pages back to the system (glibc's `malloc_trim`; nothing
    elsewhere): after big arrays are freed glibc keeps their pages, and serves the next
    big ones from that heap, so a split's peak grew by what each step left."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.cache
def _libc() -> Any:
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def _read_parquet(path: Path) -> pd.DataFrame:
    """pandas' frame of a Parquet file (the dtypes `pandas.read_parquet` gives), read a
    column at a time: the buffers one column is decoded in serve the next, so the peak is
    ~1.2x the table, not ~2x as with every column decoded at once (1e6 x 20: 410 MB, was
    575 MB, and faster on a loaded machine). Arrow's buffers are freed as each column
    converts."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    try:
        schema = file.schema_arrow
        unique_columns([str(c) for c in schema.names], path)
        columns = [file.read(columns=[name]).column(0) for name in schema.names]
    finally:
        file.close()
    table = pa.Table.from_arrays(columns, schema=schema)
    del columns  # the table holds the only reference: self_destruct can free each one
    frame = table.to_pandas(self_destruct=True, split_blocks=True)
    pa.default_memory_pool().release_unused()  # the decode buffers, back to the system
    return frame


def read_header(path: Path, sep: str) -> list[str]:
    """The column names of a CSV/TSV (its first row); [] for an empty file."""
    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh, delimiter=sep), [])


def unique_columns(columns: list[str], path: str | Path) -> list[str]:
    """`columns`, or DataError naming the first one that appears twice (pandas would
    silently rename the second to `x1.1`)."""
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise DataError(
                f"the header names column {name!r} twice; rename or drop one of them",
                file=path,
                column=name,
            )
        seen.add(name)
    return columns


def _as_text(frame: pd.DataFrame, columns: set[str]) -> pd.DataFrame:
    """Parquet keeps types: integer ids become their text (missing values stay missing)."""
    from pandas.api.types import is_string_dtype

    for name in columns & set(frame.columns):
        if not is_string_dtype(frame[name]):
            values = frame[name]
            frame[name] = values.astype(str).where(values.notna(), None)
    return frame


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write `df` by suffix, atomically (a temp file beside it, then rename)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"unknown table format {suffix!r}; use .csv, .tsv or .parquet", file=path)
    if path.is_dir():
        raise DataError("the output is a folder; name a table file", file=path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # a file where a folder should be, no permission, ...
        raise DataError(
            f"cannot make the folder of the output ({err.strerror}); choose another path",
            file=path,
        ) from None
    if suffix in (".parquet", ".pq"):
        write_with(path, lambda tmp: df.to_parquet(tmp, index=False))
    else:
        sep = "\t" if suffix == ".tsv" else ","
        write_with(path, lambda tmp: df.to_csv(tmp, index=False, sep=sep))
