"""The split folder on disk: written atomically by `save_folds`, read by `load_folds`.

Layout (DESIGN.md): assignments.csv, folds.parquet, assignments.json, details.json,
`<fold dir>/{train,val,test}.csv` (full input rows, input order), holdout.csv,
`<fold dir>/inner_00/{train,test}.csv`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from foldrun.errors import SplitError
from foldrun.layout import fold_dir_name
from foldrun.split.folds import HOLDOUT, Folds, verify

MARKER = "details.json"


def dumps(obj: Any) -> str:
    """JSON with sorted keys: same object, same bytes."""
    return json.dumps(obj, sort_keys=True, indent=1, default=_plain) + "\n"


def _plain(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def save_folds(folds: Folds, out: Path, *, overwrite: bool = False) -> Path:
    """Write to a temp folder beside `out`, then rename it into place.

    An existing, different split at `out` is refused unless `overwrite`; an identical one
    is left as it is.
    """
    if out.exists() and not out.is_dir():
        raise SplitError("the output exists and is not a folder; choose another --out", file=out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _write(folds, tmp)
        _replace(tmp, out, overwrite)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    folds.root = out
    return out


def _replace(tmp: Path, out: Path, overwrite: bool) -> None:
    if out.is_dir() and any(out.iterdir()):
        if _digest(out) == _digest(tmp):
            return  # the same split: nothing to change
        if not overwrite:
            what = "a different split" if (out / MARKER).exists() else "other files"
            raise SplitError(
                f"the output folder already holds {what}; choose another --out, or remove it",
                file=out,
            )
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
        return
    if out.is_dir():
        out.rmdir()
    os.rename(tmp, out)


def _digest(root: Path) -> dict[str, str]:
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _write(folds: Folds, root: Path) -> None:
    if folds.table is None:  # loaded from disk: copy the folder as it is
        assert folds.root is not None
        shutil.copytree(folds.root, root)
        return
    assert folds.test_fold is not None
    group_codes = None
    if folds.group is not None:
        group_codes = np.unique(folds.table[folds.group].astype(str), return_inverse=True)[1]
    verify(folds.test_fold, group_codes, folds.group)  # checked again where files are written
    _check_rows(folds)
    root.mkdir(parents=True)
    folds.assignments.to_csv(root / "assignments.csv", index=False)
    folds.long.to_parquet(root / "folds.parquet", index=False)
    (root / "assignments.json").write_text(dumps(_assignment_map(folds)))
    (root / "details.json").write_text(dumps(folds.details))
    _write_manifests(folds, root)


def _check_rows(folds: Folds) -> None:
    """Every non-holdout row in exactly one test fold per repeat (and no other subset)."""
    for r in range(folds.n_repeats):
        tf = folds.test_fold[r]
        if np.any((tf < HOLDOUT) | (tf >= folds.n_folds)):
            raise SplitError(f"internal check failed: a row has no test fold in repeat {r}")
        if folds.val is not None and np.any(folds.val[r][np.arange(folds.n_folds)[:, None]
                                                         == tf[None, :]]):  # fmt: skip
            raise SplitError(f"internal check failed: a test row is also in val, repeat {r}")


def _assignment_map(folds: Folds) -> dict[str, Any]:
    key = folds.group or folds.id
    values = folds.table[key].astype(str).to_numpy()
    repeats = []
    for r in range(folds.n_repeats):
        pairs = dict(zip(values.tolist(), folds.test_fold[r].tolist(), strict=True))
        repeats.append(pairs)
    return {"key": key, "repeats": repeats}


def _write_manifests(folds: Folds, root: Path) -> None:
    table = folds.table
    assert table is not None
    for r in range(folds.n_repeats):
        for f in range(folds.n_folds):
            folder = root / fold_dir_name(f, r, folds.n_repeats)
            folder.mkdir(parents=True)
            subsets = ["train", "val", "test"] if folds.has_val else ["train", "test"]
            for subset in subsets:
                rows = folds.indices(f, subset, r)
                table.iloc[rows].to_csv(folder / f"{subset}.csv", index=False)
            _write_inner(folds, folder, r, f)
    held = folds.indices(0, "holdout")
    if len(held):
        table.iloc[held].to_csv(root / "holdout.csv", index=False)


def _write_inner(folds: Folds, folder: Path, r: int, f: int) -> None:
    inner = folds.inner.get((r, f))
    if inner is None:
        return
    for i in range(int(inner.max()) + 1):
        sub = folder / f"inner_{i:02d}"
        sub.mkdir()
        folds.table.iloc[np.flatnonzero((inner >= 0) & (inner != i))].to_csv(
            sub / "train.csv", index=False
        )
        folds.table.iloc[np.flatnonzero(inner == i)].to_csv(sub / "test.csv", index=False)


def load_folds(dir: str | Path) -> Folds:
    """Read a split folder written by `foldrun split` / `Folds.save`."""
    root = Path(dir)
    try:
        details = json.loads((root / MARKER).read_text())
        long = pd.read_parquet(root / "folds.parquet")
        assignments = pd.read_csv(root / "assignments.csv")
    except FileNotFoundError as err:
        raise SplitError(
            f"not a split folder ({Path(err.filename).name} missing); run 'foldrun split' first",
            file=root,
        ) from None
    except (ValueError, OSError) as err:
        raise SplitError(f"the split folder is damaged ({err}); make it again", file=root) from err
    return Folds(
        details=details,
        id=str(details["params"]["id"]),
        group=details["params"].get("group"),
        root=root,
        _long=long,
        _assignments=assignments,
    )
