"""Variant selection per model and the comparison of the selected variants between models."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from foldrun.results import stats


def select_variants(
    test_summary: pd.DataFrame,
    val_summary: pd.DataFrame,
    primary: str,
    greater: bool,
) -> pd.DataFrame:
    """The best variant of each model by the primary metric.

    Selected on the validation folds when every variant of the model has `val/<primary>`
    (then the test scores are honest); otherwise on the test folds themselves, and the
    result is flagged `optimistic` when there was more than one variant to choose from.
    """
    test = test_summary[test_summary["metric"] == primary]
    val = val_summary[val_summary["metric"] == primary].set_index(["model", "variant"])["mean"]
    rows = []
    for _model, part in test.groupby("model", sort=True):
        part = part.dropna(subset=["mean"])
        if part.empty:
            continue
        keys = list(zip(part["model"], part["variant"], strict=True))
        on_val = all(k in val.index and not math.isnan(val[k]) for k in keys) and len(keys) > 1
        score = np.array([val[k] for k in keys]) if on_val else part["mean"].to_numpy()
        best = int(np.argmax(score) if greater else np.argmin(score))
        row = part.iloc[best].to_dict()
        row.update(
            n_variants=len(part),
            selected_on="val" if on_val else "test",
            optimistic=bool(not on_val and len(part) > 1),
        )
        rows.append(row)
    columns = [*test_summary.columns, "n_variants", "selected_on", "optimistic"]
    return pd.DataFrame(rows, columns=columns)


def _fold_scores(metrics: pd.DataFrame, model: str, variant: str, primary: str) -> pd.Series:
    rows = metrics[
        (metrics["model"] == model)
        & (metrics["variant"] == variant)
        & (metrics["metric"] == primary)
        & (metrics["subset"] == "test")
        & (metrics["fold"] >= 0)
    ]
    return rows.set_index(["repeat", "fold"])["value"]


def compare_models(
    metrics: pd.DataFrame,
    best: pd.DataFrame,
    primary: str,
    greater: bool,
    ratio: float | None,
    alpha: float = 0.05,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairwise corrected t-tests between the selected variants, and a ranking table.

    The difference is always `a - b` on the primary metric over the folds both have.
    p-values are Holm-corrected over all pairs; `significant` uses the corrected one.
    `ratio` is n_test / n_train; without it, 1 / (K - 1) for K folds per repeat.
    """
    scores = {
        (r.model, r.variant): _fold_scores(metrics, r.model, r.variant, primary)
        for r in best.itertuples()
    }
    pairs = []
    for (a, sa), (b, sb) in itertools.combinations(scores.items(), 2):
        joined = pd.concat([sa, sb], axis=1, join="inner").dropna()
        diff = (joined.iloc[:, 0] - joined.iloc[:, 1]).to_numpy()
        k = joined.index.get_level_values("fold").nunique() if len(joined) else 0
        r = ratio if ratio is not None else (1 / (k - 1) if k > 1 else math.nan)
        test = stats.corrected_ttest(diff, r)
        pairs.append({
            "model_a": a[0], "variant_a": a[1], "model_b": b[0], "variant_b": b[1],
            "n_folds": test.n, "mean_diff": test.mean, "std_diff": test.std,
            "t": test.t, "p": test.p,
        })  # fmt: skip
    pairs_df = pd.DataFrame(pairs, columns=[
        "model_a", "variant_a", "model_b", "variant_b", "n_folds", "mean_diff", "std_diff",
        "t", "p"])  # fmt: skip
    pairs_df["p_holm"] = stats.holm(pairs_df["p"].tolist()) if len(pairs_df) else []
    pairs_df["significant"] = pairs_df["p_holm"] < alpha
    return pairs_df, _ranking(best, pairs_df, greater)


def _ranking(best: pd.DataFrame, pairs: pd.DataFrame, greater: bool) -> pd.DataFrame:
    """Models ordered by the primary metric; whether each differs significantly from #1."""
    ranked = best.sort_values("mean", ascending=not greater, kind="stable", ignore_index=True)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    top = ranked["model"].iloc[0] if len(ranked) else None
    p_vs_best, sig = [], []
    for model in ranked["model"]:
        hit = pairs[
            ((pairs["model_a"] == model) & (pairs["model_b"] == top))
            | ((pairs["model_b"] == model) & (pairs["model_a"] == top))
        ]
        p = float(hit["p_holm"].iloc[0]) if len(hit) else math.nan
        p_vs_best.append(p)
        sig.append(bool(len(hit) and hit["significant"].iloc[0]))
    ranked["p_vs_best_holm"] = p_vs_best
    ranked["worse_than_best"] = sig
    return ranked
