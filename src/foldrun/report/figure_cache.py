"""The report's cache under `results/.plots`: drawn images and computed values kept by a
hash of their inputs and of the code that made them, so a report rebuilt over unchanged
results draws and computes nothing again. No matplotlib here: the analysis, which the run
summary also uses, keeps its tables in it (figure_drawing.py draws and keeps the images)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, TypeVar

import numpy as np
import pandas as pd
from pyarrow import ArrowException

from foldrun.core.files import write_atomic, write_with

CACHE = ".plots"  # under results/: drawn images keyed on a hash of their inputs


class _Cache:
    """Where drawn images are kept while a report is built (None: not kept), and the keys
    this build used (the others are removed at its end)."""

    folder: ClassVar[Path | None] = None
    used: ClassVar[set[str]] = set()


@contextmanager
def cache(results_dir: Path) -> Iterator[None]:
    """Within, a plot whose inputs (data, titles, the figure modules' code, matplotlib's
    version) hash to those of one drawn before is read from `results_dir/.plots` instead of
    drawn again: nothing changed, nothing redrawn; one model changed, one model redrawn.
    Images no longer used are removed at the end, so the folder holds only the last
    report's. A cache that cannot be read or written is skipped (the plot is drawn)."""
    folder, used = results_dir / CACHE, set[str]()  # pruned even if another cleared _Cache
    _Cache.folder, _Cache.used = folder, used
    try:
        yield
        _prune(folder, used | _Cache.used)
    finally:
        _Cache.folder, _Cache.used = None, set()


KINDS = ("png", "svg", "json", "parquet")  # what the cache holds


def keys_used() -> frozenset[str]:
    """The cache entries this build has used so far."""
    return frozenset(_Cache.used)


_T = TypeVar("_T")


def with_keys_used(work: Callable[[], _T]) -> tuple[_T, frozenset[str]]:
    """`work()` and the cache entries it used: what a forked worker hands back, for the
    parent to `mark_used`."""
    before = keys_used()
    return work(), keys_used() - before


def mark_used(keys: frozenset[str]) -> None:
    """Entries a forked worker used count as this build's (else the end of the build
    would remove what the worker kept)."""
    _Cache.used |= keys


def _prune(folder: Path, used: set[str]) -> None:
    """Removes the entries this build did not use, and temporaries of a killed one."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        stem, dot, suffix = entry.name.partition(".")
        kind = suffix.rpartition(".")[2]  # `<key>.png`, `<key>.json`, `<key>.<name>.parquet`
        ours = (dot and kind in KINDS and stem not in used) or suffix.endswith("tmp")
        if ours:
            Path(entry.path).unlink(missing_ok=True)


def _digest(h: hashlib._Hash, value: object) -> None:
    """Feeds `value` to the hash: frames by their columns, dtypes and every cell."""
    if isinstance(value, pd.DataFrame | pd.Series):
        frame = value.to_frame() if isinstance(value, pd.Series) else value
        h.update(repr((type(value).__name__, list(frame.columns), list(map(str, frame.dtypes)),
                       frame.shape)).encode())  # fmt: skip
        try:
            h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        except TypeError:  # cells pandas cannot hash (mixed objects): their text
            h.update(frame.to_csv().encode())
    elif isinstance(value, np.ndarray):
        h.update(repr((value.dtype.str, value.shape)).encode())
        h.update(value.tobytes() if value.dtype != object else repr(value.tolist()).encode())
    elif isinstance(value, dict):
        h.update(b"{")
        for k, v in value.items():
            _digest(h, k)
            _digest(h, v)
        h.update(b"}")
    elif isinstance(value, list | tuple):
        h.update(b"[")
        for v in value:
            _digest(h, v)
        h.update(b"]")
    else:
        h.update(repr((type(value).__name__, value)).encode())
    h.update(b";")


def key(name: str, inputs: object, code: bytes) -> str:
    """The entry's name: a hash of `code` (the source the entry depends on), `name` and
    `inputs`."""
    h = hashlib.sha256(code)
    _digest(h, (name, inputs))
    return h.hexdigest()


# an entry saying the plot did not apply (an empty file is a damaged entry, never this)
NOT_DRAWN = b"foldrun: no figure for these inputs\n"
_PNG_START, _PNG_END = b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82"


def lookup(key: str, suffix: str = ".png") -> bytes | None:
    """The entry stored under `key` (b"": the plot did not apply), or None: none, or one
    that is not whole (empty, truncated, overwritten: drawn again and replaced)."""
    if _Cache.folder is None:
        return None
    _Cache.used.add(key)
    try:
        data = (_Cache.folder / f"{key}{suffix}").read_bytes()
    except OSError:
        return None
    if data == NOT_DRAWN:
        return b""
    return data if _whole(data, suffix) else None


def _whole(data: bytes, suffix: str) -> bool:
    """Whether a cache entry reads whole: a PNG from its signature to its IEND chunk, an
    SVG from its tag to </svg>, JSON that parses. foldrun writes entries atomically, so a
    damaged one was damaged by something else; it is never copied into a report."""
    if suffix == ".png":
        return data.startswith(_PNG_START) and data.endswith(_PNG_END)
    if suffix == ".svg":
        return data.lstrip().startswith((b"<svg", b"<?xml")) and data.rstrip().endswith(b"</svg>")
    if suffix == ".json":
        try:
            json.loads(data)
        except ValueError:
            return False
    return bool(data)


def store(key: str, data: bytes, suffix: str = ".png") -> None:
    """Keeps `data` (b"": the plot did not apply) under `key`, when a cache is open."""
    if _Cache.folder is None:
        return
    with contextlib.suppress(OSError):  # a cache that cannot be written is only slower
        write_atomic(_Cache.folder / f"{key}{suffix}", data or NOT_DRAWN)


def remembered(name: str, inputs: object, code: bytes, compute: Callable[[], object]) -> object:
    """A JSON value computed from `inputs` by `code` (the source it depends on), kept like
    the images: computed again only when an input or the code changed."""
    entry = key(name, inputs, code)
    hit = lookup(entry, ".json")
    if hit:
        try:
            return json.loads(hit)
        except ValueError:
            pass
    value = compute()
    store(entry, json.dumps(value).encode(), ".json")  # NaN round-trips; floats exactly
    return value


def remembered_frames(
    name: str,
    inputs: object,
    code: bytes,
    compute: Callable[[], tuple[dict[str, pd.DataFrame], object]],
) -> tuple[dict[str, pd.DataFrame], object]:
    """(frames, JSON value) computed from `inputs` by `code`, kept like the images: the
    frames as Parquet files (never pickles: a run folder from elsewhere must not run code),
    and only when they read back exactly (columns, dtypes, index, every cell), so a report
    from the cache is the report computed afresh. Cache entries `compute` used (pooled
    intervals) are kept as long as this one is."""
    entry = key(name, inputs, code)
    hit = lookup(entry, ".json")
    if hit and _Cache.folder is not None:
        try:
            head = json.loads(hit)
            frames = {n: pd.read_parquet(_Cache.folder / f"{entry}.{n}.parquet")
                      for n in head["frames"]}  # fmt: skip
            _Cache.used.update(head["uses"])
            return frames, head["value"]
        except (OSError, ValueError, KeyError, TypeError, ArrowException):
            pass
    before = set(_Cache.used)
    frames, value = compute()
    if _Cache.folder is not None:
        head = {"frames": list(frames), "value": value, "uses": sorted(_Cache.used - before)}
        with contextlib.suppress(OSError, ValueError, TypeError, ArrowException):
            for n, frame in frames.items():
                path = _Cache.folder / f"{entry}.{n}.parquet"
                write_with(path, lambda tmp, frame=frame: frame.to_parquet(tmp))
                if not _same(frame, pd.read_parquet(path)):
                    return frames, value  # not kept: computed again next time
            store(entry, json.dumps(head).encode(), ".json")  # last: the entry is whole
    return frames, value


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    same_dtypes = list(map(str, a.dtypes)) == list(map(str, b.dtypes))
    same_index = type(a.index) is type(b.index) and a.index.equals(b.index)
    same_columns = list(a.columns) == list(b.columns) and a.columns.dtype == b.columns.dtype
    return same_columns and same_dtypes and same_index and a.equals(b)
