"""results/metrics.label_metrics: accuracy, balanced accuracy and macro F1 in numpy, equal
(not close: equal) to scikit-learn's on random labels, as the evaluate stage relies on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from foldrun.results.metrics import classification_metrics, label_metrics

ALPHABETS = [["0", "1"], ["a", "b", "c"], ["007", "7", "10", "2", "x"], [str(i) for i in range(12)]]


@pytest.mark.parametrize("seed", range(40))
def test_label_metrics_equal_scikit_learns(seed: int) -> None:
    rng = np.random.default_rng(seed)
    alphabet = ALPHABETS[seed % len(ALPHABETS)]
    n = int(rng.integers(1, 400))
    y = rng.choice(alphabet[: max(1, len(alphabet) - seed % 3)], n)  # classes missing from y
    pred = np.where(rng.random(n) < rng.random(), y, rng.choice(alphabet, n))  # and extra
    got = label_metrics(y.astype(str), pred.astype(str))
    assert got["accuracy"] == skm.accuracy_score(y, pred)
    assert got["balanced_accuracy"] == skm.balanced_accuracy_score(y, pred)
    assert got["macro_f1"] == skm.f1_score(y, pred, average="macro", zero_division=0)


def test_evaluate_metrics_of_mixed_label_dtypes_equal_scikit_learns() -> None:
    """1 and 1.0 are one class (as_labels); the three values still equal scikit-learn's on
    the labels as text, one class of y never predicted."""
    pred_values = [0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0]
    df = pd.DataFrame({"y_true": [0, 1, 2, 2, 1, 0, 2], "pred": pred_values})
    got = classification_metrics(df)
    y, pred = ["0", "1", "2", "2", "1", "0", "2"], ["0", "1", "1", "1", "1", "0", "1"]
    assert got["accuracy"] == skm.accuracy_score(y, pred) == 4 / 7
    assert got["balanced_accuracy"] == skm.balanced_accuracy_score(y, pred)
    assert got["macro_f1"] == skm.f1_score(y, pred, average="macro", zero_division=0)
