"""Atomic file writes: a reader sees the old file or the new one, whole, never half of one.

Every file foldrun replaces in place (records in `.foldrun/`, result tables, the plan,
job stores, caches) goes through here: written to a hidden temporary name beside the
target (same folder, so the rename stays on one file system), then renamed over it. A
write that fails leaves the target as it was and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_with(path: str | os.PathLike[str], write: Callable[[Path], object], *,
               sync: bool = False) -> None:  # fmt: skip
    """`write(tmp)` fills a temporary file, which then replaces `path` (parents made).
    `sync`: the data reaches the disk before the rename (a record that must survive a
    power cut, not only a crash)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        if sync:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_atomic(path: str | os.PathLike[str], data: str | bytes, *, sync: bool = False) -> None:
    """`data` (text as UTF-8) as the new content of `path`."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    write_with(path, lambda tmp: tmp.write_bytes(raw), sync=sync)


def write_json(path: str | os.PathLike[str], obj: Any, *, sync: bool = False, **dumps: Any) -> None:
    """`obj` as JSON (`dumps`: json.dumps options) as the new content of `path`."""
    write_atomic(path, json.dumps(obj, **dumps), sync=sync)


def write_if_changed(path: str | os.PathLike[str], data: str | bytes) -> bool:
    """Replace `path` with `data` (text as UTF-8) only when its content differs (so
    concurrent writers of the same data never touch it); True when it was written."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if Path(path).read_bytes() == raw:
            return False
    except FileNotFoundError:
        pass
    write_atomic(path, raw)
    return True


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's bytes, read a MiB at a time (the one rule for hashing files:
    manifests, tables, fold tables, the user's code)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
