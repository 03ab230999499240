"""results/metrics.label_metrics: accuracy, balanced accuracy and macro F1 in numpy, equal
(not close: equal) to scikit-learn's on random labels, as the evaluate stage relies on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from foldrun.results.metrics import as_labels, classification_metrics, label_metrics

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


@pytest.mark.parametrize("values", [[1, 0, -5, 2**62], [True, False], np.array([1, 2], np.uint8)])
def test_labels_of_ints_and_bools_are_pandas_text(values: object) -> None:
    """as_labels takes numpy's text of ints and bools: pandas' astype(str), element for
    element (Python str objects), so scorers get the labels they got."""
    series = pd.Series(values)
    got, before = as_labels(series), series.astype(str).to_numpy()
    assert got.dtype == before.dtype == object and got.tolist() == before.tolist()
    assert all(type(a) is str for a in got)


@pytest.mark.parametrize("with_pred", [True, False])
def test_a_binary_programs_one_probability_column_is_p_and_1_minus_p(with_pred: bool) -> None:
    """A binary program that writes only `proba_yes` (as scikit-learn reads a 1-d
    probability): log_loss and roc_auc came out NaN, and without `pred` every row was
    predicted `yes`. The numbers are those of both columns, proba_no = 1 - proba_yes."""
    rng = np.random.default_rng(0)
    y = rng.choice(["no", "yes"], 40)
    p = rng.uniform(0.05, 0.95, 40)
    one = pd.DataFrame({"y_true": y, "proba_yes": p})
    if with_pred:
        one.insert(1, "pred", np.where(p >= 0.5, "yes", "no"))
    both = one.assign(proba_no=1 - p)[[*one.columns[:-1], "proba_no", "proba_yes"]]
    found, expected = classification_metrics(one), classification_metrics(both)
    assert found == pytest.approx(expected, nan_ok=False)
    assert found["log_loss"] == pytest.approx(skm.log_loss(y == "yes", p))
    assert found["roc_auc"] == pytest.approx(skm.roc_auc_score(y == "yes", p))
    assert found["accuracy"] == pytest.approx(np.mean((p >= 0.5) == (y == "yes")))


@pytest.mark.parametrize("labels", [("no", "yes"), (0, 1)])
def test_the_other_classs_one_probability_column_scores_as_both_columns(labels) -> None:
    """`proba_no` alone (or `proba_0` of 0/1 labels) gave the average precision of `no`,
    while both columns, and `proba_yes` alone, give that of `yes` (the class sorted last,
    as scikit-learn reads a 1-d probability): the same model, two numbers."""
    rng = np.random.default_rng(1)
    y = rng.choice(np.array(labels, dtype=object), 50, p=[0.7, 0.3])
    p_low = rng.uniform(0.05, 0.95, 50)  # the probability of labels[0]
    low, high = (f"proba_{c}" for c in labels)
    both = pd.DataFrame({"y_true": y, low: p_low, high: 1 - p_low})
    found = classification_metrics(both.drop(columns=high))
    assert found == pytest.approx(classification_metrics(both), nan_ok=False)


def test_two_probability_columns_in_either_order_score_the_same() -> None:
    """A program writing `proba_yes, proba_no` got the average precision (and the PR
    curve) of `no`, one writing `proba_no, proba_yes` that of `yes`: the positive class
    is the one sorted last, whatever the columns' order."""
    rng = np.random.default_rng(4)
    y = rng.choice(["no", "yes"], 50, p=[0.7, 0.3])
    p = rng.uniform(0.05, 0.95, 50)
    ordered = pd.DataFrame({"y_true": y, "proba_no": 1 - p, "proba_yes": p})
    swapped = ordered[["y_true", "proba_yes", "proba_no"]]
    assert classification_metrics(swapped) == pytest.approx(classification_metrics(ordered))


def test_a_multiclass_programs_probability_columns_in_any_order_score_the_same() -> None:
    """A program writing `proba_c, proba_a, proba_b` got the log loss of its columns read
    as a, b, c (scikit-learn's labels are sorted: 3.9 where the model's is 0.5) and roc_auc
    NaN ('labels must be ordered'); the columns are each their class's, whatever the order,
    in the per-fold evaluate (compute_metrics) and the pooled metrics (fast_metrics)."""
    from foldrun.results.fast import fast_metrics

    rng = np.random.default_rng(5)
    y = rng.choice(["a", "b", "c"], 90)
    raw = rng.uniform(0.05, 1, (90, 3)) + 2.0 * (y[:, None] == np.array(["a", "b", "c"]))
    p = raw / raw.sum(axis=1, keepdims=True)
    ordered = pd.DataFrame({"y_true": y, "proba_a": p[:, 0], "proba_b": p[:, 1],
                            "proba_c": p[:, 2]})  # fmt: skip
    shuffled = ordered[["y_true", "proba_c", "proba_a", "proba_b"]]
    expected = classification_metrics(ordered)
    assert expected["log_loss"] == pytest.approx(skm.log_loss(y, p))
    assert expected["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p, multi_class="ovr"))
    assert classification_metrics(shuffled) == pytest.approx(expected)
    assert fast_metrics(shuffled, "classification") == pytest.approx(expected)


def test_probability_columns_missing_a_class_of_the_fold_leave_those_metrics_undefined() -> None:
    """`proba_a, proba_b` of a target with classes a, b, c were scored as a binary target's
    (roc_auc of b against the rest, brier, average precision: numbers of another problem,
    ranked beside the 3-class models' macro roc_auc); a class with no column has no
    probability: roc_auc and log_loss are undefined (NaN), the labels' metrics stay."""
    from foldrun.results.fast import fast_metrics

    rng = np.random.default_rng(6)
    y = rng.choice(["a", "b", "c"], 60)
    p = rng.uniform(0.05, 0.95, 60)
    two = pd.DataFrame({"y_true": y, "proba_a": p, "proba_b": 1 - p})
    for found in (classification_metrics(two), fast_metrics(two, "classification")):
        assert set(found) >= {"roc_auc", "log_loss"}
        assert np.isnan(found["roc_auc"]) and np.isnan(found["log_loss"])
        assert "brier" not in found and "average_precision" not in found
        assert found["accuracy"] == pytest.approx(np.mean(y == np.where(p >= 0.5, "a", "b")))


def test_a_score_column_of_a_target_of_more_classes_is_scored_by_none_of_its_metrics() -> None:
    """A `score` is one class's (a binary target's): of a target of a, b, c it was scored
    as c against the rest (roc_auc 1.0, ranked above the models of every class) and its
    labels made up at 0.5 (c or a, never b). Undefined (NaN), per fold and pooled."""
    from foldrun.results.fast import fast_metrics

    rng = np.random.default_rng(8)
    y = rng.choice(["a", "b", "c"], 60)
    frame = pd.DataFrame({"y_true": y, "score": (y == "c") * 0.5 + rng.uniform(0, 0.5, 60)})
    for found in (classification_metrics(frame), fast_metrics(frame, "classification")):
        assert found and all(np.isnan(v) for v in found.values())
        assert {"roc_auc", "accuracy"} <= set(found)


def test_a_score_that_is_no_probability_gives_no_brier_and_no_labels() -> None:
    """`score = "logit"` (the guide's own example) was labelled at 0.5 as a probability
    (accuracy 0.84 where the logit's sign gives 0.86) and its Brier score taken of the
    logits clipped to [0, 1]: a score outside [0, 1] ranks (roc_auc, average precision) but
    says no label and no probability; a `pred` column gives the labels."""
    from foldrun.results.fast import fast_metrics

    rng = np.random.default_rng(9)
    y = rng.choice(["no", "yes"], 80)
    logit = np.where(y == "yes", 1.0, -1.0) + rng.normal(0, 1.5, 80)
    frame = pd.DataFrame({"y_true": y, "score": logit})
    for found in (classification_metrics(frame), fast_metrics(frame, "classification")):
        assert found["roc_auc"] == pytest.approx(skm.roc_auc_score(y == "yes", logit))
        assert found["average_precision"] == pytest.approx(
            skm.average_precision_score(y == "yes", logit))  # fmt: skip
        assert np.isnan(found["brier"]) and np.isnan(found["accuracy"])
    labelled = frame.assign(pred=np.where(logit > 0, "yes", "no"))
    found = classification_metrics(labelled)
    assert found["accuracy"] == pytest.approx(np.mean(labelled["pred"] == y))
    assert np.isnan(found["brier"])
    probability = frame.assign(score=1 / (1 + np.exp(-logit)))  # in [0, 1]: as before
    found = classification_metrics(probability)
    assert found["brier"] == pytest.approx(skm.brier_score_loss(y == "yes", probability["score"]))
    assert found["accuracy"] == pytest.approx(np.mean(np.where(logit >= 0, "yes", "no") == y))
