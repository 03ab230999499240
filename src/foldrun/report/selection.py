"""The report's "Honest selection" section: nested selection beside the optimistic one."""

from __future__ import annotations

import math

import pandas as pd

from foldrun.report import html as h


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
    return h.section("Honest selection: nested cross-validation", h.para(note, "note"),
                     h.table(pd.DataFrame(rows), keys=1))  # fmt: skip


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


def _mean_ci(mean: object, low: object, high: object) -> str:
    def num(x: object) -> float:
        return float(x) if isinstance(x, int | float) else math.nan

    m, lo, hi = num(mean), num(low), num(high)
    if math.isnan(m):
        return "–"
    return f"{m:.4f}" + ("" if math.isnan(lo) else f" [{lo:.4f}, {hi:.4f}]")
