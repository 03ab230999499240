"""report/figures_predictions: the numbers behind the ROC/PR curves and the confusion
matrix follow results/metrics' reading of the prediction columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from foldrun.report.figures_predictions import binary_scores, confusion_counts


def test_a_binary_programs_one_probability_column_is_plotted_as_both() -> None:
    """`proba_yes` alone: no curve was drawn, and the confusion matrix counted every row
    as predicted `yes`; they are those of both columns (proba_no = 1 - proba_yes)."""
    rng = np.random.default_rng(1)
    y = rng.choice(["no", "yes"], 30)
    p = rng.uniform(0.05, 0.95, 30)
    one = pd.DataFrame({"y_true": y, "proba_yes": p})
    both = pd.DataFrame({"y_true": y, "proba_no": 1 - p, "proba_yes": p})
    found, expected = binary_scores(one), binary_scores(both)
    assert found is not None and expected is not None
    assert np.array_equal(found[0], expected[0]) and np.allclose(found[1], expected[1])
    labels, counts = confusion_counts(one)
    assert (labels, counts.tolist()) == (lambda c: (c[0], c[1].tolist()))(confusion_counts(both))
    assert counts.sum() == 30 and counts[:, 0].sum() == int((p < 0.5).sum())  # predicted no


def test_the_other_classs_one_probability_column_is_plotted_as_both() -> None:
    """`proba_no` alone drew the ROC/PR curves of `no`, both columns (and the metrics'
    average precision) those of `yes`, the class sorted last."""
    rng = np.random.default_rng(2)
    y = rng.choice(["no", "yes"], 30)
    p = rng.uniform(0.05, 0.95, 30)
    one = pd.DataFrame({"y_true": y, "proba_no": 1 - p})
    both = pd.DataFrame({"y_true": y, "proba_no": 1 - p, "proba_yes": p})
    found, expected = binary_scores(one), binary_scores(both)
    assert found is not None and expected is not None
    assert np.array_equal(found[0], expected[0]) and np.allclose(found[1], expected[1])


def test_two_probability_columns_in_either_order_are_plotted_the_same() -> None:
    """`proba_yes, proba_no` drew the curves of `no`; the class sorted last, as the metrics."""
    rng = np.random.default_rng(3)
    y = rng.choice(["no", "yes"], 30)
    p = rng.uniform(0.05, 0.95, 30)
    ordered = pd.DataFrame({"y_true": y, "proba_no": 1 - p, "proba_yes": p})
    found = binary_scores(ordered[["y_true", "proba_yes", "proba_no"]])
    expected = binary_scores(ordered)
    assert found is not None and expected is not None
    assert np.array_equal(found[0], expected[0]) and np.allclose(found[1], expected[1])


def test_probability_columns_missing_a_class_draw_no_curve() -> None:
    """`proba_a, proba_b` of a target of a, b, c: the metrics leave roc_auc undefined (a
    class with no probability, results/metrics), and the figures drew the curve of b
    against the rest, its AUC in the legend, for a model the tables said had none."""
    from foldrun.report.figures_predictions import curve_scores

    rng = np.random.default_rng(3)
    y = rng.choice(["a", "b", "c"], 40)
    p = rng.uniform(0.05, 0.95, 40)
    part = pd.DataFrame({"y_true": y, "proba_a": p, "proba_b": 1 - p})
    assert binary_scores(part) is None and curve_scores(part) is None
    whole = part.assign(proba_c=0.0)  # every class's column: micro-averaged, drawn
    assert curve_scores(whole) is not None


def test_a_score_column_of_a_target_of_more_classes_draws_no_curve() -> None:
    """A `score` is one class's: of a target of a, b, c the figures drew c against the
    rest (AUC in the legend) where the metrics leave every number undefined."""
    from foldrun.report.figures_predictions import curve_scores

    y = np.array(["a", "b", "c"] * 10, dtype=object)
    part = pd.DataFrame({"y_true": y, "score": np.linspace(0, 1, 30)})
    assert binary_scores(part) is None and curve_scores(part) is None
    assert curve_scores(part[part["y_true"] != "b"]) is not None  # two classes: drawn
