"""Task folders -> the Parquet result tables under `results/` (tasks, metrics, predictions, folds).

A refresh is incremental: `results/.index.json` remembers a signature per task folder
(DONE's content and the size and mtime of every file read from it, or the state of an
unfinished task); rows of tasks whose
signature did not change are taken from the previous tables, only changed tasks are read
again. Missing, corrupt or foreign tables trigger a rebuild from scratch. Every file is
written to a temporary name and renamed into place, the index last.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from foldrun.core import lazy, state, taskid
from foldrun.core.audit import INFO_EVENTS
from foldrun.core.files import write_with
from foldrun.core.forked import spread
from foldrun.core.task import FOLD_STAGES
from foldrun.layout import SplitLayout, TaskFiles
from foldrun.results import bulk, fast
from foldrun.results import index as task_index
from foldrun.results.metrics import as_labels, class_labels, compute_metrics
from foldrun.spec.table import kind_of_values

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
else:  # at first use: the query of an unchanged run reads no table (core/lazy.py)
    np, pd, pa, pc = map(lazy.module, ("numpy", "pandas", "pyarrow", "pyarrow.compute"))

TASK_COLUMNS = [
    "model", "variant", "fold", "repeat", "stage", "state", "started", "ended",
    "wall_s", "cpu_s", "peak_mb", "exit_code", "fingerprint", "path",
]  # fmt: skip
METRIC_COLUMNS = ["model", "variant", "fold", "repeat", "stage", "subset", "metric", "value"]
PRED_KEYS = ["model", "variant", "fold", "repeat"]
FOLD_COLUMNS = ["id", "repeat", "fold", "subset"]
TABLES = ("tasks", "metrics", "predictions", "folds")
KEY = ["model", "variant", "fold", "repeat", "stage"]
SUBSETS = ("test", "val", "holdout")
EXTERNAL = "external:"  # the subset of an external set's rows: `external:<name>`
FAILED = ".failed"
# the index's version and what a refresh reads: results/index.py's (status reads the index
# without pandas)
INDEX_VERSION, READ = task_index.VERSION, task_index.READ
# one metric key per (model, variant, fold, repeat): the evaluate stage's value wins over a
# task's own key of the same name, then predict's over train's (see one_per_key)
# (the later fold stage first: {"evaluate": 0, "predict": 1, "train": 2})
STAGE_RANK = {stage: rank for rank, stage in enumerate(reversed(FOLD_STAGES))}


@dataclass(frozen=True, slots=True)
class TaskRef:
    """One task found on disk, in the audit log or in the plan (slots: 100,000 of them are
    made twice in a refresh, from the plan and from the folders; ~170 bytes less each)."""

    model: str
    variant: str
    fold: int
    repeat: int
    stage: str
    path: str  # plain strings: pathlib costs ~1 s per 10,000 tasks here
    files: frozenset[str] = field(default=frozenset(), compare=False)  # names in the folder
    failed: bool = field(default=False, compare=False)  # a `<stage>.failed` folder is beside it

    def file(self, name: str) -> str:
        return f"{self.path}{os.sep}{name}"

    @property
    def key(self) -> tuple[str, str, int, int, str]:
        return (self.model, self.variant, self.fold, self.repeat, self.stage)


def parse_fold_dir(parts: list[str]) -> tuple[int, int] | None:
    """(fold, repeat) of an outer fold dir: `fold_00`, `repeat_01/fold_00` or `all` (refit:
    fold -1); None for an inner fold's (core/taskid.py reads them)."""
    where = taskid.parse_fold_dir(parts)
    return None if where is None or where[2] >= 0 else (where[0], where[1])


def _subdirs(path: str | Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as it:
            # temporary task folders (`.train.tmp-123`) and hidden files are not tasks
            return [e for e in it if e.is_dir() and not e.name.startswith(".")]
    except (FileNotFoundError, NotADirectoryError):
        return []


def discover(tasks_dir: Path, listed: bool = True) -> list[TaskRef]:
    """Every committed task folder under `tasks/` (a folder walk, no file is read). Without
    `listed` the task folders are not listed (`files` empty; `with_files` lists one): a
    refresh of an unchanged run stats their files by name (results/index.stamp_at)."""
    found = []
    for model in _subdirs(tasks_dir):
        for variant in _subdirs(model.path):
            for top in _subdirs(variant.path):
                if taskid.part_number(top.name, taskid.REPEAT) is not None:
                    fold_dirs = [(f, [top.name, f.name]) for f in _subdirs(top.path)]
                else:
                    fold_dirs = [(top, [top.name])]
                for fdir, parts in fold_dirs:
                    where = parse_fold_dir(parts)
                    if where is not None:
                        found += _stage_refs(model.name, variant.name, where, fdir.path,
                                             listed)  # fmt: skip
    return found


def _stage_refs(
    model: str, variant: str, where: tuple[int, int], path: str, listed: bool = True
) -> list[TaskRef]:
    """The tasks of one fold folder: each `<stage>` folder, and each `<stage>.failed` one
    as the failed attempt of `<stage>` (one task, never two)."""
    # a fold folder's inner folds (nested selection): results/nested.py reads them
    names = {e.name for e in _subdirs(path) if not taskid.is_inner_part(e.name)}
    failed = {n.removesuffix(FAILED) for n in names if n.endswith(FAILED)}
    stages = {n for n in names | failed if "." not in n}
    refs = []
    for stage in sorted(stages):
        folder = f"{path}{os.sep}{stage}"
        files = _listing(folder) if listed and stage in names else frozenset()
        refs.append(TaskRef(model, variant, *where, stage, folder, files, stage + FAILED in names))
    return refs


def _listing(folder: str) -> frozenset[str]:
    try:
        return frozenset(os.listdir(folder))
    except OSError:
        return frozenset()


def with_files(ref: TaskRef) -> TaskRef:
    """A ref `discover` found without `listed`, with the names its folder holds now."""
    return replace(ref, files=_listing(ref.path))


def listed(refs: list[TaskRef]) -> list[TaskRef]:
    """`with_files` of each ref, the folders listed by `each`."""
    files = each(lambda ref: _listing(ref.path), refs)
    return [TaskRef(*r.key, r.path, f, r.failed) for r, f in zip(refs, files, strict=True)]


SPREAD_LEAST = 2000  # items a forked worker gets at least (fewer: all read here)
T = TypeVar("T")
R = TypeVar("R")


def each(work: Callable[[T], R], items: list[T]) -> list[R]:
    """`[work(x) for x in items]`, spread over the CPUs by forked workers (core/forked.py,
    the results pickled back, in order) when there are many: the per-folder reads of a
    refresh from scratch (listings, stats, small files, their JSON) are independent, and
    most of its time at 100,000 task folders."""
    return spread(lambda part: [work(items[i]) for i in part], len(items), SPREAD_LEAST)


def read_audit(
    path: Path, dataset: str | None = None
) -> dict[tuple[str, str, int, int, str], str]:
    """The last event per task in audit.log ("ts | fold dir | model/variant | stage | event"),
    of one dataset's tasks (`dataset/model/variant`) when `dataset` is given."""
    last: dict[tuple[str, str, int, int, str], str] = {}
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return last
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(" | ")]
        if len(parts) < 5 or parts[4] in INFO_EVENTS:
            continue  # the command, a forced rerun, a finished fold: no change of state
        task = taskid.TaskId.of_parts(parts[2], parts[1], parts[3])
        if task is None or task.inner >= 0 or task.dataset != (dataset or ""):
            continue  # no task's line, an inner fold's, or another dataset's task
        last[(task.model, task.variant, task.fold, task.repeat, task.stage)] = parts[4]
    return last


def file_texts(refs: Iterable[TaskRef], names: tuple[str, ...]) -> dict[str, str]:
    """The text of the files `names` of every task that has them, read in bulk."""
    paths = [r.file(n) for r in refs for n in names if n in r.files]
    parts = spread(lambda part: list(bulk.read_texts(paths[part.start : part.stop]).items()),
                   len(paths), SPREAD_LEAST)  # fmt: skip
    return dict(parts)


def stamp(ref: TaskRef) -> str | None:
    """Size and mtime of every file a refresh reads from a committed task (None when it has
    no DONE): when the stamp is unchanged, what was read last time is still its content,
    and any change to DONE or an output makes the task read again (results/index.py)."""
    return task_index.stamp(ref.path, ref.files)


def signature(ref: TaskRef, audit_event: str | None, stamp: str | None, done: str | None) -> str:
    """With the index entry's stamp and DONE text (refresh._made: compared with it),
    changes whenever what collect would read from the task folder changes: for a
    committed task its stamp and DONE are those fields (the signature does not repeat
    them: 100,000 entries held ~25 MB more), else the audit event, a failed folder and
    resources.json."""
    if stamp is None:
        try:
            res_m = os.stat(ref.file(TaskFiles.RESOURCES)).st_mtime_ns
        except OSError:
            res_m = 0
        return f"open|{audit_event}|{res_m}|{ref.failed}"
    return "done"


def _json(text: str | None) -> dict[str, object]:
    if text is None:
        return {}
    try:
        obj = json.loads(text)
    except ValueError:
        return {}
    return obj if isinstance(obj, dict) else {}


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def task_state(
    ref: TaskRef,
    audit_event: str | None,
    resources: dict[str, object],
    fingerprint: str | None,
    texts: dict[str, str],
) -> str:
    """state.judge on what was read (the one rule, as for `foldrun status`), with the audit
    log's word for a task that has no DONE."""
    done = texts.get(ref.file(TaskFiles.DONE), "" if TaskFiles.DONE in ref.files else None)
    if done is not None:
        return state.judge(done, fingerprint, outputs_ok(ref, texts), False).value
    if audit_event in ("failed", "cancelled"):
        return "failed"
    if audit_event in ("started", "submitted", "requeued"):
        return "running"
    code = resources.get("exit_code")
    if isinstance(code, int) and code != 0:
        return "failed"
    return state.judge(None, fingerprint, True, ref.failed).value


def outputs_ok(ref: TaskRef, texts: dict[str, str]) -> bool:
    """Whether the task's metrics.json and predictions.parquet (when it has them) read back
    whole; metrics.json's text was read in bulk already."""
    return state.listed_whole(ref.path, ref.stage, ref.files,
                              texts.get(ref.file(state.OUTPUTS[0])))  # fmt: skip


def task_row(
    ref: TaskRef, audit_event: str | None, fingerprint: str | None, texts: dict[str, str]
) -> dict[str, object]:
    return dict(zip(TASK_COLUMNS, task_values(ref, audit_event, fingerprint, texts), strict=True))


def task_values(
    ref: TaskRef, audit_event: str | None, fingerprint: str | None, texts: dict[str, str]
) -> tuple[object, ...]:
    """A task's row, its values in TASK_COLUMNS' order (a tuple: pickled back from a
    worker and made a frame faster than a dict per row)."""
    res = _json(texts.get(ref.file(TaskFiles.RESOURCES)))
    done = texts.get(ref.file(TaskFiles.DONE))
    exit_code = res.get("exit_code")
    return (
        *ref.key,
        task_state(ref, audit_event, res, fingerprint, texts),
        res.get("started"),
        res.get("ended"),
        _number(res.get("wall_s")),
        _number(res.get("cpu_s")),
        _number(res.get("peak_mb")),
        exit_code if isinstance(exit_code, int) else None,
        done.strip() if done is not None else fingerprint,
        ref.path,
    )


def metric_rows(ref: TaskRef, texts: dict[str, str]) -> list[tuple[object, ...]]:
    """`metrics.json` keys `<subset>/<metric>` and plain (custom, or refit for refit) keys."""
    rows = []
    for key, value in _json(texts.get(ref.file(TaskFiles.METRICS))).items():
        number = _number(value)
        if math.isnan(number) and not isinstance(value, float) and value is not None:
            continue  # strings, lists: not a metric (null is an undefined one: NaN)
        prefix, _, name = key.partition("/")
        if name and (prefix in SUBSETS or prefix.startswith(EXTERNAL)):
            subset, metric = prefix, name
        else:
            subset, metric = ("refit" if ref.stage == "refit" else "custom"), key
        rows.append((*ref.key[:5], subset, metric, number))
    return rows


def one_per_key(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """One row per (model, variant, fold, repeat, subset, metric): the evaluate stage's
    value wins over a train or predict task's own key of the same name (which counts only
    when evaluate does not compute that metric), predict's over train's."""
    best: dict[tuple[object, ...], tuple[object, ...]] = {}
    for row in rows:
        key = (*row[:4], *row[5:7])
        kept = best.get(key)
        if kept is None or STAGE_RANK.get(str(row[4]), 9) < STAGE_RANK.get(str(kept[4]), 9):
            best[key] = row
    return list(best.values())


def has_predictions(ref: TaskRef) -> bool:
    """The evaluate stage's copy (with y_true) per fold, and refit's holdout predictions."""
    return ref.stage == "evaluate" or (ref.stage == "refit" and ref.fold == -1)


def prediction_refs(whole: list[TaskRef], every: list[TaskRef]) -> list[TaskRef]:
    """The tasks of `whole` whose predictions.parquet holds a fold's scored predictions:
    evaluate's copy, refit's holdout, and the train task of a train-only model (scored as
    it completes; `every`, the tasks of the same folds, has no predict or evaluate there)."""
    followed = {r.key[:4] for r in every if r.stage in ("predict", "evaluate")}
    return [r for r in whole if has_predictions(r) or (
        r.stage == "train" and r.fold >= 0 and r.key[:4] not in followed)]  # fmt: skip


def read_predictions(refs: list[TaskRef]) -> pa.Table | None:
    """The predictions of `refs` as one table with model, variant, fold, repeat in front."""
    refs = [r for r in refs if TaskFiles.PREDICTIONS in r.files]
    by_path = {r.file(TaskFiles.PREDICTIONS): r for r in refs}
    read = bulk.read_parquets(list(by_path))
    if isinstance(read, dict):
        parts = [_tag(t, [by_path[p]], np.zeros(t.num_rows, np.int64)) for p, t in read.items()]
        return pa.concat_tables(parts, promote_options="permissive") if parts else None
    # each row's file as an index into the files (1,000,000 rows, 62,500 files at 100,000
    # tasks: a Python object per row cost seconds and memory)
    files = pc.dictionary_encode(read["filename"]).combine_chunks()
    owners = [by_path[f] for f in files.dictionary.to_pylist()]
    which = files.indices.to_numpy(zero_copy_only=False)
    return _tag(read.drop_columns(["filename"]), owners, which)


def _tag(table: pa.Table, owners: list[TaskRef], which: np.ndarray) -> pa.Table:
    """`table` with model, variant, fold, repeat and subset (where it has none) in front:
    row i is `owners[which[i]]`'s."""
    head = {
        "model": pa.array([r.model for r in owners], pa.string()).take(which),
        "variant": pa.array([r.variant for r in owners], pa.string()).take(which),
        "fold": pa.array(np.array([r.fold for r in owners], dtype=np.int64)[which]),
        "repeat": pa.array(np.array([r.repeat for r in owners], dtype=np.int64)[which]),
    }
    default = pa.array(["holdout" if r.stage == "refit" else "test" for r in owners],
                       pa.string()).take(which)  # fmt: skip
    if "subset" in table.column_names:
        subset = pc.coalesce(table["subset"].cast(pa.string()), default)
    else:
        subset = default
    cols = {**head, "subset": subset}
    cols.update({c: table[c] for c in table.column_names if c not in cols})
    if "id" in cols:
        cols["id"] = pc.cast(cols["id"], pa.string())
    return pa.table(cols)


def without_stale(preds: pd.DataFrame, tasks: pd.DataFrame) -> pd.DataFrame:
    """`preds` less the rows of stale evaluate or refit tasks (done under other settings
    than the spec's now, e.g. the folds a `--force` of one fold left behind): they stay in
    the table, but are never pooled or plotted with current ones."""
    if preds.empty or "state" not in tasks:
        return preds
    stale = tasks[(tasks["state"] == "stale") & tasks["stage"].isin(["train", "evaluate", "refit"])]
    if stale.empty:
        return preds
    keys = stale[PRED_KEYS].itertuples(index=False, name=None)
    return preds[~key_mask(preds, PRED_KEYS, keys)]


def infer_task(preds: pd.DataFrame) -> str:
    """classification / regression / multilabel from the columns of a predictions table."""
    if any(c.startswith("y_true_") for c in preds.columns):
        return "multilabel"
    if any(c.startswith("proba_") for c in preds.columns) or "score" in preds:
        return "classification"
    y = preds.get("y_true")
    if y is None or not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return "classification"
    values = y.dropna().to_numpy()
    is_int = bool(len(values)) and bool(np.all(np.mod(values, 1) == 0))
    return kind_of_values(True, is_int, len(np.unique(values)))  # the data table's rule


def pooled_rows(preds: pd.DataFrame, task: str | None) -> list[tuple[object, ...]]:
    """Out-of-fold metrics: every fold's test predictions of a repeat, pooled (fold = -1).

    Columns are turned into numpy arrays once and sliced per group (pandas per group costs
    more than the metrics); groups with gaps (NaN) go through fast_metrics on a frame."""
    test = preds[(preds["subset"] == "test") & (preds["fold"] >= 0)]
    test = test.dropna(axis=1, how="all").reset_index(drop=True)
    if test.empty or ("y_true" not in test and not any(c.startswith("y_true_") for c in test)):
        return []
    kind = task or infer_task(test.head(5000))
    arrays = _arrays(test, kind)
    groups = list(test.groupby(["model", "variant", "repeat"]).indices.items())

    def rows_of(part: range) -> list[tuple[object, ...]]:
        rows = []
        for (model, variant, repeat), idx in (groups[i] for i in part):
            values = _group_metrics(test, idx, kind, arrays)
            for name, value in values.items():
                rows.append((model, variant, -1, repeat, "evaluate", "pooled", name, value))
        return rows

    return spread(rows_of, len(groups))


def ensemble_rows(
    preds: pd.DataFrame, task: str | None, n_folds: int = 0
) -> list[tuple[object, ...]]:
    """The fold ensemble on every external set (fold = -1): the K fold models' mean
    probability / score per id, scored like one model, once all `n_folds` fold models
    (current ones: stale predictions are dropped before) predicted the set; fewer would be
    another model. Multilabel has none yet."""
    subset = preds["subset"].astype(str) if "subset" in preds else pd.Series(dtype=str)
    ext = preds[subset.str.startswith(EXTERNAL).to_numpy() & (preds["fold"] >= 0).to_numpy()]
    if ext.empty or "y_true" not in ext:
        return []
    kind = task or infer_task(ext.head(5000))
    if kind not in ("classification", "regression"):
        return []
    rows = []
    for (model, variant, repeat, name), part in ext.groupby(
        ["model", "variant", "repeat", "subset"], sort=False
    ):
        if part["fold"].nunique() < n_folds or part["y_true"].isna().all():
            continue  # not every fold model yet, or a set without labels (no truth)
        part = common_ids(part)
        if part.empty:
            continue  # no id that every fold model predicted: no ensemble to score
        for metric, value in compute_metrics(fold_ensemble(part, kind), kind).items():
            rows.append((model, variant, -1, repeat, "evaluate", name, metric, value))
    return rows


def common_ids(part: pd.DataFrame) -> pd.DataFrame:
    """The rows of the ids that every fold model of `part` predicted: an ensemble of 3
    models for some ids and 2 for others would be no one model (predictions done before
    the worker checked them against the fold may lack ids)."""
    ids = part["id"].astype(str)
    folds = part.groupby(ids, sort=False)["fold"].transform("nunique")
    return part[(folds == part["fold"].nunique()).to_numpy()]


def fold_ensemble(part: pd.DataFrame, kind: str) -> pd.DataFrame:
    """One row per id: the mean of the fold models' `proba_*` / `score` (regression: `pred`),
    `pred` the class of the highest mean probability, else the fold models' majority label."""
    part = part.dropna(axis=1, how="all")
    by = part.groupby(part["id"].astype(str), sort=False)
    means = [c for c in part.columns if c.startswith("proba_") or c == "score"]
    if kind == "regression":
        means = [c for c in ("pred", "score") if c in part]
    out = by[means].mean() if means else pd.DataFrame(index=by.size().index)
    out["y_true"] = by["y_true"].first()
    probas = [c for c in means if c.startswith("proba_")]
    if kind == "classification" and len(probas) == 1:  # a binary program's one column
        out["pred"] = class_labels(out)[1]  # metrics' rule: its class where p >= 0.5
    elif kind == "classification" and probas:
        classes = np.array([c.removeprefix("proba_") for c in probas], dtype=object)
        out["pred"] = classes[out[probas].to_numpy(float).argmax(axis=1)]
    elif kind == "classification" and "pred" in part:
        labels = part.assign(_label=as_labels(part["pred"])).groupby(
            part["id"].astype(str), sort=False)["_label"]  # fmt: skip
        out["pred"] = labels.agg(lambda s: s.value_counts().index[0])
    return out.rename_axis("id").reset_index()


def _arrays(test: pd.DataFrame, kind: str) -> dict[str, object] | None:
    """The columns of the fast path as numpy arrays, or None when it does not apply."""
    try:
        if kind == "regression" and "pred" in test:
            return {"y": test["y_true"].to_numpy(float), "pred": test["pred"].to_numpy(float)}
        probas = [c for c in test.columns if c.startswith("proba_")]
        score = not probas and "score" in test  # a positive-class score alone
        if kind != "classification" or "y_true" not in test or not (probas or score):
            return None
        pred = test.get("pred")
        return {
            "y": as_labels(test["y_true"]),
            "y_ok": test["y_true"].notna().to_numpy(),
            "p": test[["score"] if score else probas].to_numpy(float),
            "score": score,
            "classes": [c.removeprefix("proba_") for c in probas],
            "pred": None if pred is None else as_labels(pred),
            "pred_ok": None if pred is None else pred.notna().to_numpy(),
        }
    except (ValueError, TypeError):
        return None


def _group_metrics(test: pd.DataFrame, idx: np.ndarray, kind: str, arrays) -> dict[str, float]:
    values = None
    if arrays is not None and kind == "regression":
        y, pred = arrays["y"][idx], arrays["pred"][idx]
        if not (np.isnan(y).any() or np.isnan(pred).any()):
            values = fast.regression_arrays(y, pred)
    elif arrays is not None:
        p = arrays["p"][idx]
        if arrays["y_ok"][idx].all() and not np.isnan(p).any():
            pred = arrays["pred"]
            has_pred = pred is not None and arrays["pred_ok"][idx].all()
            if arrays["score"] and (pred is None or has_pred):
                values = fast.score_arrays(arrays["y"][idx], p[:, 0],
                                           pred[idx] if has_pred else None)  # fmt: skip
            elif not arrays["score"]:
                values = fast.classification_arrays(
                    arrays["y"][idx], p, pred[idx] if has_pred else None, arrays["classes"]
                )
    if values is not None:
        return values
    part = test.iloc[idx].dropna(axis=1, how="all")
    try:
        return fast.fast_metrics(part, kind)
    except (KeyError, ValueError, TypeError):
        return {}  # predictions that do not fit the task kind: no pooled metrics


def read_folds(split_dir: Path) -> pd.DataFrame:
    """The split's long folds table (folds.parquet), or an empty one."""
    try:
        folds = pd.read_parquet(SplitLayout(split_dir).folds_parquet)
        folds = folds[FOLD_COLUMNS].copy()
        folds["id"] = folds["id"].astype(str)
        return folds
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            FOLD_COLUMNS, ["string", "int64", "int64", "string"], strict=True)})  # fmt: skip


def write_parquet_atomic(df: pd.DataFrame, path: Path) -> None:
    write_with(path, lambda tmp: df.to_parquet(tmp, index=False))


def key_mask(df: pd.DataFrame, cols: list[str], keys: Iterable[tuple[object, ...]]) -> np.ndarray:
    """Rows of `df` whose `cols` values are one of `keys`."""
    keys = list(keys)
    if df.empty or not keys:
        return np.zeros(len(df), dtype=bool)
    index = pd.MultiIndex.from_frame(df[cols])
    return np.asarray(index.isin(keys))
