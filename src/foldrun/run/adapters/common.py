"""Reading manifests and writing predictions: shared by the in-process adapters."""

from __future__ import annotations

import collections
import contextlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from foldrun.core.imports import BadRef, resolve
from foldrun.core.state import metrics_problem
from foldrun.core.task import PlannedTask
from foldrun.data.table import read_table
from foldrun.errors import RunError
from foldrun.layout import TaskFiles
from foldrun.results.metrics import compute_metrics

SUBSETS = ("test", "val", "holdout")


def import_object(ref: str, task: PlannedTask | None = None) -> Any:
    """`module:name` -> the object (a class or a function).

    The spec's folder goes on `sys.path` first, as `foldrun check` does (core/imports.py),
    so a module lying beside foldrun.toml imports at run time exactly when it passed the
    check; it stays there (a model pickled from such a module unpickles later). An import
    error is the module's own, raised as it is.
    """
    spec_path = task.recipe.spec_path if task is not None else None
    folder = Path(spec_path).resolve().parent if spec_path else None
    try:
        return resolve(ref, folder, keep=True)
    except BadRef:
        raise RunError(f"{ref!r} must look like 'module:Name'", key=ref) from None


def data_info(task: PlannedTask) -> dict[str, Any]:
    return dict(task.recipe.data)


def input_path(task: PlannedTask, name: str) -> Path | None:
    value = task.recipe.inputs.get(name)
    return Path(value) if value else None


def read_manifest(path: Path, task: PlannedTask | None = None) -> pd.DataFrame:
    """A manifest, its id and group columns as text (`007` stays `007`); a shallow copy of
    the one this process read while the file stays the same (manifest_key, _kept_manifest)."""
    info = data_info(task) if task is not None else {}
    group = info.get("group")  # a list: a composite key
    text = tuple(c for c in (info.get("id"), *(group if isinstance(group, list) else [group])) if c)
    key = manifest_key(path)
    if key is None:
        return read_table(path, text=text)  # its error names the file; big files not kept
    return _kept_manifest(key, text).copy(deep=False)  # the caller's edits stay its own


# A command task's adapter, the worker's fold check and scoring each read the fold's
# manifests (five reads of one file per task, ~3 ms each); a reused slot process runs the
# folds of many tasks. Kept while the file is unchanged: its stat is the key, ctime and
# inode included (an edit with its mtime put back still reads again); small files only,
# the most recently used up to MANIFESTS_KEPT_BYTES of files in all (was the last four:
# a slot running the folds of a 5-fold split in turn read each fold's again: issue 26).
MANIFEST_KEPT_BYTES = 2 * 1024 * 1024
MANIFESTS_KEPT_BYTES, MANIFESTS_KEPT = 16 * 1024 * 1024, 64  # parsed: a few times that
_Stat = tuple[str, int, int, int, int]  # manifest_key: path, size, mtime, ctime, inode
_KEPT: collections.OrderedDict[tuple[_Stat, tuple[str, ...]], pd.DataFrame] = (
    collections.OrderedDict()
)


def manifest_key(path: Path) -> _Stat | None:
    """The stat of a manifest small enough to keep in memory; None otherwise."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if st.st_size > MANIFEST_KEPT_BYTES:
        return None
    return os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def _kept_manifest(key: _Stat, text: tuple[str, ...]) -> pd.DataFrame:
    """The manifest of `key` (manifest_key) read with `text` columns as text, kept."""
    kept = (key, text)
    if kept in _KEPT:
        _KEPT.move_to_end(kept)
        return _KEPT[kept]
    frame = read_table(key[0], text=text)
    for old in [k for k in _KEPT if k[0][0] == key[0] and k[0] != key]:  # as it was before
        del _KEPT[old]
    _KEPT[kept] = frame
    while len(_KEPT) > MANIFESTS_KEPT or sum(k[0][1] for k in _KEPT) > MANIFESTS_KEPT_BYTES:
        _KEPT.popitem(last=False)
    return frame


# The predictions file this process read last (the worker's read-back of a predict's file
# before its commit), kept while the file's stat is the same: foldrun's evaluate of that
# fold runs next in the same slot (backends/local: `after`) and scores what was read and
# checked there without a second read (issue 26). Small files only (manifest_key).
_LAST_READ: dict[tuple[_Stat, tuple[str, ...] | None], pd.DataFrame] = {}


def read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """`pd.read_parquet` of one small file (a task's predictions), the same frame without
    pyarrow's dataset layer and its thread pool: ~0.6 ms against ~2-5 ms, more on a busy
    machine, where the pool's threads waited for a CPU (issue 26); the file read last
    again while unchanged (a shallow copy: the caller's edits stay its own)."""
    stat = manifest_key(path)
    key = None if stat is None else (stat, None if columns is None else tuple(columns))
    if key is not None and key in _LAST_READ:
        return _LAST_READ[key].copy(deep=False)
    frame = _read_parquet(path, columns)
    _LAST_READ.clear()
    if key is not None:
        _LAST_READ[key] = frame
    return frame.copy(deep=False)


# The predictions file the worker's read-back found whole and covering the fold (its
# stat as read_parquet read it, with the stats of the task's fold manifests it was checked
# against): foldrun's evaluate of that fold, next in the same slot, scores those rows
# without checking them again (~1 ms a fold; issue 26). Any change of the file or of a
# manifest since, or another file read in between, and the evaluate checks them itself.
_CHECKED: set[tuple[object, ...]] = set()


def fold_checked(task: PlannedTask, path: Path, required: tuple[str, ...] = ()) -> str:
    """ids_problem of the predictions file at `path` (read_parquet: every page against its
    checksum), remembered when it passes (read_checked)."""
    _CHECKED.clear()
    problem = ids_problem(task, read_parquet(path), required)
    read, manifests = _last_read(path), _fold_manifests(task)
    if not problem and read is not None and manifests is not None:
        _CHECKED.add((read, manifests))
    return problem


def read_checked(task: PlannedTask, path: Path) -> tuple[pd.DataFrame, bool]:
    """read_parquet(path), and whether those rows are the ones fold_checked found covering
    this task's fold (the file and the manifests unchanged since)."""
    frame = read_parquet(path)
    read, manifests = _last_read(path), _fold_manifests(task)
    return frame, read is not None and manifests is not None and (read, manifests) in _CHECKED


def _last_read(path: Path) -> tuple[object, ...] | None:
    """The key of the whole file read_parquet kept last, if it is `path`'s."""
    found = [key for key in _LAST_READ if key[1] is None and key[0][0] == os.path.abspath(path)]
    return found[0] if found else None


def _fold_manifests(task: PlannedTask) -> tuple[object, ...] | None:
    """The stats of the task's manifests a fold check reads (SUBSETS and external sets);
    None when one has none (missing, or too big to keep: its change would go unseen)."""
    stats: list[tuple[str, _Stat]] = []
    for name in sorted(n for n in task.recipe.inputs if n in SUBSETS or ":" in n):
        path = input_path(task, name)
        if path is None:
            continue
        if (stat := manifest_key(path)) is None:
            return None
        stats.append((name, stat))
    return tuple(stats)


def _read_parquet(path: Path, columns: list[str] | None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path, page_checksum_verification=True) as parquet:
        table = parquet.read(columns=columns, use_threads=False, use_pandas_metadata=True)
    try:  # pandas' own conversion, as pd.read_parquet (its text dtype on any pyarrow)
        from pandas.io._util import arrow_table_to_pandas
    except ImportError:
        return table.to_pandas()
    return arrow_table_to_pandas(table)


def has_labels(task: PlannedTask, subset: str) -> bool:
    """Whether the manifest of `subset` holds the target column(s): an external set may
    not (its model's own evaluate scores it)."""
    path = input_path(task, subset)
    return path is not None and set(targets(task)) <= set(read_manifest(path, task).columns)


def targets(task: PlannedTask) -> list[str]:
    target = data_info(task)["target"]
    return list(target) if isinstance(target, list | tuple) else [target]


def xy(task: PlannedTask, frame: pd.DataFrame) -> tuple[pd.DataFrame, Any]:
    """Features and target of a manifest, rows in manifest order."""
    info = data_info(task)
    X = frame[list(info["features"])]
    cols = targets(task)
    y = frame[cols].to_numpy() if task.recipe.problem == "multilabel" else frame[cols[0]]
    return X, y


def upstream(task: PlannedTask, stage: str) -> Path:
    ups = task.recipe.upstream
    if stage not in ups:
        raise RunError(f"task {task.key} has no upstream {stage} task in its plan", key=task.key)
    return Path(ups[stage])


def label_name(value: object) -> str:
    """A class label as it appears in a column name (`proba_<class>`)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def estimator_predictions(
    model: Any, task: PlannedTask, frame: pd.DataFrame, subset: str
) -> pd.DataFrame:
    """id, subset, pred (and proba_<class> where the model has predict_proba)."""
    X, _ = xy(task, frame)
    out = pd.DataFrame({"id": frame[data_info(task)["id"]].to_numpy(), "subset": subset})
    pred = model.predict(X)
    if task.recipe.problem == "multilabel":
        labels = targets(task)
        pred = np.asarray(pred)
        for i, lab in enumerate(labels):
            out[f"pred_{lab}"] = pred[:, i]
        if hasattr(model, "predict_proba"):
            out = _multilabel_proba(model.predict_proba(X), labels, out)
        return out
    out["pred"] = pred
    if task.recipe.problem != "regression" and hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        for i, cls in enumerate(model.classes_):
            out[f"proba_{label_name(cls)}"] = proba[:, i]
    return out


def _multilabel_proba(proba: Any, labels: list[str], out: pd.DataFrame) -> pd.DataFrame:
    if isinstance(proba, list):  # one (n, 2) array per label (e.g. random forests)
        for lab, p in zip(labels, proba, strict=True):
            out[f"proba_{lab}"] = np.asarray(p)[:, -1]
    else:
        for i, lab in enumerate(labels):
            out[f"proba_{lab}"] = np.asarray(proba)[:, i]
    return out


def write_predictions(frame: pd.DataFrame, folder: Path) -> Path:
    path = folder / TaskFiles.PREDICTIONS
    # each page with its CRC: a page changed on disk later fails its read (read_parquet,
    # core/state.parquet_reads) instead of reading back with another number
    if frame.attrs or not all(isinstance(c, str) for c in frame.columns):
        frame.reset_index(drop=True).to_parquet(path, index=False, write_page_checksum=True)
        return path
    # the bytes `to_parquet(index=False)` writes (pyarrow's table of the frame, no index,
    # snappy), without pandas' file-handle layer: ~0.3 ms of ~1.5 a file (issue 26);
    # tests/run/adapters/test_common.py compares the files
    import pyarrow as pa
    import pyarrow.parquet as pq

    with _quiet_values_warning():
        table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, path, compression="snappy", write_page_checksum=True)
    return path


def _quiet_values_warning() -> Any:
    """pandas' own guard around `Table.from_pandas` in to_parquet, where this pandas has it."""
    try:
        from pandas.io.parquet import suppress_pyarrow_values_warning
    except ImportError:
        return contextlib.nullcontext()
    return suppress_pyarrow_values_warning()


def read_predictions_file(folder: Path) -> pd.DataFrame | None:
    """A command's predictions.parquet or predictions.csv in `folder`, if it wrote one."""
    for name in (TaskFiles.PREDICTIONS, "predictions.csv"):
        path = folder / name
        if path.exists():
            if name.endswith("parquet"):
                return read_parquet(path)
            return pd.read_csv(path, dtype={"id": str})
    return None


def id_key(values: pd.Series) -> pd.Series:
    """Ids compared as text: a CSV written by a command may parse them to another dtype."""
    if isinstance(values.dtype, pd.StringDtype) and not values.hasnans:
        return values  # text already (label_name is str of each): map cost ~2 ms a call
    return values.map(label_name)


def assign_subsets(task: PlannedTask, preds: pd.DataFrame, default: str = "test") -> pd.DataFrame:
    """Give predictions without a `subset` column the subset whose manifest holds each id."""
    if "subset" in preds:
        return preds
    id_col = data_info(task)["id"]
    subset = np.full(len(preds), default, dtype=object)
    keys = id_key(preds["id"]).tolist()
    for name in ("val", "holdout", "test", *task.external_sets()):
        path = input_path(task, name)
        if path is not None and path.exists():
            ids = set(id_key(read_manifest(path, task)[id_col]).tolist())
            # a set lookup per id: Series.isin on pandas' str dtype loops in Python (issue 26)
            subset[np.fromiter((k in ids for k in keys), bool, len(keys))] = name
    preds = preds.copy(deep=False)  # the caller's frame keeps its columns (no data copied)
    preds.insert(1, "subset", pd.Series(subset, index=preds.index, dtype=object))
    return preds


def read_metrics(path: Path) -> dict[str, Any]:
    """A metrics file the task's program wrote: a flat JSON object of numbers (NaN or null
    allowed; core/state.metrics_problem is the rule), else a one-line RunError."""
    text = path.read_text(errors="replace")
    if problem := metrics_problem(text):
        raise RunError(f"{problem}; write a flat JSON object of numbers", file=path)
    return dict(json.loads(text))


def merge_metrics(folder: Path, metrics: dict[str, float]) -> None:
    """Add foldrun's metrics to the task's flat metrics.json (task-defined keys are kept)."""
    path = folder / TaskFiles.METRICS
    current = read_metrics(path) if path.exists() else {}
    current.update(metrics)
    path.write_text(json.dumps(current, indent=1, allow_nan=True) + "\n")


def with_truth(task: PlannedTask, preds: pd.DataFrame, checked: bool = False) -> pd.DataFrame:
    """Predictions joined with y_true from the manifest of each subset (rows by subset, in
    the order each first appears; a row without a subset is dropped, as groupby does).
    `checked`: the fold check passed on these rows already (read_checked)."""
    if not checked and (problem := ids_problem(task, preds)):
        raise RunError(f"the predictions cannot be scored: {problem}", key=task.key)
    subsets = preds["subset"]
    parts = [_joined(task, subset, rows) for subset, rows in _one_subset(preds)] or [
        _joined(task, subset, preds[(subsets == subset).to_numpy()])
        for subset in subsets.dropna().unique()
    ]
    if len(parts) == 1:
        return parts[0].reset_index(drop=True)
    return pd.concat(parts, ignore_index=True) if parts else preds


def _joined(task: PlannedTask, subset: object, group: pd.DataFrame) -> pd.DataFrame:
    """One subset's predictions with the y_true of its manifest (NaN where an id is not in
    it), by position where each id is there once, else by pandas' merge."""
    path = input_path(task, str(subset))
    if path is None:
        raise RunError(f"predictions of subset {subset!r} but no {subset} manifest", key=task.key)
    id_col, cols = data_info(task)["id"], targets(task)
    manifest = read_manifest(path, task)
    if not {id_col, *cols} <= set(manifest.columns):
        manifest[[id_col, *cols]]  # pandas' KeyError, naming the missing columns
    names = [f"y_true_{c}" for c in cols] if task.recipe.problem == "multilabel" else ["y_true"]
    known = id_key(manifest[id_col]).tolist()
    # each manifest id's row, by a dict of the ids as text (pandas' Index and get_indexer
    # cost ~1 ms a fold; issue 26): the rows get_indexer gave where the ids are unique
    where = {key: row for row, key in enumerate(known)}
    rows = None
    if len(where) == len(known) and not set(names) & set(group.columns):
        keys = id_key(group["id"]).tolist()
        rows = np.fromiter((where.get(key, -1) for key in keys), np.intp, len(keys))
    if rows is None or (rows < 0).any():
        index = pd.Index(id_key(manifest[id_col]))
        truth = manifest[[id_col, *cols]].set_axis(index)
        truth = truth.drop(columns=[id_col]).set_axis(names, axis=1)
        keyed = group.assign(_key=id_key(group["id"]))
        joined = keyed.merge(truth, left_on="_key", right_index=True, how="left")
        return joined.drop(columns="_key")
    # the fold check passed: each id once (a merge of 200 rows cost ~4 ms; issue 26)
    return group.assign(**{name: manifest[col].iloc[rows].set_axis(group.index)
                           for name, col in zip(names, cols, strict=True)})  # fmt: skip


def ids_problem(task: PlannedTask, preds: pd.DataFrame, required: tuple[str, ...] = ()) -> str:
    """'' when the predictions of each subset they hold (and of each `required` one) cover
    that subset's manifest ids exactly once, ids compared as text (`007` is not `7`); else
    what is wrong, in one line. THE check of a fold's predictions against the fold (the
    worker asks it of every task that leaves predictions; scoring asks it again): an
    empty or NaN prediction fails it too (values_problem)."""
    if problem := values_problem(preds):
        return problem
    rows = len(preds)
    subsets = preds["subset"].astype(str).tolist() if "subset" in preds else ["test"] * rows
    keys = [str(v) for v in id_key(preds["id"]).tolist()] if "id" in preds else [""] * rows
    # each subset's ids in a list of text, subsets in the order each first appears (after
    # `required`): as the boolean mask per subset gave them, without pandas (~1 ms a call
    # for 200 rows, two or three calls a fold; issue 26)
    found: dict[str, list[str]] = {subset: [] for subset in required}
    for subset, key in zip(subsets, keys, strict=True):
        found.setdefault(subset, []).append(key)
    for subset, ids in found.items():
        path = input_path(task, subset) if subset in SUBSETS or ":" in subset else None
        if path is None or not path.is_file():
            continue  # not a scored subset, or no such manifest (with_truth says so)
        expected = id_key(read_manifest(path, task)[data_info(task)["id"]])
        if problem := coverage(expected, ids):
            return f"{subset} predictions {problem}; predict each {subset} id exactly once"
    return ""


def is_prediction_column(column: object) -> bool:
    """`pred`, `score`, `proba_<class>`, `pred_<label>`: the columns that hold predictions."""
    name = str(column)
    return name in ("pred", "score") or name.startswith(("proba_", "pred_"))


def values_problem(preds: pd.DataFrame, names: dict[str, str] | None = None) -> str:
    """'' unless a prediction column has empty or NaN rows; else the column, how many rows
    and three of their ids. Such a row predicts nothing: scored, NaN >= 0.5 made it the
    negative class and the fold's accuracy wrong while roc_auc went NaN (hostile r4 #1).
    `names`: a column's name in the program's file, when it is not foldrun's."""
    for column in filter(is_prediction_column, preds.columns):
        empty = preds[column].isna().to_numpy()
        if empty.any():
            ids = id_key(preds["id"][empty]) if "id" in preds else pd.Series(dtype=str)
            shown = ", ".join(repr(v) for v in ids.tolist()[:3])
            shown_column = (names or {}).get(str(column), str(column))
            return (f"column {shown_column!r}: {int(empty.sum())} empty or NaN predictions "
                    f"(ids {shown}); predict every row")  # fmt: skip
    return ""


def coverage(expected: pd.Series | list[Any], found: pd.Series | list[Any]) -> str:
    """'' when `found` holds each of `expected` exactly once and nothing else; else how
    many ids are missing, repeated and foreign, each with three examples."""
    # Python sets of the ids as text: Series.isin on pandas' str dtype loops in Python
    # and cost ~16 ms for 200 ids, three times a fold (issue 26)
    wanted, got = [str(v) for v in _listed(expected)], [str(v) for v in _listed(found)]
    wanted_set, got_set = set(wanted), set(got)
    seen: set[str] = set()
    missing = list(dict.fromkeys(v for v in wanted if v not in got_set))
    repeated = list(dict.fromkeys(v for v in got if v in seen or seen.add(v)))
    foreign = list(dict.fromkeys(v for v in got if v not in wanted_set))
    found_kinds = ((missing, "missing"), (repeated, "repeated"), (foreign, "not in the fold"))
    parts = [
        f"{len(values)} {word} (e.g. {', '.join(repr(str(v)) for v in values[:3])})"
        for values, word in found_kinds
        if len(values)
    ]
    if not parts:
        return ""
    return f"do not match the fold's {len(expected)} ids: {'; '.join(parts)}"


def _listed(values: pd.Series | list[Any]) -> list[Any]:
    return values.tolist() if isinstance(values, pd.Series) else list(values)


def _one_subset(preds: pd.DataFrame) -> list[tuple[object, pd.DataFrame]]:
    """[(subset, preds)] when every row has the same subset (a fold's test rows: the
    common case), as grouping them would give it without splitting the frame (~0.3 ms a
    split, issue 26); [] otherwise (no rows, several subsets, a row without one)."""
    values = preds["subset"].to_numpy() if len(preds) and "subset" in preds else None
    if values is None or pd.isna(values[0]) or not (values == values[0]).all():
        return []
    return [(values[0], preds)]


def subset_metrics(task: PlannedTask, preds: pd.DataFrame) -> dict[str, float]:
    recipe = task.recipe
    metrics: dict[str, float] = {}
    for subset, group in _one_subset(preds) or preds.groupby("subset", sort=False):
        scored = compute_metrics(group.reset_index(drop=True), recipe.problem,
                                 recipe.scorers, recipe.spec_path)  # fmt: skip
        for name, value in scored.items():
            metrics[f"{subset}/{name}"] = value
    return metrics
