from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foldrun.results import fast
from foldrun.results.fast import fast_metrics
from foldrun.results.metrics import compute_metrics


def _frame(seed: int, n: int, classes: list[str], rounding: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.choice(classes, n)
    p = rng.dirichlet(np.ones(len(classes)), n)
    if rounding:
        p = np.round(p, rounding)  # ties in the scores
        p[:, -1] = 1 - p[:, :-1].sum(1)
    df = pd.DataFrame({"id": range(n), "y_true": y})
    for j, c in enumerate(classes):
        df[f"proba_{c}"] = p[:, j]
    if seed % 2:
        df["pred"] = rng.choice(classes, n)  # a pred column that disagrees with the probas
    return df


@given(st.integers(0, 10_000), st.integers(2, 80), st.sampled_from([2, 3, 4]),
       st.sampled_from([0, 1, 2]))  # fmt: skip
@settings(max_examples=60, deadline=None)
def test_classification_equals_compute_metrics(seed: int, n: int, k: int, rounding: int) -> None:
    df = _frame(seed, n, [f"c{i}" for i in range(k)], rounding)
    slow = compute_metrics(df, "classification")
    fast = fast_metrics(df, "classification")
    assert fast.keys() == slow.keys()
    for key in slow:
        assert fast[key] == pytest.approx(slow[key], abs=1e-9, nan_ok=True), key


@given(st.integers(0, 10_000), st.integers(1, 60), st.booleans())
@settings(max_examples=60, deadline=None)
def test_regression_equals_compute_metrics(seed: int, n: int, ties: bool) -> None:
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    pred = y + rng.normal(size=n)
    if ties:
        y, pred = np.round(y), np.round(pred)
    df = pd.DataFrame({"y_true": y, "pred": pred})
    slow = compute_metrics(df, "regression")
    fast = fast_metrics(df, "regression")
    assert fast.keys() == slow.keys()
    for key in slow:
        assert fast[key] == pytest.approx(slow[key], abs=1e-9, nan_ok=True), key


def test_unusual_inputs_fall_back() -> None:
    df = pd.DataFrame({"y_true": ["a", "b", "c"], "proba_a": [0.2, 0.5, 0.1],
                       "proba_b": [0.8, 0.5, 0.9]})  # fmt: skip
    assert fast_metrics(df, "classification") == pytest.approx(
        compute_metrics(df, "classification"), nan_ok=True
    )


@given(st.integers(0, 10_000), st.integers(2, 80), st.sampled_from([2, 3]), st.booleans(),
       st.sampled_from([0, 1, 2]))  # fmt: skip
@settings(max_examples=60, deadline=None)
def test_score_only_equals_compute_metrics(
    seed: int, n: int, k: int, with_pred: bool, rounding: int
) -> None:
    """A command model's positive-class score alone (seed 002's `prob`), ids like `007`,
    labels as numbers or text, ties, sometimes one class only (the general path)."""
    rng = np.random.default_rng(seed)
    classes = [0, 1, 2][:k] if seed % 3 else ["neg", "pos", "x"][:k]
    df = pd.DataFrame({"id": [f"{i:03d}" for i in range(n)], "y_true": rng.choice(classes, n),
                       "score": np.round(rng.uniform(size=n), rounding or 6)})  # fmt: skip
    if with_pred:
        df["pred"] = rng.choice(classes, n)
    slow = compute_metrics(df, "classification")
    fast = fast_metrics(df, "classification")
    assert fast.keys() == slow.keys()
    for key in slow:
        assert fast[key] == pytest.approx(slow[key], abs=1e-9, nan_ok=True), key


def test_two_probability_columns_in_either_order_score_the_same() -> None:
    """`proba_yes, proba_no` got the average precision of `no` (results/metrics' rule:
    the class sorted last is positive, whatever the columns' order)."""
    from foldrun.results.metrics import classification_metrics

    rng = np.random.default_rng(4)
    y = rng.choice(["no", "yes"], 50, p=[0.7, 0.3])
    p = rng.uniform(0.05, 0.95, 50)
    ordered = pd.DataFrame({"y_true": y, "proba_no": 1 - p, "proba_yes": p})
    swapped = ordered[["y_true", "proba_yes", "proba_no"]]
    expected = classification_metrics(ordered)
    assert fast.classification(swapped) == pytest.approx(fast.classification(ordered))
    assert fast.classification(swapped)["average_precision"] == pytest.approx(
        expected["average_precision"])  # fmt: skip
