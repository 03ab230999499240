"""The report's selection sections: nested selection beside the optimistic one, and the
race (which variants stopped early, and why)."""

from __future__ import annotations

import math

import pandas as pd

from foldrun.core import state
from foldrun.layout import RunLayout
from foldrun.report import html
from foldrun.results import Results


def attach_nested(models: list[dict[str, object]], nested: dict[str, dict[str, object]]) -> None:
    """Each model record of cv_summary.json gets its `nested` object (when it has one)
    beside the optimistic selection it already holds."""
    for record in models:
        found = nested.get(str(record.get("model")))
        if found is not None:
            record["nested"] = found


def section(models: list[dict[str, object]]) -> str:
    """One paragraph and one table: per model the optimistic estimate (best variant chosen
    on the test folds that score it), the nested estimate, and each outer fold's choice."""
    rows = [_row(m) for m in models if isinstance(m.get("nested"), dict)]
    if not rows:
        return ""
    note = (
        "Choosing the best variant on the same test folds that score it is biased upwards "
        "(optimistic). Nested selection chooses, in each outer fold, the variant with the "
        "best mean score on inner folds of that fold's training part (which never sees its "
        "test rows); the chosen variant's score on the outer test fold is the estimate, "
        "with a t-interval over the outer folds. The gap between the two columns is the "
        "optimism of choosing on the test folds. The refit model is the variant that is "
        "best over all the outer folds (the optimistic column's variant)."
    )
    return html.section("Honest selection: nested cross-validation", html.para(note, "note"),
                     html.table(pd.DataFrame(rows), keys=1))  # fmt: skip


def _row(model: dict[str, object]) -> dict[str, object]:
    nested = model["nested"]
    assert isinstance(nested, dict)
    chosen = nested.get("chosen") or []
    picks = ", ".join(f"{c['fold']}:{c['variant'] or 'pending'}" for c in chosen)  # type: ignore[index]
    return {
        "model": model.get("model"),
        "optimistic variant": model.get("variant"),
        "optimistic": _mean_ci(model.get("mean"), model.get("ci_low"), model.get("ci_high")),
        "nested": _mean_ci(nested.get("mean"), nested.get("ci_low"), nested.get("ci_high")),
        "outer folds": f"{nested.get('n')}/{nested.get('outer_folds')}",
        "chosen per outer fold": picks,
    }


def _duration(hours: float) -> str:
    if hours >= 1:
        return f"{hours:.3g} hours"
    return f"{hours * 60:.3g} minutes" if hours * 60 >= 1 else f"{hours * 3600:.3g} seconds"


def _mean_ci(mean: object, low: object, high: object) -> str:
    def num(x: object) -> float:
        return float(x) if isinstance(x, int | float) else math.nan

    m, lo, hi = num(mean), num(low), num(high)
    if math.isnan(m):
        return "–"
    return f"{m:.4f}" + ("" if math.isnan(lo) else f" [{lo:.4f}, {hi:.4f}]")


def race_summary(results: Results) -> dict[str, object] | None:
    """cv_summary.json's `race`: the options, each decision, and what stopping saved (the
    pruned tasks, and their task-hours estimated from the done tasks of the same model and
    stage); None when no race ran."""
    record = state.read_race(RunLayout(results.run_dir).state_dir)
    if not record:
        return None
    tasks = results.tasks
    pruned = tasks[tasks["state"] == "pruned"]
    done = tasks[tasks["state"] == "done"]
    per_stage = done.groupby(["model", "stage"])["wall_s"].mean()
    saved_s = sum(float(per_stage.get((m, s), 0.0) or 0.0)
                  for m, s in zip(pruned["model"], pruned["stage"], strict=True))  # fmt: skip
    return {
        "after": record.get("after"),
        "alpha": record.get("alpha"),
        "metric": record.get("metric"),
        "test": "corrected resampled t-test (Nadeau & Bengio 2003) against the best, Holm "
        "over the variants still racing",
        "decisions": record.get("decisions") or [],
        "tasks_pruned": len(pruned),
        "tasks_run": len(done),
        "saved_task_hours": saved_s / 3600,
    }


def race_section(race: dict[str, object] | None) -> str:
    if not race:
        return ""
    note = (
        f"Racing: every variant of a model ran the first {race['after']} folds; before each "
        f"further fold, a variant whose {race['metric']} was significantly worse than the "
        f"current best on the folds all had finished (one-sided corrected paired t-test, "
        f"Holm over the variants still racing, alpha = {race['alpha']}) stopped. Its "
        f"remaining tasks are 'pruned': never run, never counted as failed or missing, and "
        f"never selected. {race['tasks_pruned']} task(s) were pruned, about "
        f"{_duration(float(race['saved_task_hours']))} of task time saved (each pruned task "  # type: ignore[arg-type]
        f"estimated by the mean wall time of its model's done tasks of that stage)."
    )
    decisions = pd.DataFrame(race["decisions"])  # type: ignore[arg-type]
    if not decisions.empty:
        decisions = decisions.reindex(columns=["model", "variant", "folds", "mean", "best",
                                               "best_mean", "p", "p_holm"])  # fmt: skip
        decisions = decisions.rename(columns={"folds": "stopped after folds"})
    return html.section("Racing: variants stopped early", html.para(note, "note"),
                     html.table(decisions, keys=2))  # fmt: skip
