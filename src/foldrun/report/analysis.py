"""What the report says, computed once from a Results: selection, comparison, intervals,
missing tasks, per-task rows and provenance. No files are written here."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from foldrun.core.forked import spread
from foldrun.core.taskid import TaskId
from foldrun.layout import SplitLayout, TaskFiles
from foldrun.report.figure_cache import mark_used, remembered, remembered_frames, with_keys_used
from foldrun.report.figure_pool import workers

# the provenance is its own module (reuse.py keys on it without this one's scipy)
from foldrun.report.provenance import provenance as provenance
from foldrun.report.provenance import task_packages as task_packages
from foldrun.results import Results, collect, compare, load, metrics, stats
from foldrun.results.collect import KEY

T = TypeVar("T")
TASK_CSV_COLUMNS = ["model", "variant", "repeat", "fold", "stage", "state", "started", "ended",
                    "wall_s", "cpu_s", "peak_mb", "exit_code", "path"]  # fmt: skip


@dataclass
class Analysis:
    results: Results
    summary: pd.DataFrame  # every model, variant and metric (test folds)
    ranking: pd.DataFrame  # the selected variant of each model, ranked, with pooled CI
    pairs: pd.DataFrame  # corrected t-tests between selected variants
    missing: list[str]  # task keys planned or expected but not done, with their state
    ratio: float | None  # n_test / n_train used by the t-test
    # what the pages derive from the above more than once (see `once`)
    memo: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    def once(self, name: str, compute: Callable[[], T]) -> T:
        """`compute()`, run the first time `name` is asked for (the analysis never changes)."""
        if name not in self.memo:
            self.memo[name] = compute()
        return self.memo[name]  # type: ignore[return-value]


def analyze(results: Results) -> Analysis:
    """The analysis of `results`, computed again only when a table, an option or the code
    changed (kept with the report's plots: 0.6 s of a 10,000-task report with nothing
    changed, against 0.07 s to hash the tables)."""
    code = b"".join(Path(m.__file__).read_bytes() for m in (stats, compare, load, metrics, collect))
    inputs = (results.tasks, results.metrics, results.predictions, results.folds,
              results.options, results.planned, results.source.task)  # fmt: skip
    frames, value = remembered_frames(
        "analysis", inputs, code + Path(__file__).read_bytes(), lambda: _analyze(results)
    )
    return Analysis(results, frames["summary"], frames["ranking"], frames["pairs"],
                    value["missing"], value["ratio"])  # type: ignore[index]  # fmt: skip


def _analyze(results: Results) -> tuple[dict[str, pd.DataFrame], dict[str, object]]:
    summary = results.summary("test")
    if summary.empty or results.primary not in set(summary["metric"]):
        ranking, pairs = pd.DataFrame(), pd.DataFrame()
    else:
        pairs, ranking = results.comparison()
        p = results.current_predictions
        test = p[(p["subset"] == "test") & (p["fold"] >= 0)]
        bounds = _pooled_intervals(results, ranking, test)
        ranking["pooled_ci_low"] = [b[0] for b in bounds]
        ranking["pooled_ci_high"] = [b[1] for b in bounds]
    ratio = stats.test_train_ratio(results.folds)
    missing = missing_tasks(results.tasks, infer=not results.planned)
    frames = {"summary": summary, "ranking": ranking, "pairs": pairs}
    return frames, {"missing": missing, "ratio": ratio}


def _pooled_intervals(
    results: Results, ranking: pd.DataFrame, test: pd.DataFrame
) -> list[tuple[float, float]]:
    """The pooled interval of each ranked variant, bootstrapped on every CPU (forked workers
    read the predictions this process holds; the cache entries they use count as ours)."""
    rows = test.groupby(["model", "variant"], sort=False).indices
    variants = list(ranking[["model", "variant"]].itertuples(index=False, name=None))

    def interval(model: str, variant: str) -> tuple[float, float]:
        if (model, variant) not in rows:
            return math.nan, math.nan
        return _pooled_interval(results, model, variant, test.iloc[rows[(model, variant)]])

    def intervals(part: range) -> list[tuple[tuple[float, float], frozenset[str]]]:
        return [with_keys_used(lambda v=variants[i]: interval(*v)) for i in part]

    done = spread(intervals, len(variants), least=8, workers=workers())
    for _, keys in done:
        mark_used(keys)
    return [bounds for bounds, _ in done]


def _pooled_interval(
    results: Results, model: str, variant: str, part: pd.DataFrame
) -> tuple[float, float]:
    """results.pooled_interval of one variant's test predictions, bootstrapped again only
    when they, the options or the code changed (kept with the report's plots)."""
    code = Path(stats.__file__).read_bytes() + Path(load.__file__).read_bytes()
    inputs = (part, results.task, results.primary, results.confidence, results.options)
    low, high = remembered(  # type: ignore[misc]
        "pooled_interval",
        inputs,
        code,
        lambda: list(results.pooled_interval(model, variant, part=part)),
    )
    return float(low), float(high)


def missing_tasks(tasks: pd.DataFrame, infer: bool = True) -> list[str]:
    """Tasks not done: those in the table (failed, pending, ...) and, without a plan
    (`infer`), those a complete run would have (every variant × every fold seen × the
    model's stages, and a refit when any model has one)."""
    if tasks.empty:
        return []
    n_repeats = int(tasks["repeat"].max()) + 1
    out = []
    # a task a race stopped ([race]) is neither missing nor failed
    for row in tasks[~tasks["state"].isin(["done", "pruned"])].itertuples():
        key = TaskId(row.model, row.variant, row.fold, row.stage, row.repeat,
                     repeated=n_repeats > 1).key  # fmt: skip
        out.append(f"{key} ({row.state})")
    if not infer:
        return out
    present = set(tasks[KEY].itertuples(index=False, name=None))
    folds = tasks.loc[tasks["fold"] >= 0, ["repeat", "fold"]].drop_duplicates()
    fold_pairs = list(folds.itertuples(index=False, name=None))
    refit = bool((tasks["fold"] == -1).any())  # one model refit: every model should
    for model, part in tasks.groupby("model", sort=True):
        stages = sorted(set(part.loc[part["fold"] >= 0, "stage"]))
        for variant in sorted(set(part["variant"])):
            expected = [(model, variant, f, r, s) for r, f in fold_pairs for s in stages]
            if refit and _refits(part):
                expected.append((model, variant, -1, 0, "refit"))
            for m, v, f, r, s in expected:
                if (m, v, f, r, s) not in present:
                    key = TaskId(m, v, f, s, r, repeated=n_repeats > 1).key
                    out.append(f"{key} (missing)")
    return out


def _refits(part: pd.DataFrame) -> bool:
    """Whether a model (its rows of the tasks table, no plan) is expected to refit: it has a
    refit task, or its fold tasks are not all done (the run may not have got to it). A
    model whose every fold is done and that has no refit plans none (a command model
    without a `refit` template): no refit is missing."""
    return bool((part["fold"] == -1).any()) or not (part["state"] == "done").all()


def fold_summary(results: Results) -> pd.DataFrame:
    """One row per task: where it is, its state and resources, and its metrics as columns."""
    tasks = results.tasks
    rows = tasks.reindex(columns=TASK_CSV_COLUMNS)
    metrics = results.metrics[results.metrics["subset"] != "pooled"]
    if metrics.empty:
        return rows
    name = metrics["metric"].where(
        metrics["subset"].isin(["custom", "refit"]), metrics["subset"] + "/" + metrics["metric"]
    )
    wide = metrics.assign(column=name).pivot_table(
        index=KEY, columns="column", values="value", aggfunc="first"
    )
    wide.columns = [str(c) for c in wide.columns]
    return rows.merge(wide.reset_index(), on=KEY, how="left")


def task_params(results: Results) -> dict[tuple[str, str], dict[str, object]]:
    """params.json of one task per model and variant (the grid values of the variant)."""
    done = results.tasks[results.tasks["state"] == "done"]
    # train first (it always has the params), then any other; a few tries per variant (one
    # pass over the columns: a pandas group per variant cost 0.3 s over 220 variants)
    order = np.argsort((done["stage"] != "train").to_numpy(), kind="stable")
    tries: dict[tuple[str, str], list[str]] = {}
    columns = [done[c].to_numpy()[order] for c in ("model", "variant", "path")]
    for model, variant, path in zip(*columns, strict=True):
        paths = tries.setdefault((model, variant), [])
        if len(paths) < 3:
            paths.append(path)
    out: dict[tuple[str, str], dict[str, object]] = {}
    for key, paths in tries.items():
        for path in paths:
            try:
                params = json.loads((Path(path) / TaskFiles.PARAMS).read_text())
            except (OSError, ValueError):
                continue
            if isinstance(params, dict):
                out[key] = params
                break
    return out


def varying_params(params: dict[str, dict[str, object]]) -> list[str]:
    """The parameters (every variant has) whose value differs between a model's variants."""
    if len(params) < 2:
        return []
    keys = set.intersection(*(set(p) for p in params.values()))
    return [
        key
        for key in sorted(keys)
        if len({json.dumps(p[key], sort_keys=True, default=str) for p in params.values()}) > 1
    ]


def split_details(results: Results) -> dict[str, object] | None:
    try:
        split = SplitLayout(results.source.layout.used_split())
        obj = json.loads(split.details.read_text())
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


_SCALARS = frozenset({str, int, bool, type(None)})  # JSON as they are (exactly these types)


def clean(obj: object) -> object:
    """JSON-safe: NaN -> None, numpy scalars -> Python, timestamps -> ISO strings."""
    kind = type(obj)
    if kind in _SCALARS:  # most of cv_summary's ~1,000,000 cells at 100,000 tasks
        return obj
    if kind is float:
        return obj if math.isfinite(obj) else None  # type: ignore[arg-type]
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if hasattr(obj, "item") and not isinstance(obj, str):
        return clean(obj.item())  # type: ignore[union-attr]
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    if obj is pd.NA or obj is pd.NaT:
        return None
    return obj


def dumps(obj: object) -> str:
    """`obj` (as `clean` makes it) as JSON text, indented by 2 as `json.dumps(indent=2)`,
    except that a row (an object of scalars and lists of scalars: a record of `records`)
    is one line. Parsed, the same value; written by the C encoder a row at a time
    (`indent=` makes Python use its pure-Python one: 18 s of the 100,000-task report)."""
    return "".join(_dump(obj, "\n"))


def _dump(obj: object, newline: str) -> list[str]:
    inner = newline + "  "
    if isinstance(obj, dict) and obj and not _row(obj):
        parts = [f"{json.dumps(str(k))}: {''.join(_dump(v, inner))}" for k, v in obj.items()]
        return ["{", inner, ("," + inner).join(parts), newline, "}"]
    if isinstance(obj, list) and obj and not all(map(_flat, obj)):
        parts = ["".join(_dump(v, inner)) for v in obj]
        return ["[", inner, ("," + inner).join(parts), newline, "]"]
    return [json.dumps(obj)]


def _flat(value: object) -> bool:
    return type(value) in _SCALARS or type(value) is float


def _row(obj: dict[object, object]) -> bool:
    """Whether every value is a scalar or a list of scalars (one line)."""
    return all(_flat(v) or (type(v) is list and all(map(_flat, v))) for v in obj.values())


def records(df: pd.DataFrame) -> list[dict[str, object]]:
    """The rows as `clean` makes them, a column at a time: cell by cell was most of
    cv_summary's cost at 10,000 variants (a numeric column is one conversion)."""
    if df.empty:
        return []
    names = [str(c) for c in df.columns]
    columns = [_plain(df.iloc[:, i]) for i in range(df.shape[1])]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _plain(column: pd.Series) -> list[object]:
    """A column's cells as `clean` makes them: NaN and infinities None, numpy's Python."""
    if not isinstance(column.dtype, np.dtype) or column.dtype.kind not in "fiub":
        return [clean(v) for v in column.tolist()]  # objects, strings, times, nullable ones
    values = column.to_numpy()
    out: list[object] = values.tolist()
    if values.dtype.kind == "f":
        for i in np.flatnonzero(~np.isfinite(values)):
            out[i] = None
    return out
