"""The split folder on disk: written atomically by `save_folds`, read by
`folds.load_folds`.

Layout (README "Output folders"): assignments.csv, folds.parquet, assignments.json, details.json,
`<fold dir>/{train,val,test}.csv` (full input rows, input order), holdout.csv,
`<fold dir>/inner_00/{train,test}.csv`; with `manifests="parquet"` every manifest is a
`.parquet` file instead (same rows, same dtypes).

An existing folder is replaced only when it is a split folder foldrun made (details.json
and nothing but split files; foldrun.core.owned), never any other folder.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from foldrun.core.owned import Kind, check_replaceable, staging, writing
from foldrun.core.strategies import MANIFEST_FORMATS as FORMATS
from foldrun.errors import SplitError
from foldrun.layout import INNER_MANIFESTS, SplitLayout
from foldrun.split.assign import HOLDOUT, verify
from foldrun.split.core import text_codes
from foldrun.split.fold_table import NO_TEST
from foldrun.split.manifests import (
    Rows,
    release_memory,
    write_csv,
    write_manifests,
    write_parquet_manifests,
)

if TYPE_CHECKING:  # Folds.save calls save_folds: the class is only a type here
    from foldrun.split.folds import Folds

SPLIT = Kind(
    what="split folder", marker=SplitLayout.MARKER, patterns=SplitLayout.owned_patterns()
)


class _Unchanged(Exception):
    """The split at `out` is this one already: nothing to replace."""


def dumps(obj: Any) -> str:
    """JSON with sorted keys: same object, same bytes."""
    return json.dumps(obj, sort_keys=True, indent=1, default=_plain) + "\n"


def _plain(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def save_folds(
    folds: Folds, out: Path, *, overwrite: bool = False, long: bool = True, manifests: str = "csv"
) -> Path:
    """Write to a temp folder beside `out`, then rename it into place.

    An existing, different split at `out` (other folds, or manifests in the other format)
    is refused unless `overwrite`; an identical one is left as it is. A folder that is not
    a split foldrun made is never replaced.
    """
    out = Path(out)
    if manifests not in FORMATS:
        raise SplitError(
            f"manifests must be one of {', '.join(FORMATS)}, got {manifests!r}", key="manifests"
        )
    check_replaceable(out, SPLIT, error=SplitError)  # before anything is written
    try:
        with writing(out.parent, SplitError), staging(out, SPLIT, error=SplitError) as tmp:
            _write(folds, tmp, long, manifests)
            if out.is_dir() and any(out.iterdir()):
                if _digest(out) == _digest(tmp):
                    raise _Unchanged
                if not overwrite:
                    raise SplitError(
                        "the output folder already holds a different split; choose another "
                        "--out, or pass --overwrite to replace it",
                        file=out,
                    )
    except _Unchanged:
        pass
    folds.root = out
    folds.manifests = manifests if folds.table is not None else manifest_format(out)
    return out


def _digest(root: Path) -> dict[str, str]:
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def manifest_format(root: Path) -> str:
    """The format of the split folder's manifests: "parquet" or "csv"."""
    return SplitLayout(root).manifest_format()


def _write(folds: Folds, root: Path, long: bool = True, manifests: str = "csv") -> None:
    if folds.table is None:  # loaded from disk: copy the folder as it is
        assert folds.root is not None
        shutil.copytree(folds.root, root, dirs_exist_ok=True)
        return
    assert folds.test_fold is not None
    group_codes = folds._group_codes  # those the folds were made and checked with
    if folds.group is not None and group_codes is None:
        group_codes = text_codes(folds.table[folds.group])
    verify(folds.test_fold, group_codes, folds.group)  # checked again where files are written
    _check_rows(folds)
    root.mkdir(parents=True, exist_ok=True)
    release_memory()  # what making the folds left: each file below starts from the table
    split = SplitLayout(root)
    # not kept on `folds` (a frame of every row and repeat) unless asked for already
    assignments = folds._assignments
    write_csv(assignments if assignments is not None else folds._build_assignments(),
              split.assignments_csv)  # fmt: skip
    release_memory()
    if long:
        _write_long(folds, split.folds_parquet)
        release_memory()
    split.assignments_json.write_text(_assignments_text(folds))
    split.details.write_text(dumps(folds.details))
    release_memory()  # the strings of assignments.json
    _write_manifests(folds, split, manifests)


_LONG_KEYS = ["repeat", "fold", "subset"]


def _write_long(folds: Folds, path: Path) -> None:
    """folds.parquet, a row group per `long_parts` piece: never the whole long table in
    memory.
    Dictionary pages and statistics (a reader skips the row groups of other folds) for
    repeat, fold and subset only: ids are unique in a fold, so building their dictionary,
    to drop it, took as long as the rest of the write, and their min/max skip nothing. Not
    compressed: Snappy took 2/3 of the write's CPU (5M ids: ~1.0 -> 0.3 s) to save 10%
    of the file (random ids barely compress); the same content (pandas and pyarrow read
    the same table)."""
    writer = None
    try:
        for part in folds.long_parts():
            writer = writer or pq.ParquetWriter(
                path, part.schema, use_dictionary=_LONG_KEYS, write_statistics=_LONG_KEYS,
                compression="none",
            )
            writer.write_table(part)
    finally:
        if writer is not None:
            writer.close()


def _check_rows(folds: Folds) -> None:
    """Every non-holdout row in exactly one test fold per repeat (and no other subset)."""
    for r in range(folds.n_repeats):
        tf = folds.test_fold[r]
        untested = (tf == NO_TEST) if folds.members is not None else False  # listed folds
        if np.any(((tf < HOLDOUT) & ~untested) | (tf >= folds.n_folds)):
            raise SplitError(f"internal check failed: a row has no test fold in repeat {r}")
        if folds.val is not None and np.any(folds.val[r][np.arange(folds.n_folds)[:, None]
                                                         == tf[None, :]]):  # fmt: skip
            raise SplitError(f"internal check failed: a test row is also in val, repeat {r}")


def _assignment_map(folds: Folds) -> dict[str, Any]:
    """{"key": the group (else id) column, "repeats": [{value as text: test fold}]}: each
    value's fold is that of its last row (as a dict of every row would keep)."""
    key, names, repeats = _assignment_lists(folds)
    return {"key": key, "repeats": [dict(zip(names, f, strict=True)) for f in repeats]}


def _assignment_lists(folds: Folds) -> tuple[str, list[str], list[list[int]]]:
    """(key column, its values as text, each repeat's test fold per value): one Python
    string per value, not per row."""
    key = folds.group or folds.id
    text = folds.table[key].astype(str)
    codes = folds._group_codes if key == folds.group else None  # core.text_codes(text)
    if codes is None:
        codes, _ = pd.factorize(text, use_na_sentinel=False)
    last = np.zeros(int(codes.max()) + 1 if len(codes) else 0, dtype=np.int64)
    np.maximum.at(last, codes, np.arange(len(codes)))  # no sort of the codes
    # each value's text at its last row (any row of the value has that text)
    names = [str(v) for v in np.asarray(text.iloc[last], dtype=object)]  # no scalar per value
    return key, names, [folds.test_fold[r][last].tolist() for r in range(folds.n_repeats)]


def _assignments_text(folds: Folds) -> str:
    """assignments.json: the bytes `dumps(_assignment_map(folds))` gives (sorted keys,
    indent 1, ASCII escapes), laid out here a line per value: json's encoder runs its
    Python loop for every key when it indents (1e5 groups: 0.23 -> ~0.05 s)."""
    from json.encoder import encode_basestring_ascii as quote  # json.dumps' own (C)

    key, names, repeats = _assignment_lists(folds)
    order = sorted(range(len(names)), key=names.__getitem__)  # sort_keys: distinct keys
    keys = [f"   {quote(names[i])}: " for i in order]
    blocks = []
    for folds_of in repeats:
        lines = ",\n".join([k + str(folds_of[i]) for k, i in zip(keys, order, strict=True)])
        blocks.append("  {\n" + lines + "\n  }" if lines else "  {}")
    return f'{{\n "key": {quote(key)},\n "repeats": [\n' + ",\n".join(blocks) + "\n ]\n}\n"


def _write_manifests(folds: Folds, split: SplitLayout, fmt: str) -> None:
    table = folds.table
    assert table is not None
    subsets = ["train", "val", "test"] if folds.has_val else ["train", "test"]
    manifests: list[tuple[Path, Rows]] = []
    for r in range(folds.n_repeats):
        for f in range(folds.n_folds):
            folder = split.fold_dir(f, r, folds.n_repeats)
            folder.mkdir(parents=True)
            for subset in subsets:
                rows = partial(folds.indices, f, subset, r)
                manifests.append((split.manifest(folder, subset, fmt), rows))
            manifests += _inner(folds, folder, r, f, fmt)
    held = folds.indices(0, "holdout")
    if len(held):
        manifests.append((split.holdout(fmt), lambda: held))
    (write_parquet_manifests if fmt == "parquet" else write_manifests)(table, manifests)


def _inner(folds: Folds, folder: Path, r: int, f: int, fmt: str) -> list[tuple[Path, Rows]]:
    inner = folds.inner.get((r, f))
    if inner is None:
        return []
    out: list[tuple[Path, Rows]] = []
    for i in range(int(inner.max()) + 1):
        sub = SplitLayout.inner_dir(folder, i)
        sub.mkdir()
        for subset in INNER_MANIFESTS:
            out.append((SplitLayout.manifest(sub, subset, fmt),
                        partial(_inner_rows, inner, i, subset)))  # fmt: skip
    return out


def _inner_rows(inner: np.ndarray, i: int, subset: str) -> np.ndarray:
    return np.flatnonzero(inner == i if subset == "test" else (inner >= 0) & (inner != i))
