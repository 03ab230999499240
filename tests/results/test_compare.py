from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from foldrun.results import compare, stats


def _metrics(scores: dict[tuple[str, str], list[float]], metric: str = "acc") -> pd.DataFrame:
    rows = []
    for (model, variant), values in scores.items():
        for fold, value in enumerate(values):
            rows.append((model, variant, fold, 0, "evaluate", "test", metric, value))
    return pd.DataFrame(rows, columns=["model", "variant", "fold", "repeat", "stage", "subset",
                                       "metric", "value"])  # fmt: skip


SCORES = {
    ("a", "v1"): [0.90, 0.92, 0.91, 0.93, 0.90],
    ("a", "v2"): [0.80, 0.82, 0.81, 0.83, 0.80],
    ("b", "default"): [0.88, 0.88, 0.90, 0.90, 0.86],
    ("c", "default"): [0.70, 0.72, 0.69, 0.71, 0.70],
}


def test_selection_and_optimistic_flag() -> None:
    summary = stats.summarize(_metrics(SCORES))
    best = compare.select_variants(summary, summary.iloc[0:0], "acc", greater=True)
    assert best[["model", "variant"]].values.tolist() == [["a", "v1"], ["b", "default"],
                                                           ["c", "default"]]  # fmt: skip
    assert best["optimistic"].tolist() == [True, False, False]
    # with validation scores that prefer v2, v2 is selected and the flag is off
    val = _metrics({("a", "v1"): [0.5] * 5, ("a", "v2"): [0.6] * 5})
    val["subset"] = "val"
    chosen = compare.select_variants(summary, stats.summarize(val, "val"), "acc", True)
    row = chosen[chosen.model == "a"].iloc[0]
    assert row.variant == "v2" and row.selected_on == "val" and not row.optimistic
    lower = compare.select_variants(summary, summary.iloc[0:0], "acc", greater=False)
    assert lower[lower.model == "a"].variant.item() == "v2"


def test_pairs_are_corrected_ttests_with_holm() -> None:
    metrics = _metrics(SCORES)
    summary = stats.summarize(metrics)
    best = compare.select_variants(summary, summary.iloc[0:0], "acc", True)
    pairs, ranking = compare.compare_models(metrics, best, "acc", True, ratio=0.25)
    assert len(pairs) == 3
    ab = pairs[(pairs.model_a == "a") & (pairs.model_b == "b")].iloc[0]
    diff = np.array(SCORES[("a", "v1")]) - np.array(SCORES[("b", "default")])
    t = diff.mean() / math.sqrt((1 / 5 + 0.25) * diff.var(ddof=1))
    assert ab.t == pytest.approx(t)
    assert ab.p == pytest.approx(stats.corrected_ttest(diff, 0.25).p)
    assert pairs.p_holm.tolist() == pytest.approx(stats.holm(pairs.p.tolist()))
    assert ranking.model.tolist() == ["a", "b", "c"] and ranking["rank"].tolist() == [1, 2, 3]
    ac = pairs[(pairs.model_a == "a") & (pairs.model_b == "c")].iloc[0]
    assert ac.significant and ranking.set_index("model").loc["c", "worse_than_best"]


def test_missing_folds_pair_on_common_folds() -> None:
    scores = dict(SCORES)
    scores[("b", "default")] = [0.88, math.nan, 0.90, 0.90, 0.86]
    metrics = _metrics(scores).dropna()
    summary = stats.summarize(metrics)
    best = compare.select_variants(summary, summary.iloc[0:0], "acc", True)
    pairs, _ = compare.compare_models(metrics, best, "acc", True, ratio=None)
    ab = pairs[(pairs.model_a == "a") & (pairs.model_b == "b")].iloc[0]
    assert ab.n_folds == 4
