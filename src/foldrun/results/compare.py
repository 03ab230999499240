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
    stopped: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
) -> pd.DataFrame:
    """The best variant of each model by the primary metric, never one that a race
    stopped (`stopped`: its few folds are no estimate to rank by).

    Selected on the validation folds when every variant of the model has `val/<primary>`
    (then the test scores are honest); otherwise on the test folds themselves, and the
    result is flagged `optimistic` when there was more than one variant to choose from.
    """
    test = test_summary[test_summary["metric"] == primary]
    val = val_summary[val_summary["metric"] == primary].set_index(["model", "variant"])["mean"]
    rows = []
    for _model, part in test.groupby("model", sort=True):
        part = part.dropna(subset=["mean"])
        n_all = len(part)  # a race chose among all of them too
        raced = [(m, v) not in stopped for m, v in zip(part["model"], part["variant"], strict=True)]
        part = part[raced] if any(raced) else part
        if part.empty:
            continue
        keys = list(zip(part["model"], part["variant"], strict=True))
        on_val = all(k in val.index and not math.isnan(val[k]) for k in keys) and len(keys) > 1
        score = np.array([val[k] for k in keys]) if on_val else part["mean"].to_numpy()
        best = int(np.argmax(score) if greater else np.argmin(score))
        row = part.iloc[best].to_dict()
        row.update(
            n_variants=n_all,
            selected_on="val" if on_val else "test",
            optimistic=bool(not on_val and n_all > 1),
        )
        rows.append(row)
    columns = [*test_summary.columns, "n_variants", "selected_on", "optimistic"]
    return pd.DataFrame(rows, columns=columns)


def _score_matrix(metrics: pd.DataFrame, best: pd.DataFrame, primary: str) -> pd.DataFrame:
    """Test scores on the primary metric: a row per (repeat, fold), a column per selected
    (model, variant); NaN where a fold is missing."""
    rows = metrics[
        (metrics["metric"] == primary) & (metrics["subset"] == "test") & (metrics["fold"] >= 0)
    ]
    rows = rows.merge(best[["model", "variant"]], on=["model", "variant"])
    wide = rows.pivot_table(
        index=["repeat", "fold"], columns=["model", "variant"], values="value", aggfunc="first"
    )
    return wide.reindex(columns=pd.MultiIndex.from_frame(best[["model", "variant"]]))


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
    wide = _score_matrix(metrics, best, primary)
    values = wide.to_numpy(float)
    folds = wide.index.get_level_values("fold").to_numpy() if len(wide) else np.array([])
    keys = list(wide.columns)
    pairs = []
    for i, j in itertools.combinations(range(len(keys)), 2):
        both = ~np.isnan(values[:, i]) & ~np.isnan(values[:, j])
        diff = values[both, i] - values[both, j]
        k = len(np.unique(folds[both]))
        r = ratio if ratio is not None else (1 / (k - 1) if k > 1 else math.nan)
        test = stats.corrected_ttest(diff, r)
        pairs.append({
            "model_a": keys[i][0], "variant_a": keys[i][1],
            "model_b": keys[j][0], "variant_b": keys[j][1],
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
    vs_top = pairs[(pairs["model_a"] == top) | (pairs["model_b"] == top)]
    other = vs_top["model_b"].where(vs_top["model_a"] == top, vs_top["model_a"])
    p_of = dict(zip(other, vs_top["p_holm"], strict=True))
    sig_of = dict(zip(other, vs_top["significant"], strict=True))
    p_vs_best = [p_of.get(m, math.nan) for m in ranked["model"]]
    sig = [bool(sig_of.get(m, False)) for m in ranked["model"]]
    ranked["p_vs_best_holm"] = p_vs_best
    ranked["worse_than_best"] = sig
    return ranked
