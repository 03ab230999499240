"""Nested selection: per outer fold, the variant with the best mean score on the inner folds
of that fold's training part, and its score on the outer test fold.

Choosing the best variant on the test folds that also score it is biased upwards (the
report's "optimistic"); choosing it on inner folds that never saw the outer test rows makes
the outer score of the chosen variant an honest estimate of "tune, then train". The inner
tasks are ordinary task folders (`fold_00/inner_01/<stage>`), read here only: the outer
result tables never hold them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from foldrun.core import state
from foldrun.core.task import TaskState
from foldrun.core.taskid import FOLD, INNER, REPEAT, TaskId, part_glob, part_number
from foldrun.layout import TaskFiles
from foldrun.results import stats
from foldrun.results.collect import STAGE_RANK, TaskRef
from foldrun.results.refresh import Planned
from foldrun.results.source import planned_tasks

INNER_COLUMNS = ["model", "variant", "repeat", "fold", "inner", "value"]


def inner_scores(tasks_dir: Path, planned: Sequence[Planned] | None, metric: str) -> pd.DataFrame:
    """One row per planned inner fold of a model's variant: the test score on `metric` of
    its done tasks (the evaluate stage's value first, as for outer folds), NaN while none
    is done. Without a plan (None), the inner folders on disk."""
    folds: dict[str, list[Planned]] = {}
    for p in planned if planned is not None else _on_disk(tasks_dir):
        folds.setdefault(os.path.dirname(p.ref.path), []).append(p)
    rows = []
    for folder, stages in folds.items():
        ref = stages[0].ref
        inner = part_number(os.path.basename(folder), INNER)
        rows.append(
            (ref.model, ref.variant, ref.repeat, ref.fold, inner, fold_score(stages, metric))
        )
    frame = pd.DataFrame(rows, columns=INNER_COLUMNS)
    return frame[~pd.Series(list(zip(frame["model"], frame["variant"], strict=True)),
                            index=frame.index, dtype=object).isin(_feeders(frame))]  # fmt: skip


def _feeders(frame: pd.DataFrame) -> set[tuple[str, str]]:
    """(model, variant) of the earlier stages' variants (`md8` before `md8+t0.3`, a stage
    grid): they have no score of their own, the variants made from them are the choices."""
    pairs = set(zip(frame["model"], frame["variant"], strict=True))
    return {(m, v) for m, v in pairs if any(n == m and w.startswith(v + "+") for n, w in pairs)}


def fold_score(stages: Sequence[Planned], metric: str) -> float:
    """`test/<metric>` of the best-ranked done stage of one fold that wrote it (NaN when
    none did): the value an outer fold's row would hold."""
    return fold_scores(stages).get(metric, math.nan)


def fold_scores(stages: Sequence[Planned]) -> dict[str, float]:
    """Every `test/<metric>` of one fold, each from the best-ranked done stage that wrote
    it (keys without `test/`)."""
    found: dict[str, float] = {}
    for p in sorted(stages, key=lambda p: STAGE_RANK.get(p.ref.stage, 9)):
        if state.disk_state(Path(p.ref.path), p.fingerprint) != TaskState.DONE:
            continue
        try:
            metrics = json.loads(Path(p.ref.file(TaskFiles.METRICS)).read_text())
            items = metrics.items()
        except (OSError, ValueError, AttributeError):
            continue
        for name, value in items:
            if (name.startswith("test/") and isinstance(value, int | float)
                    and not isinstance(value, bool)):  # fmt: skip
                found.setdefault(name.removeprefix("test/"), float(value))
    return found


def _on_disk(tasks_dir: Path) -> list[Planned]:
    """Inner task folders found on disk (no plan: any whole DONE counts)."""
    found = []
    fold, inner = part_glob(FOLD), part_glob(INNER)
    patterns = (f"*/*/{fold}/{inner}/*", f"*/*/{part_glob(REPEAT)}/{fold}/{inner}/*")
    for stage_dir in sorted(p for pattern in patterns for p in tasks_dir.glob(pattern)):
        task = TaskId.parse(stage_dir.relative_to(tasks_dir).as_posix())
        if task is None or task.dataset or not stage_dir.is_dir() or "." in stage_dir.name:
            continue
        # the ref carries the outer fold; its folder names the inner one
        ref = TaskRef(task.model, task.variant, task.fold, task.repeat, task.stage, str(stage_dir))
        found.append(Planned(ref, None))
    return found


def for_results(results) -> dict[str, dict[str, object]]:
    """`nested_selection` of a run's Results: {} when no model has inner folds."""
    planned = planned_tasks(results.source, inner=True) if results.planned else None
    scores = inner_scores(results.source.layout.tasks_dir, planned, results.primary)
    if scores.empty:
        return {}
    return nested_selection(scores, results.current_metrics, results.primary,
                            results.greater_is_better, results.confidence)  # fmt: skip


def nested_selection(
    scores: pd.DataFrame,
    outer: pd.DataFrame,
    metric: str,
    greater: bool,
    confidence: float = 0.95,
) -> dict[str, dict[str, object]]:
    """Per model with inner folds: the variant chosen per outer fold (best mean inner score,
    every variant's inner folds done), its outer test score, and the mean and t-interval
    of those scores. `outer`: the current metrics table (test rows of the outer folds)."""
    test = outer[(outer["subset"] == "test") & (outer["metric"] == metric) & (outer["fold"] >= 0)]
    test = test.set_index(["model", "variant", "repeat", "fold"])["value"]
    test = test[~test.index.duplicated()]
    out = {}
    for model, part in scores.groupby("model", sort=True):
        out[str(model)] = _one_model(str(model), part, test, metric, greater, confidence)
    return out


def _one_model(model, part, test, metric, greater, confidence) -> dict[str, object]:
    chosen = []
    for (repeat, fold), rows in part.groupby(["repeat", "fold"], sort=True):
        means = rows.groupby("variant")["value"].mean()
        ready = bool(rows["value"].notna().all())
        entry: dict[str, object] = {"repeat": int(repeat), "fold": int(fold), "variant": None,
                                    "inner_mean": None, "test": None}  # fmt: skip
        if ready:
            best = str(means.idxmax() if greater else means.idxmin())
            entry.update(variant=best, inner_mean=float(means[best]),
                         test=_get(test, (model, best, repeat, fold)))  # fmt: skip
        chosen.append(entry)
    values = [e["test"] for e in chosen if e["test"] is not None]
    interval = stats.t_interval(np.array(values, dtype=float), confidence, metric)
    return {
        "metric": metric,
        "mean": interval.mean,
        "std": interval.std,
        "ci_low": interval.low,
        "ci_high": interval.high,
        "n": interval.n,
        "outer_folds": len(chosen),
        "complete": interval.n == len(chosen),
        "inner_folds": int(part["inner"].nunique()),
        "variants": int(part["variant"].nunique()),
        "chosen": chosen,
    }


def _get(series: pd.Series, key: tuple[object, ...]) -> float | None:
    try:
        value = float(series.loc[key])
    except (KeyError, TypeError, ValueError):
        return None
    return None if math.isnan(value) else value
