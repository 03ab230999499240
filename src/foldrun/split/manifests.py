"""The train/val/test manifests: the input rows of each subset, in input order, as CSV
(the default) or as Parquet (`write_parquet_manifests`: same rows, same column dtypes).

Every row is formatted once (column by column, with Arrow kernels) and its bytes copied into
each manifest that holds it, batch by batch, so a split of a million rows writes K full-size
manifests in seconds and never holds more than a batch of formatted rows. pandas `to_csv`
formats every row again for every manifest, through Python objects; pyarrow's `write_csv`
quotes every string and the header, and writes `1` for the float 1.0, which pandas then
reads back as an integer.

The bytes are those pandas `to_csv(index=False)` writes (header and strings quoted only
where needed, missing values empty, True/False), except floats: they are written in their
shortest round-trip form (Arrow's), with `.0` kept on whole numbers, so pandas reads back
the same float values and dtypes (`1e-05` may read `0.00001`, `1000000000000000.0` `1e+15`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from foldrun.data.table import release_heap
from foldrun.errors import SplitError

BATCH = 1 << 16  # rows formatted at a time: ~20 MB of text for 20 columns
ROW_GROUP = 1 << 17  # rows of a Parquet manifest taken and written at a time (~30 MB)
OPEN_FILES = 64  # manifests written in one pass over the table


def _s(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


Rows = Callable[[], np.ndarray]  # the sorted row numbers of one manifest, made when needed


def write_manifests(table: pd.DataFrame, manifests: list[tuple[Path, Rows]]) -> None:
    """Write each (path, rows) as the CSV of `table.iloc[rows()]` (rows sorted)."""
    if table.shape[1] < 2:  # a lone empty field is written `""`: leave that to pandas
        for path, rows in manifests:
            table.iloc[rows()].to_csv(path, index=False)
        return
    formatter = CsvRows(table)
    for first in range(0, len(manifests), OPEN_FILES):
        _write_pass(formatter, manifests[first : first + OPEN_FILES])


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """The whole table, as `write_manifests` writes rows."""
    write_manifests(table, [(path, lambda: np.arange(len(table)))])


def write_parquet_manifests(table: pd.DataFrame, manifests: list[tuple[Path, Rows]]) -> None:
    """Write each (path, rows) as the Parquet of `table.iloc[rows()]`: the table goes to
    Arrow once (its Arrow-backed strings and numbers without a copy), and each manifest takes
    its rows a row group at a time, so memory stays about one row group above the table.
    pandas reads back the same values and dtypes (the pandas schema is kept).

    Written for speed, as scratch files are: not compressed, no statistics, dictionary
    pages only for columns of few values (a dictionary of floats or ids is built per row
    group and dropped: twice the time of the whole write); about 2/3 the size of the CSV."""
    import pyarrow.parquet as pq

    try:
        arrow = pa.Table.from_pandas(table, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as err:
        why = " ".join(str(err).split())[:200]
        raise SplitError(
            f"the table cannot be written as Parquet manifests ({why}); give that column "
            "one type, or write CSV manifests",
            key="manifests",
        ) from None
    options = {"compression": "none", "write_statistics": False,
               "use_dictionary": _few_values(arrow)}  # fmt: skip
    for path, rows in manifests:
        idx = rows()
        with pq.ParquetWriter(path, arrow.schema, **options) as writer:
            if not len(idx):
                writer.write_table(arrow.slice(0, 0))
            for group in _row_groups(arrow, idx):
                writer.write_table(group)
        release_memory()


def _row_groups(arrow: pa.Table, idx: np.ndarray) -> Iterator[pa.Table]:
    """The rows `idx` (sorted) of `arrow`, ROW_GROUP at a time: each group filtered out of
    the span of rows it covers by a mask, not taken by index (a filter reads its span in
    order: the manifests of 1e6 x 20 rows in ~half the time of `take`, the same rows)."""
    mask = np.zeros(len(arrow), dtype=bool)
    mask[idx] = True
    for start in range(0, len(idx), ROW_GROUP):
        first, last = int(idx[start]), int(idx[min(start + ROW_GROUP, len(idx)) - 1]) + 1
        yield arrow.slice(first, last - first).filter(pa.array(mask[first:last]))


def release_memory() -> None:
    """Give the memory Arrow freed back to the system (its allocator keeps freed pages for
    reuse): a split of a big table writes file after file, and the pages one file's rows
    were taken in would otherwise stay counted in its peak."""
    pa.default_memory_pool().release_unused()
    release_heap()  # and the C heap's (numpy's arrays, pandas' buffers)


def _few_values(table: pa.Table) -> list[str]:
    """Text and category columns whose first rows hold at most 1 distinct value in 10."""
    names = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_dictionary(column.type):
            names.append(name)
        elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            head = column.slice(0, BATCH)
            if pc.count_distinct(head, mode="all").as_py() * 10 <= len(head):
                names.append(name)
    return names


def _write_pass(formatter: CsvRows, manifests: list[tuple[Path, Rows]]) -> None:
    indices = [rows() for _, rows in manifests]
    handles = [path.open("wb") for path, _ in manifests]
    try:
        for fh in handles:
            fh.write(formatter.header)
        for start, batch in formatter.batches(lambda s, e: _wanted(indices, s, e)):
            stop = start + len(batch)
            for fh, idx in zip(handles, indices, strict=True):
                lo, hi = np.searchsorted(idx, (start, stop))
                if hi - lo == len(batch):  # every row of the batch: no copy
                    fh.write(_text(batch))
                elif hi > lo:
                    fh.write(_text(batch.take(pa.array(idx[lo:hi] - start))))
    finally:
        for fh in handles:
            fh.close()


def _wanted(indices: list[np.ndarray], start: int, stop: int) -> bool:
    return any(np.searchsorted(idx, start) < np.searchsorted(idx, stop) for idx in indices)


def _text(rows: pa.Array) -> memoryview:
    """The bytes of a string array whose every value ends in a newline, back to back."""
    width = np.int64 if pa.types.is_large_string(rows.type) else np.int32
    first = rows.offset
    offsets = np.frombuffer(rows.buffers()[1], dtype=width)[first : first + len(rows) + 1]
    return memoryview(rows.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


class CsvRows:
    """The CSV lines of a table, formatted a batch of rows at a time."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.n = len(table)
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow([str(c) for c in table.columns])
        self.header = line.getvalue().encode()
        self.columns = [_column_formatter(table.iloc[:, i]) for i in range(table.shape[1])]

    def batches(self, wanted: Callable[[int, int], bool]) -> Iterator[tuple[int, pa.Array]]:
        """(first row, one line per row) for each batch that `wanted(start, stop)`."""
        for start in range(0, self.n, BATCH):
            stop = min(start + BATCH, self.n)
            if wanted(start, stop):
                fields = [fmt(start, stop) for fmt in self.columns]
                # the newline joins the last field, not the whole row: one pass less
                fields[-1] = pc.binary_join_element_wise(fields[-1], _s(""), _s("\n"))
                yield start, pc.binary_join_element_wise(*fields, _s(","))


Field = Callable[[int, int], pa.Array]  # (start, stop) -> the CSV text of those values


def _column_formatter(col: pd.Series) -> Field:
    dtype = col.dtype
    if dtype == np.float64:
        values = col.to_numpy()
        return lambda s, e: _floats(values[s:e])
    if dtype.kind in "iu" and isinstance(dtype, np.dtype):
        values = col.to_numpy()
        return lambda s, e: pc.cast(pa.array(values[s:e]), pa.large_string())
    if dtype == np.bool_:
        values = col.to_numpy()
        return lambda s, e: pc.if_else(pa.array(values[s:e]), _s("True"), _s("False"))
    if pd.api.types.is_string_dtype(dtype) and pd.api.types.infer_dtype(col) in (
        "string", "empty",
    ):  # fmt: skip
        text = _one_chunk(pa.array(col, type=pa.large_string(), from_pandas=True))
        return _strings(text)
    return _strings(pa.array(_as_pandas_writes(col), type=pa.large_string()))


def _strings(text: pa.Array) -> Field:
    """Quoted where Python's csv writer quotes; which rows need it is found once, in the
    column's bytes (ids and categories usually need none: each batch is then a slice)."""
    needs = _needs_quotes(text)
    return lambda s, e: _quoted(text.slice(s, e - s), needs[s:e])


def _one_chunk(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """pandas' Arrow-backed strings come as chunks: one array to slice."""
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _as_pandas_writes(col: pd.Series) -> list[str]:
    """Other dtypes (dates, categories, nullable, mixed objects): each value as pandas'
    `to_csv` writes it, unquoted."""
    if col.dtype == object or isinstance(col.dtype, pd.CategoricalDtype):
        values = col.astype(object)
        return ["" if _missing(v) else str(v) for v in values]
    # dates, timedeltas, nullable numbers, float32: pandas' own formatting, no newlines in it
    lines = col.to_frame().to_csv(index=False, header=False, lineterminator="\n")
    return ["" if v == '""' else v for v in lines.split("\n")[:-1]]


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _needs_quotes(text: pa.Array) -> np.ndarray:
    """Per row: holds `,` `"` `\\r` or `\\n` (ASCII: never inside a UTF-8 sequence)."""
    needs = np.zeros(len(text), dtype=bool)
    if text.buffers()[2] is None:  # all empty or missing
        return needs
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[
        text.offset : text.offset + len(text) + 1
    ]
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    # the four are below 0x2D (`-`, which UUIDs hold): one comparison a byte finds the few
    # candidates, then a table lookup of those only (a lookup of every byte: 90 ms per 1e6
    # UUIDs, 9x this)
    low = np.flatnonzero(data < 0x2D)
    special = np.zeros(256, dtype=bool)
    special[[ord(c) for c in ',"\r\n']] = True
    at = low[special[data[low]]] + offsets[0]
    needs[np.searchsorted(offsets, at, side="right") - 1] = True
    return needs


def _quoted(text: pa.Array, needs: np.ndarray) -> pa.Array:
    """Quoted where `needs` (`"` doubled); missing values empty."""
    if text.null_count:
        text = pc.fill_null(text, _s(""))
    rows = np.flatnonzero(needs)
    if not len(rows):
        return text
    inner = pc.replace_substring(text.take(pa.array(rows)), '"', '""')
    quoted = pc.binary_join_element_wise(_s('"'), inner, _s('"'), _s(""))
    return pc.replace_with_mask(text, pa.array(needs), quoted)


def _floats(values: np.ndarray) -> pa.Array:
    """Shortest round-trip text; whole numbers keep `.0` (pandas reads them as floats);
    NaN empty, as pandas writes it."""
    text = pc.cast(pa.array(values, from_pandas=True), pa.large_string())
    if text.null_count:
        text = pc.fill_null(text, _s(""))
    with np.errstate(invalid="ignore"):
        rows = np.flatnonzero(np.isfinite(values) & (values == np.trunc(values)))
    if not len(rows):
        return text
    whole = text.take(pa.array(rows))
    plain = ~pc.match_substring(whole, "e").to_numpy(zero_copy_only=False)  # not 1e+16
    mask = np.zeros(len(values), dtype=bool)
    mask[rows[plain]] = True
    dot = pc.binary_join_element_wise(whole.filter(pa.array(plain)), _s(".0"), _s(""))
    return pc.replace_with_mask(text, pa.array(mask), dot)
