"""Incremental refresh of the result tables of one run folder (see collect.py for the parts)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from foldrun.core import lazy, state
from foldrun.core.taskid import TaskId
from foldrun.layout import RunLayout, TaskFiles
from foldrun.results import collect
from foldrun.results import index as task_index
from foldrun.results.index import STATE, WALL, index_path

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
else:  # at first use: the query of an unchanged run reads no table (core/lazy.py)
    np, pd, pa = map(lazy.module, ("numpy", "pandas", "pyarrow"))

Key = tuple[str, str, int, int, str]


@dataclass(frozen=True, slots=True)
class Planned:
    """A task the plan expects, with the fingerprint its DONE file must hold."""

    ref: collect.TaskRef
    fingerprint: str | None


@dataclass
class Tables:
    tasks: pd.DataFrame
    metrics: pd.DataFrame
    predictions: pd.DataFrame
    folds: pd.DataFrame
    # (model, variant) of every task folder on disk, from the refresh's walk of tasks/
    # (load.py names those the spec no longer plans without walking 100,000 folders again)
    found: frozenset[tuple[str, str]] = frozenset()


def _index_path(layout: RunLayout) -> Path:
    return index_path(layout.results_dir)


def _file_stamp(path: Path) -> list[int]:
    st = path.stat()  # ctime and inode as results/index.py's stamp: an mtime put back counts
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def load_previous(layout: RunLayout) -> tuple[dict[str, list[object]], Tables] | None:
    """The last refresh's index and tables, or None when anything is missing or corrupt."""
    index = previous_index(layout)
    tables = read_tables(layout) if index is not None else None
    return (index, tables) if index is not None and tables is not None else None


def previous_index(layout: RunLayout) -> dict[str, list[object]] | None:
    """The last refresh's index of the tasks, when its tables are still the ones it wrote
    (their stamp; read nothing else: an unchanged run's query needs no table).
    A damaged index of any JSON shape (null, a list, a string) is none: it is rebuilt."""
    try:
        index = json.loads(_index_path(layout).read_text())
        if not isinstance(index, dict):
            return None
        if index.get("version") != collect.INDEX_VERSION or index.get("root") != str(layout.root):
            return None
        for name in collect.TABLES:
            if _file_stamp(layout.results_dir / f"{name}.parquet") != index["files"][name]:
                return None  # written by something else since: don't trust it
        return index["tasks"] if isinstance(index["tasks"], dict) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_tables(layout: RunLayout) -> Tables | None:
    """results/*.parquet, or None when one does not read back."""
    try:
        frames = {n: pd.read_parquet(layout.results_dir / f"{n}.parquet") for n in collect.TABLES}
    except (OSError, ValueError, pa.ArrowException):
        return None
    return Tables(**frames)


def _all_refs(
    layout: RunLayout,
    audit: dict[Key, str],
    planned: Sequence[Planned],
    record: dict[str, str],
    only_planned: bool,
    found: Sequence[collect.TaskRef],
):
    refs = {r.key: r for r in found}
    fingerprints: dict[Key, str | None] = {}
    for p in planned:
        refs.setdefault(p.ref.key, p.ref)
        fingerprints[p.ref.key] = p.fingerprint
    if only_planned:  # a folder the spec no longer plans (a model, variant, fold removed)
        return {k: r for k, r in refs.items() if k in fingerprints}, fingerprints
    for rel in record:  # stopped by a race (.foldrun/race.json): never got a folder
        task = TaskId.parse(rel)
        if task is not None and task.inner < 0:
            key = (task.model, task.variant, task.fold, task.repeat, task.stage)
            refs.setdefault(key, collect.TaskRef(*key, str(layout.tasks_dir / rel)))
    unfound = [key for key in audit if key not in refs]
    # the split's folds table says whether the fold dirs name the repeat, never a guess
    n_repeats = collect.read_folds(layout.used_split())["repeat"].nunique() if unfound else 1
    for key in unfound:  # failed or running tasks that never got a folder
        if key not in refs:
            model, variant, fold, repeat, stage = key
            fdir = layout.task_dir(model, variant, fold, stage, repeat, n_repeats)
            refs[key] = collect.TaskRef(model, variant, fold, repeat, stage, str(fdir))
    return refs, fingerprints


def _rel(ref: collect.TaskRef, prefix: str) -> str:
    if ref.path.startswith(prefix):
        return ref.path[len(prefix) :]
    return "\0".join(map(str, ref.key))  # a planned task outside tasks/ (never on disk)


def _pruned(record: dict[str, str], refs, fingerprints, prefix: str) -> set[Key]:
    """Tasks a race stopped (`record`: core/state.pruned_keys) whose fingerprint is still
    the one recorded (any, without a plan)."""
    if not record:
        return set()
    return {
        key for key, ref in refs.items()
        if state.is_pruned(record, _rel(ref, prefix).replace(os.sep, "/"), fingerprints.get(key))
    }  # fmt: skip


def _signatures(refs, audit, fingerprints, old_index, prefix, pruned=frozenset()):
    """The index entry of every task: key, signature, stamp, DONE's text. DONE files are
    read only when the stamp (size, mtime, ctime, inode of every file read) differs from
    last time's."""
    stamps = dict(zip(refs, collect.each(collect.stamp, list(refs.values())), strict=True))
    known: dict[str, str] = {}
    unread = []
    for key, ref in refs.items():
        old = old_index.get(_rel(ref, prefix))
        if stamps[key] is not None and old and len(old) >= 8 and old[6] == stamps[key] and old[7]:
            known[ref.file(TaskFiles.DONE)] = str(old[7])  # the content read when it had this stamp
        elif stamps[key] is not None:
            unread.append(ref)
    known.update(collect.file_texts(unread, (TaskFiles.DONE,)))
    index = {}
    for key, ref in refs.items():
        done = known.get(ref.file(TaskFiles.DONE))
        index[_rel(ref, prefix)] = _made(key, ref, audit, stamps[key], done, fingerprints, pruned)
    return index, known


def _made(key, ref, audit, stamp, done, fingerprints, pruned) -> list[object]:  # type: ignore[no-untyped-def]
    """A task's index entry: key, signature (with the plan's fingerprint), stamp, DONE."""
    sig = collect.signature(ref, audit.get(key), stamp, done)
    mark = "|pruned" if key in pruned else ""
    return [*key, f"{sig}|{fingerprints.get(key)}{mark}", stamp, done]


def refresh(
    run_dir: Path,
    planned: Sequence[Planned] = (),
    task: str | None = None,
    dataset: str | None = None,
    only_planned: bool = False,
    tables: bool = True,
    trust_index: bool = True,
) -> Tables | None:
    """Brings results/*.parquet up to date with the task folders and returns the tables
    (of one dataset's tasks, in results/<dataset>/, when `dataset` is given). With
    `only_planned` (a spec was planned) the tables hold the `planned` tasks alone. Without
    `tables` (query reads the files itself) an unchanged run's tables are not read: None.
    Without `trust_index` the last refresh's index is not used: every task is read."""
    layout = RunLayout(Path(run_dir).resolve(), dataset)
    audit = collect.read_audit(layout.audit_log, dataset)
    record = state.pruned_keys(layout.state_dir)  # read once: both steps need it
    found = collect.discover(layout.tasks_dir, listed=False)  # listed below, if it changed
    refs, fingerprints = _all_refs(layout, audit, planned, record, only_planned, found)
    index = previous_index(layout) if trust_index else None
    prefix = f"{layout.tasks_dir}{os.sep}"
    pruned = _pruned(record, refs, fingerprints, prefix)
    listed = {r.key for r in found}
    variants = frozenset((r.model, r.variant) for r in found)
    del found
    kept = _kept_entries(refs, listed, audit, fingerprints, index, prefix, pruned)
    if index is not None and len(kept) == len(refs) == len(index):  # nothing changed
        old = read_tables(layout) if tables else None
        if old is not None or not tables:
            return _found(old, variants)  # None: unchanged, and the caller reads the files
    changed, gone, current, done_texts, again = _changes(
        refs, kept, listed, audit, fingerprints, index or {}, prefix, pruned)
    del kept
    if index is not None and not changed and not gone:
        old = read_tables(layout)
        if old is not None:
            return _found(old, variants)
    had_index = index is not None
    if not had_index:  # none kept: every task is read
        changed, gone = list(refs.values()), []
    del index
    changed = _whole_folds(refs, changed, gone)
    changed = _listed(changed, listed, again)  # an unchanged task of a changed fold too
    made = _rewrite(layout, changed, gone, current, done_texts, had_index, audit,
                    fingerprints, task, prefix, pruned)  # fmt: skip
    if made is None:  # the index's tables do not read back: all again
        return refresh(run_dir, planned, task, dataset, only_planned, tables, False)
    return _found(made, variants)


def _changes(refs, kept, listed, audit, fingerprints, old_index, prefix, pruned):  # type: ignore[no-untyped-def]
    """(the refs whose entry changed, the keys of entries gone, every current entry by
    task folder, the DONE texts read, the refs listed again): what changed is listed and
    read again; an unchanged folder keeps its entry (`kept`) as it is."""
    again = {k: r for k, r in refs.items() if _rel(r, prefix) not in kept}
    again = _with_files(again, listed)
    made, done_texts = _signatures(again, audit, fingerprints, old_index, prefix, pruned)
    changed = []
    for rel, entry in made.items():
        if _entry(old_index, rel) != entry:
            changed.append(again[tuple(entry[:5])])  # type: ignore[index]
        else:  # the same entry again: the old one, with the state its row has
            kept[rel] = old_index[rel]
    current = {rel: kept.get(rel) or made[rel] for rel in (_rel(r, prefix) for r in refs.values())}
    gone = [tuple(v[:5]) for k, v in old_index.items() if k not in current]
    return changed, gone, current, done_texts, again


def _rewrite(layout, changed, gone, current, done_texts, had_index, audit, fingerprints,  # type: ignore[no-untyped-def]
             task, prefix, pruned) -> Tables | None:  # fmt: skip
    """The tables with the `changed` tasks read again and the `gone` ones dropped, written
    with the index (last); None when the index's tables do not read back (nothing
    written). The entries of the tasks read again wait for their rows' states; the
    others are final (their rows are kept as they are) and are written now, not held."""
    pending = {}
    for ref in changed:
        rel = _rel(ref, prefix)
        if rel in current:
            pending[rel] = current.pop(rel)[:STATE]
    texts = {**_kept_done(changed, pending, prefix), **done_texts,
             **collect.file_texts(changed, (TaskFiles.RESOURCES, TaskFiles.METRICS))}
    with _IndexFile(layout) as out:
        pending.update(out.add(current))  # an entry without a state waits too
        current.clear()
        old = read_tables(layout) if had_index else None
        if had_index and old is None:
            out.abort()
            return None
        tables = _merge(old, changed, gone, audit, fingerprints, task, layout, texts, pruned)
        files = _write_tables(layout, tables)
        out.add(_with_states(pending, tables.tasks))
        out.close(files)
    return tables


def _found(tables: Tables | None, variants: frozenset[tuple[str, str]]) -> Tables | None:
    if tables is not None:
        tables.found = variants
    return tables


def _with_files(refs: dict[Key, collect.TaskRef], listed: set[Key]) -> dict[Key, collect.TaskRef]:
    """The refs `discover` found (`listed`) with their folders' names, the others as they are."""
    keys = [k for k in refs if k in listed]
    made = collect.listed([refs[k] for k in keys])
    return {**refs, **dict(zip(keys, made, strict=True))}


def _kept_entries(refs, listed: set[Key], audit, fingerprints, old_index, prefix, pruned
                  ) -> dict[str, list[object]]:  # fmt: skip
    """The entries of `old_index` that `_signatures` would make again as they are, by
    task folder, from a stat of each folder's files by name instead of a listing
    (results/index.py stamp_at: the same stamp; listing 100,000 folders cost more than the
    stats, and their names' sets ~60 MB). A folder whose entry differs, whose DONE would be
    read, or that has no entry is not among them: it is listed and read again."""
    kept: dict[str, list[object]] = {}
    if old_index is None:
        return kept
    for key, ref in refs.items():
        rel = _rel(ref, prefix)
        old = old_index.get(rel)
        stamp = task_index.stamp_at(ref.path) if key in listed else None  # not on disk
        if not isinstance(old, list) or len(old) < STATE or (stamp is not None and (
                old[6] != stamp or not old[7])):  # fmt: skip
            continue
        done = str(old[7]) if stamp is not None else None
        if old[:STATE] == _made(key, ref, audit, stamp, done, fingerprints, pruned):
            kept[rel] = old
    return kept


def _listed(refs: list[collect.TaskRef], listed: set[Key], again: dict[Key, collect.TaskRef]
            ) -> list[collect.TaskRef]:  # fmt: skip
    """`refs` with their folders' names: those listed already (`again`), the others on disk
    (`listed`) listed now, the rest (never on disk) as they are."""
    unlisted = [r for r in refs if r.key not in again and r.key in listed]
    made = dict(zip([r.key for r in unlisted], collect.listed(unlisted), strict=True))
    return [again.get(r.key) or made.get(r.key) or r for r in refs]


def _kept_done(refs: list[collect.TaskRef], current: dict[str, list[object]], prefix: str
               ) -> dict[str, str]:  # fmt: skip
    """DONE's text of each committed task of `refs` as its kept entry holds it (the content
    read when its files had the stamp they have now)."""
    out = {}
    for ref in refs:
        entry = current.get(_rel(ref, prefix))
        if entry is not None and entry[6] is not None and entry[7]:
            out.setdefault(ref.file(TaskFiles.DONE), str(entry[7]))
    return out


def _entry(old_index: dict[str, list[object]], rel: str) -> list[object] | None:
    """An old entry as `_signatures` makes it (less the state and wall time it was given)."""
    old = old_index.get(rel)
    return old[:STATE] if isinstance(old, list) else old


def _whole_folds(
    refs: dict[Key, collect.TaskRef], changed: list[collect.TaskRef], gone
) -> list[collect.TaskRef]:
    """`changed` plus every other task of their folds: which stage's metric key counts
    (collect.one_per_key) depends on all the stages of a fold, so they are read together."""
    folds = {r.key[:4] for r in changed} | {tuple(k[:4]) for k in gone}
    return [r for key, r in refs.items() if key[:4] in folds]


def _merge(old, changed, gone, audit, fingerprints, task, layout, texts, pruned) -> Tables:
    """The tables: the rows of the `changed` tasks read again, those of the other tasks as
    `old` has them (less the `gone` ones)."""
    tasks, whole = _task_rows(changed, audit, fingerprints, texts, pruned)
    each = collect.each(lambda r: collect.metric_rows(r, texts), whole)
    rows = collect.one_per_key([row for part in each for row in part])
    metrics = pd.DataFrame(rows, columns=collect.METRIC_COLUMNS)
    preds = _prediction_rows(whole, changed)
    groups = None  # without old tables everything is new: every group is pooled
    if old is not None:
        drop = [r.key for r in changed] + list(gone)
        tasks, metrics, preds, groups = _kept(old, tasks, metrics, preds, drop)
    folds = collect.read_folds(layout.used_split())
    n_folds = int(folds["fold"].max()) + 1 if len(folds) else 0
    # pooled in the table's order (sorted), not the order this refresh gathered the rows
    # in (kept rows, then those read again): the pool's sums, and so its brier or log
    # loss, are those of a refresh from scratch to the last bit
    preds = _tidy_predictions(preds)
    metrics = _concat(metrics, _pooled(collect.without_stale(preds, tasks), groups, task, n_folds))
    return Tables(
        tasks=_tidy_tasks(tasks),
        metrics=_tidy_metrics(metrics),
        predictions=preds,
        folds=folds,
    )


def _task_rows(changed, audit, fingerprints, texts, pruned) -> tuple[pd.DataFrame, list]:
    """The task rows of the `changed` tasks, and those of them whose outputs count (only
    what reads back whole: a corrupt task's files give no rows)."""
    rows = collect.each(lambda r: collect.task_values(r, audit.get(r.key),
                                                      fingerprints.get(r.key), texts), changed)
    at = collect.TASK_COLUMNS.index("state")
    for i, r in enumerate(changed):
        if r.key in pruned and rows[i][at] in ("pending", "running"):
            # stopped by a race: never missing, never failed
            rows[i] = (*rows[i][:at], "pruned", *rows[i][at + 1 :])
    whole = [r for r, row in zip(changed, rows, strict=True) if row[at] in ("done", "stale")]
    return pd.DataFrame(rows, columns=collect.TASK_COLUMNS), whole


def _prediction_rows(whole: list, changed: list) -> pd.DataFrame:
    table = collect.read_predictions(collect.prediction_refs(whole, changed))
    if table is None:
        return pd.DataFrame(columns=[*collect.PRED_KEYS, "subset", "id"])
    return table.to_pandas()


SCORING = ("evaluate", "train")  # the fold stages whose predictions may be scored ones


def _kept(old: Tables, tasks, metrics, preds, drop: list) -> tuple:
    """The new rows with `old`'s rows of every task not in `drop`, and the (model, variant,
    repeat) groups whose pooled rows must be made again (the old ones of them are dropped)."""
    # a fold's scored predictions: evaluate's, a train-only model's train's, refit's holdout
    pred_drop = [k[:4] for k in drop if k[4] in SCORING or (k[4] == "refit" and k[2] == -1)]
    groups = {(k[0], k[1], k[3]) for k in drop if k[4] in SCORING}
    tasks = _concat(old.tasks[~collect.key_mask(old.tasks, collect.KEY, drop)], tasks)
    derived = _derived(old.metrics)  # pooled and ensemble rows: made again per group
    keep = old.metrics[~derived]
    keep = keep[~collect.key_mask(keep, collect.KEY, drop)]
    pooled = old.metrics[derived]
    pooled = pooled[~collect.key_mask(pooled, ["model", "variant", "repeat"], groups)]
    kept = old.predictions[~collect.key_mask(old.predictions, collect.PRED_KEYS, pred_drop)]
    preds = _concat(kept, preds)
    return tasks, _concat(keep, metrics, pooled), preds, groups


def _pooled(preds: pd.DataFrame, groups, task: str | None, n_folds: int) -> pd.DataFrame:
    if preds.empty:
        return pd.DataFrame(columns=collect.METRIC_COLUMNS)
    if groups is not None:
        preds = preds[collect.key_mask(preds, ["model", "variant", "repeat"], groups)]
    rows = collect.pooled_rows(preds, task) + collect.ensemble_rows(preds, task, n_folds)
    return pd.DataFrame(rows, columns=collect.METRIC_COLUMNS)


def _derived(metrics: pd.DataFrame) -> np.ndarray:
    """Rows computed from several folds' predictions (the out-of-fold pool, the fold
    ensemble on external sets): fold -1 of the evaluate stage, which no task has."""
    return ((metrics["fold"] == -1) & (metrics["stage"] == "evaluate")).to_numpy()


def _concat(*frames: pd.DataFrame) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame()
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _tidy_tasks(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reindex(columns=collect.TASK_COLUMNS)
    for col in ("started", "ended"):
        df[col] = pd.to_datetime(df[col], utc=True, errors="coerce", format="ISO8601")
    for col in ("fold", "repeat"):
        df[col] = df[col].astype("int64")
    for col in ("wall_s", "cpu_s", "peak_mb"):
        df[col] = df[col].astype("float64")
    df["exit_code"] = df["exit_code"].astype("Int64")
    for col in ("model", "variant", "stage", "state", "fingerprint", "path"):
        df[col] = df[col].astype("string")
    return df.sort_values(collect.KEY, kind="stable", ignore_index=True)


def _tidy_metrics(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reindex(columns=collect.METRIC_COLUMNS)
    for col in ("fold", "repeat"):
        df[col] = df[col].astype("int64")
    df["value"] = df["value"].astype("float64")
    for col in ("model", "variant", "stage", "subset", "metric"):
        df[col] = df[col].astype("string")
    # which models made the scores: a fold's, the fold ensemble's (external sets), refit's
    ensemble = df["subset"].str.startswith(collect.EXTERNAL).fillna(False) & (df["fold"] == -1)
    df["model_set"] = np.where(df["stage"] == "refit", "refit",
                               np.where(ensemble & (df["stage"] != "refit"), "ensemble", "fold"))
    df["model_set"] = df["model_set"].astype("string")
    return df.sort_values([*collect.KEY, "subset", "metric"], kind="stable", ignore_index=True)


def _tidy_predictions(df: pd.DataFrame) -> pd.DataFrame:
    front = [*collect.PRED_KEYS, "subset", "id", "y_true", "pred"]
    rest = sorted(col for col in df.columns if col not in front)
    df = df.reindex(columns=[col for col in front if col in df.columns or col in front[:6]] + rest)
    for col in ("fold", "repeat"):
        df[col] = df[col].astype("int64")
    for col in ("model", "variant", "subset", "id"):
        df[col] = df[col].astype("string")
    return df.sort_values(collect.PRED_KEYS, kind="stable", ignore_index=True)


def _write_tables(layout: RunLayout, tables: Tables) -> dict[str, list[int]]:
    """results/*.parquet written; the stamps the index records of them."""
    layout.results_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for name in collect.TABLES:
        path = layout.results_dir / f"{name}.parquet"
        collect.write_parquet_atomic(getattr(tables, name), path)
        files[name] = _file_stamp(path)
    return files


INDEX_BATCH = 2000  # entries made JSON text at a time: 100,000 at once held ~80 MB more


class _IndexFile:
    """results/.index.json written as its entries come, to a temporary file renamed into
    place by `close`, after the tables (the index last): the entries a refresh keeps as
    they are go to the file before the tables are read, instead of being held (100,000
    entries: ~100 MB). The text is json.dumps' of {"version", "root", "tasks", "files"}."""

    def __init__(self, layout: RunLayout) -> None:
        self.path = _index_path(layout)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        self.fh = open(self.tmp, "w", encoding="utf-8")  # noqa: SIM115 (closed by close/abort)
        head = {"version": collect.INDEX_VERSION, "root": str(layout.root)}
        self.fh.write(json.dumps(head)[:-1] + ', "tasks": {')
        self.written = 0
        self.placed = False

    def add(self, entries: dict[str, list[object]]) -> dict[str, list[object]]:
        """Write the entries that hold their state and wall time; the others are returned."""
        items = [(k, e) for k, e in entries.items() if len(e) == WALL + 1]
        for at in range(0, len(items), INDEX_BATCH):
            part = json.dumps(dict(items[at : at + INDEX_BATCH]))[1:-1]
            self.fh.write((", " if self.written else "") + part)
            self.written += len(items[at : at + INDEX_BATCH])
        return {k: e for k, e in entries.items() if len(e) != WALL + 1}

    def close(self, files: dict[str, list[int]]) -> None:
        self.fh.write('}, "files": ' + json.dumps(files) + "}")
        self.fh.close()
        os.replace(self.tmp, self.path)
        self.placed = True

    def abort(self) -> None:
        """The temporary file closed and removed, whatever failed (a full disk fails the
        close's flush too: the file is closed all the same, and removed)."""
        with contextlib.suppress(OSError):
            self.fh.close()
        with contextlib.suppress(OSError):
            self.tmp.unlink()

    def __enter__(self) -> _IndexFile:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.placed:
            self.abort()


def _with_states(index: dict[str, list[object]], tasks: pd.DataFrame) -> dict[str, list[object]]:
    """Each entry with the state and wall time its task row has (index.py: `foldrun status`
    takes them for a committed folder whose stamp is unchanged). An entry kept as it was
    (`_kept_entries`) has them already: its row is the one they were taken from."""
    needed = {tuple(e[:5]) for e in index.values() if len(e) != WALL + 1}
    if not needed:
        return index
    few = len(needed) < len(tasks)
    rows = tasks[collect.key_mask(tasks, collect.KEY, needed)] if few else tasks
    keys = zip(*(rows[c].tolist() for c in collect.KEY), strict=True)
    walls = [None if pd.isna(w) else float(w) for w in rows["wall_s"].tolist()]
    judged = dict(zip(keys, zip(rows["state"].tolist(), walls, strict=True), strict=True))
    return {rel: entry if len(entry) == WALL + 1 else
            [*entry[:STATE], *judged.get(tuple(entry[:5]), (None, None))]
            for rel, entry in index.items()}  # fmt: skip
