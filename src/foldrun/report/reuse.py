"""An unchanged report is kept, not built again (issue 26 item 2).

A report records in its folder (`.foldrun-reuse.json`) what it was made from: a key (a
SHA-256 of foldrun's code and the libraries' versions, the spec as parsed, the report
options, the stamp of the four result tables refresh wrote, the stamp of every task folder,
the provenance) and the stamp of every other file it read (the audit hook of plan/cache.py
records them: params.json, training curves, task-written images, race and split files), and
of every file it wrote. `foldrun report` of a run whose key, read files and report files are
all as recorded returns the report already there (its cv_summary.json) instead of analysing,
drawing and writing it again. Anything changed rebuilds it: a task rerun or edited (its
folder, DONE, metrics.json or predictions change the tables refresh writes), a file the
report read, the spec, the code, the report folder itself. A stamp is size, mtime, ctime and
inode (an mtime put back still counts); inputs changed within RACY_NS of the record, or while
the report was built, are never recorded (git's racy-clean rule): the next report builds.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from foldrun.core.files import write_json
from foldrun.plan.cache import recording, stat_stamp
from foldrun.report.figure_cache import CACHE
from foldrun.report.provenance import provenance
from foldrun.results.collect import TABLES

if TYPE_CHECKING:
    from foldrun.results import Results

RECORD = ".foldrun-reuse.json"  # in the report folder (listed in its marker)
VERSION = 1
RACY_NS = 2_000_000_000  # an input this recent may change again unseen within its clock's step
_LIBRARIES = ("matplotlib", "scipy", "scikit-learn", "duckdb", "pyarrow")
_SOURCES = Path(__file__).resolve().parents[1]  # foldrun's package: its code is in the key
_MARKER = ".foldrun-report"


@functools.cache
def _code() -> bytes:
    """foldrun's sources and the versions of what draws and computes: any change rebuilds."""
    h = hashlib.sha256(sys.version.encode())
    for path in sorted(_SOURCES.rglob("*.py")):
        h.update(path.read_bytes())
    for name in _LIBRARIES:
        try:
            h.update(f"{name}={metadata.version(name)};".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name}=;".encode())
    h.update(f"numpy={np.__version__};pandas={pd.__version__}".encode())
    return h.digest()


class Key(NamedTuple):
    digest: str  # what a report of the results is made from
    newest: int  # the newest mtime or ctime (ns) of the task folders (for the racy rule)
    provenance: dict[str, object]  # as the key holds it: the report shows this one


def key(results: Results, target: Path) -> Key:
    """The key of what a report of `results` in `target` is made from, the newest ctime
    (ns) of the task folders in it, and the provenance it holds (the report built after it
    shows that one: reading every task's packages.json again cost 1.3 s at 100,000 tasks)."""
    told = provenance(results)
    source = results.source
    tables = source.layout.results_dir
    inputs = {
        "target": str(target),
        "run": [str(source.run_dir), str(source.spec_path), source.dataset, source.raw],
        "options": results.options,
        "planned": results.planned,
        "not_in_spec": results.not_in_spec,
        "tables": [stat_stamp(str(tables / f"{name}.parquet")) for name in TABLES],
        "provenance": told,
        "umask": _umask(),  # the report folder's mode follows it
    }
    h = hashlib.sha256(f"{VERSION}\0".encode() + _code())
    h.update(json.dumps(inputs, sort_keys=True, default=str).encode())
    newest = 0
    paths = results.tasks["path"].tolist() if "path" in results.tasks else []
    for path in paths:  # a file added to or taken from a task folder changes its stamp
        stamp = stat_stamp(str(path))
        h.update(repr(stamp).encode())
        newest = max(newest, stamp[1], stamp[2]) if stamp else newest
    return Key(h.hexdigest(), newest, told)


def _umask() -> int:
    mask = os.umask(0o022)  # read by setting it: put back at once
    os.umask(mask)
    return mask


def _files(folder: Path) -> dict[str, list[int] | None]:
    """The stamp of every file of a report folder but the record and the marker."""
    out = {}
    for top, _, names in os.walk(folder):
        for name in names:
            rel = os.path.relpath(os.path.join(top, name), folder)
            if rel not in (RECORD, _MARKER):
                out[rel] = stat_stamp(os.path.join(top, name))
    return out


def reused(results: Results, target: Path) -> dict[str, object] | None:
    """The summary of the report in `target` when it was made from exactly these inputs
    and is as it was written (cv_summary.json, as written), else None: build it."""
    try:
        record = json.loads((target / RECORD).read_text())
        if record.get("version") != VERSION or not (target / _MARKER).is_file():
            return None
        if any(stat_stamp(path) != stamp for path, stamp in record["reads"].items()):
            return None
        if _files(target) != record["files"] or key(results, target).digest != record["key"]:
            return None
        summary = json.loads((target / "cv_summary.json").read_text())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return summary if isinstance(summary, dict) else None


class _Reads:
    """The files read by the build under way (this process's and its drawing workers')."""

    seen: set[str] | None = None


@contextmanager
def reading() -> Iterator[set[str]]:
    """Within, the files this process opens or lists (and those `note` adds) are collected."""
    with recording() as seen:
        _Reads.seen = seen
        try:
            yield seen
        finally:
            _Reads.seen = None


def note(paths: Iterable[str]) -> None:
    """Files a forked worker read for this build."""
    if _Reads.seen is not None:
        _Reads.seen.update(paths)


def worker_reads(work) -> tuple[object, frozenset[str]]:  # type: ignore[no-untyped-def]
    """`work()` and the files it opened or listed (a drawing worker hands them back)."""
    with recording() as seen:
        value = work()
    return value, frozenset(seen)


def record(results: Results, target: Path, folder: Path, before: Key, reads: set[str]) -> None:
    """Writes the record into the built report `folder` (to be renamed to `target`), unless
    an input changed while it was built or too recently to be told apart from a later change."""
    after = key(results, target)
    if after.digest != before.digest:
        return
    now = time.time_ns()
    inputs = {path: stat_stamp(path) for path in sorted(_kept(reads, results, folder, target))}
    newest = max([after.newest, *(max(s[1], s[2]) for s in inputs.values() if s)])
    if newest > now - RACY_NS:
        return
    body = {"version": VERSION, "key": after.digest, "reads": inputs, "files": _files(folder)}
    write_json(folder / RECORD, body)


def _kept(reads: set[str], results: Results, folder: Path, target: Path) -> set[str]:
    """The files read that the key does not cover: not the report being written, the figure
    cache (its entries are keyed on their inputs), the tables, foldrun's or Python's own."""
    tables = str(results.source.layout.results_dir)
    below = (str(folder), str(target), os.path.join(tables, CACHE), str(_SOURCES), sys.prefix,
             sys.base_prefix, "/proc", "/sys", "/dev")  # fmt: skip
    skip = {os.path.join(tables, f"{name}.parquet") for name in TABLES} | set(below)
    prefixes = tuple(os.path.join(p, "") for p in below)
    paths = {os.path.abspath(p) for p in reads}
    return {p for p in paths if p not in skip and not p.startswith(prefixes)}
