from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from sklearn import metrics as skm

from foldrun.results import stats


@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30), st.sampled_from([0.9, 0.95]))
@settings(max_examples=50, deadline=None)
def test_t_interval_matches_scipy(values: list[float], confidence: float) -> None:
    got = stats.t_interval(values, confidence)
    x = np.asarray(values)
    sem = x.std(ddof=1) / math.sqrt(len(x))
    assert got.mean == pytest.approx(x.mean(), abs=1e-9)
    assert got.std == pytest.approx(x.std(ddof=1), abs=1e-9)
    if sem > 0:
        low, high = sps.t.interval(confidence, len(x) - 1, loc=x.mean(), scale=sem)
        assert (got.low, got.high) == pytest.approx((low, high), abs=1e-9)


def test_t_interval_small_samples() -> None:
    assert stats.t_interval([]).n == 0
    one = stats.t_interval([0.7])
    assert one.mean == 0.7 and math.isnan(one.low) and math.isnan(one.std)
    assert stats.t_interval([0.5, math.nan, 0.7]).n == 2


def test_corrected_ttest_hand_worked() -> None:
    # d = [.02 .04 .01 .03 .05]: mean .03, var (ddof 1) = .001/4 = .00025, J = 5,
    # n_test/n_train = .25 -> t = .03 / sqrt((1/5 + 1/4) * .00025) = .03 / .0106066 = 2 sqrt 2
    result = stats.corrected_ttest([0.02, 0.04, 0.01, 0.03, 0.05], 0.25)
    assert result.t == pytest.approx(2 * math.sqrt(2))
    # Student's t with 4 dof has a closed-form CDF: F(t) = 1/2 + 3/8 u (1 - t²/(12 (1 + t²/4)))
    t = 2 * math.sqrt(2)
    u = t / math.sqrt(1 + t * t / 4)
    cdf = 0.5 + 3 / 8 * u * (1 - t * t / (12 * (1 + t * t / 4)))
    assert result.p == pytest.approx(2 * (1 - cdf))
    assert result.p == pytest.approx(0.04742, abs=1e-5)
    # the uncorrected test would be far more confident
    naive = sps.ttest_1samp([0.02, 0.04, 0.01, 0.03, 0.05], 0.0).pvalue
    assert naive < result.p


def test_corrected_ttest_degenerate() -> None:
    assert math.isnan(stats.corrected_ttest([0.1], 0.25).p)
    assert stats.corrected_ttest([0.0, 0.0, 0.0], 0.25).p == 1.0
    assert stats.corrected_ttest([0.1, 0.1, 0.1], 0.25).p == 0.0


def test_holm() -> None:
    got = stats.holm([0.01, 0.04, 0.03, math.nan])
    assert got[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(got[3])


def _classification(n: int = 200, seed: int = 0, classes=("a", "b")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.choice(list(classes), n)
    p = rng.dirichlet(np.ones(len(classes)), n)
    p[np.arange(n), [classes.index(v) for v in y]] += 0.5
    p /= p.sum(1, keepdims=True)
    df = pd.DataFrame({"id": range(n), "y_true": y})
    for j, c in enumerate(classes):
        df[f"proba_{c}"] = np.round(p[:, j], 2)  # rounding makes ties
    df["pred"] = np.asarray(classes)[p.argmax(1)]
    return df


@pytest.mark.parametrize("classes", [("a", "b"), ("a", "b", "c")])
@pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy", "macro_f1", "roc_auc"])
def test_vectorised_bootstrap_equals_weighted_sklearn(classes, metric: str) -> None:
    df = _classification(classes=classes)
    rng = np.random.default_rng(1)
    counts = rng.multinomial(len(df), np.full(len(df), 1 / len(df)), size=4).astype(float)
    vector = stats._classification_boot(df, metric)(counts)
    for b in range(4):
        sample = df.iloc[np.repeat(np.arange(len(df)), counts[b].astype(int))]
        y, pred = sample.y_true, sample.pred
        if metric == "accuracy":
            expected = skm.accuracy_score(y, pred)
        elif metric == "balanced_accuracy":
            expected = skm.balanced_accuracy_score(y, pred)
        elif metric == "macro_f1":
            expected = skm.f1_score(y, pred, average="macro")
        elif len(classes) == 2:
            expected = skm.roc_auc_score(y == "b", sample.proba_b)
        else:
            p = sample[[f"proba_{c}" for c in classes]].to_numpy()
            expected = np.mean([skm.roc_auc_score(y == c, p[:, j]) for j, c in enumerate(classes)])
        assert vector[b] == pytest.approx(expected)


@pytest.mark.parametrize("metric", ["mae", "rmse", "r2"])
def test_vectorised_bootstrap_regression(metric: str) -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"y_true": rng.normal(size=50)})
    df["pred"] = df.y_true + rng.normal(size=50)
    counts = rng.multinomial(50, np.full(50, 1 / 50), size=3).astype(float)
    vector = stats._regression_boot(df, metric)(counts)
    fn = {"mae": skm.mean_absolute_error, "r2": skm.r2_score,
          "rmse": lambda a, b: math.sqrt(skm.mean_squared_error(a, b))}[metric]  # fmt: skip
    for b in range(3):
        s = df.iloc[np.repeat(np.arange(50), counts[b].astype(int))]
        assert vector[b] == pytest.approx(fn(s.y_true, s.pred))


def test_bootstrap_interval_is_seeded_and_covers_the_estimate() -> None:
    df = _classification(n=300)
    a = stats.bootstrap_interval(df, "classification", "roc_auc", n_boot=500, seed=7)
    b = stats.bootstrap_interval(df, "classification", "roc_auc", n_boot=500, seed=7)
    assert a == b
    point = skm.roc_auc_score(df.y_true == "b", df.proba_b)
    assert a[0] < point < a[1] and a[1] - a[0] < 0.2
    # a metric without a vector form goes through the loop and still gives an interval
    low, high = stats.bootstrap_interval(df, "classification", "log_loss", n_boot=50, seed=0)
    assert low < high


def test_bootstrap_works_in_chunks_of_bounded_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 22 item 7: the (B, n) matrices of all resamples at once were 8 bytes x B x n
    several times over (1,000 x 1,000,000 rows: ~30 GB). In chunks the peak stays near
    CHUNK_CELLS x 8 bytes a matrix, and the interval still covers the estimate."""
    import tracemalloc

    n = 100_000
    df = _classification(n=n)
    point = skm.roc_auc_score(df.y_true == "b", df.proba_b)
    tracemalloc.start()
    try:
        low, high = stats.bootstrap_interval(df, "classification", "roc_auc", n_boot=500)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert low < point < high
    assert peak < 250e6, peak  # one (B, n) float matrix alone was 400 MB
    # one generator draws the chunks in turn: the same numbers whatever the chunk size
    # (and as before chunks, when all resamples were one matrix)
    monkeypatch.setattr(stats, "CHUNK_CELLS", 3 * n + 1)
    assert stats.bootstrap_interval(df, "classification", "roc_auc", n_boot=500) == (low, high)


def test_summarize_over_folds_and_repeats() -> None:
    rows = []
    for repeat in range(3):
        for fold in range(5):
            rows.append(("m", "v", fold, repeat, "evaluate", "test", "acc", 0.1 * fold + repeat))
    rows.append(("m", "v", -1, 0, "evaluate", "pooled", "acc", 9.0))  # never averaged in
    df = pd.DataFrame(rows, columns=["model", "variant", "fold", "repeat", "stage", "subset",
                                     "metric", "value"])  # fmt: skip
    out = stats.summarize(df).iloc[0]
    values = df[df.subset == "test"].value
    assert out.n == 15 and out.n_repeats == 3
    assert out["mean"] == pytest.approx(values.mean())
    low, high = sps.t.interval(0.95, 14, loc=values.mean(), scale=values.std() / math.sqrt(15))
    assert (out.ci_low, out.ci_high) == pytest.approx((low, high))
    means = [0.2, 1.2, 2.2]
    assert out.repeat_std == pytest.approx(np.std(means, ddof=1))


def test_test_train_ratio() -> None:
    folds = pd.DataFrame({
        "id": list(range(10)) * 2, "repeat": 0, "fold": [0] * 10 + [1] * 10,
        "subset": (["test"] * 2 + ["train"] * 8) + (["test"] * 5 + ["train"] * 5),
    })  # fmt: skip
    assert stats.test_train_ratio(folds) == pytest.approx((2 / 8 + 1) / 2)


def _folds(metric: str, values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({
        "model": "m", "variant": "v", "fold": range(len(values)), "repeat": 0,
        "stage": "evaluate", "subset": "test", "metric": metric, "value": values,
    })  # fmt: skip


@pytest.mark.parametrize(
    ("metric", "values", "low", "high"),
    [
        ("roc_auc", [1.0, 0.99, 0.98, 1.0, 0.995], 0.0, 1.0),
        ("accuracy", [0.0, 0.02, 0.01, 0.0, 0.03], 0.0, 1.0),
        ("precision_007", [1.0, 0.97, 1.0, 0.99, 1.0], 0.0, 1.0),
        ("pearson", [0.999, 0.98, 1.0, 0.99, 0.97], -1.0, 1.0),
    ],
)
def test_interval_of_a_bounded_metric_stays_in_its_range(
    metric: str, values: list[float], low: float, high: float
) -> None:
    # an AUC interval read [0.9902, 1.0012]: the plain t-interval leaves [0, 1] near the edge
    plain = stats.t_interval(values)
    assert plain.low < low or plain.high > high  # the case of the bug
    row = stats.summarize(_folds(metric, values)).iloc[0]
    assert low <= row["ci_low"] <= row["mean"] <= row["ci_high"] <= high
    assert row["ci_low"] < row["mean"] < row["ci_high"]  # still an interval, not a point
    one = stats.t_interval(values, metric=metric)
    assert (one.low, one.high) == pytest.approx((row["ci_low"], row["ci_high"]))


def test_interval_of_an_unbounded_metric_is_the_plain_t_interval() -> None:
    values = [0.5, 0.7, 0.2, 0.9, 0.4]
    row = stats.summarize(_folds("rmse", values)).iloc[0]
    plain = stats.t_interval(values)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((plain.low, plain.high))
    # every fold the same (AUC 1.0 everywhere): the interval is that point
    same = stats.summarize(_folds("roc_auc", [1.0] * 5)).iloc[0]
    assert same["ci_low"] == same["ci_high"] == 1.0


@pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy", "macro_f1", "roc_auc"])
def test_bootstrap_of_a_score_alone_is_vectorised(metric: str) -> None:
    """A positive-class score without probabilities or pred (a command model's own column)
    takes the vector path, with compute_metrics' values on each resample."""
    from foldrun.results.metrics import compute_metrics

    df = _classification()[["id", "y_true", "proba_b"]].rename(columns={"proba_b": "score"})
    counts = np.random.default_rng(2).multinomial(len(df), np.full(len(df), 1 / len(df)),
                                                  size=3).astype(float)  # fmt: skip
    vector = stats._classification_boot(df, metric)
    assert vector is not None
    for b, value in enumerate(vector(counts)):
        sample = df.iloc[np.repeat(np.arange(len(df)), counts[b].astype(int))]
        assert value == pytest.approx(compute_metrics(sample, "classification")[metric])


def test_t_quantile_and_p_value_equal_scipy_stats_without_importing_it() -> None:
    """stats.py asks scipy.special what scipy.stats.t asks it (the summary `foldrun run`
    prints no longer imports scipy.stats): the same numbers, not close ones."""
    import subprocess
    import sys

    from scipy import special

    dof = np.r_[np.nan, np.arange(1, 500)]
    assert np.array_equal(special.stdtrit(dof, 0.975), sps.t.ppf(0.975, dof), equal_nan=True)
    d = [0.02, 0.04, 0.01, 0.03, 0.05]
    result = stats.corrected_ttest(d, 0.25)
    assert result.p == float(2 * sps.t.sf(abs(result.t), len(d) - 1))
    code = "import sys, foldrun.report.terminal; print('scipy.stats' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert found.stdout.strip() == "False", found.stderr


@pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy", "macro_f1", "roc_auc"])
def test_a_binary_programs_one_probability_column_bootstraps_as_both_columns(metric: str) -> None:
    """`proba_yes` alone (349c056: p and 1 - p) was labelled by argmax of one column, every
    row 'yes': the pooled accuracy 0.85 got the interval [0.41, 0.59]."""
    rng = np.random.default_rng(3)
    y = np.where(rng.random(80) < 0.4, "yes", "no")
    p = np.clip(np.where(y == "yes", 0.7, 0.3) + rng.normal(0, 0.2, 80), 0, 1)
    both = pd.DataFrame({"y_true": y, "proba_no": 1 - p, "proba_yes": p})
    lone = both.drop(columns="proba_no")
    assert stats.bootstrap_interval(lone, "classification", metric) == (
        stats.bootstrap_interval(both, "classification", metric))


def test_two_probability_columns_bootstrap_the_class_sorted_last_whatever_their_order() -> None:
    """The pooled roc_auc is the class sorted last's (9212f4a, results/metrics), but its
    interval took the second column's class: `proba_yes, proba_no` whose columns do not
    sum to 1 (one-vs-rest scores) got roc_auc 0.95 with the interval [0.5, 0.5]."""
    rng = np.random.default_rng(3)
    y = np.where(rng.random(80) < 0.4, "yes", "no")
    p = np.clip(np.where(y == "yes", 0.7, 0.3) + rng.normal(0, 0.2, 80), 0, 1)
    ordered = pd.DataFrame({"y_true": y, "proba_no": np.full(80, 0.5), "proba_yes": p})
    swapped = ordered[["y_true", "proba_yes", "proba_no"]]
    found = stats.bootstrap_interval(swapped, "classification", "roc_auc")
    assert found == stats.bootstrap_interval(ordered, "classification", "roc_auc")
    assert found[0] > 0.85


def test_a_probability_or_score_of_no_class_of_the_rows_has_no_interval() -> None:
    """`proba_a, proba_b` of rows of a, b, c (roc_auc) and a `score` of them (any metric)
    are undefined in the metrics (d6f6b11, 924f84b): the bootstrap gave them an interval of
    another problem's number."""
    rng = np.random.default_rng(4)
    y = rng.choice(["a", "b", "c"], 60)
    p = rng.uniform(0.05, 0.95, 60)
    two = pd.DataFrame({"y_true": y, "proba_a": p, "proba_b": 1 - p})
    assert np.isnan(stats.bootstrap_interval(two, "classification", "roc_auc")).all()
    scored = pd.DataFrame({"y_true": y, "score": p})
    for metric in ("roc_auc", "accuracy", "balanced_accuracy"):
        assert np.isnan(stats.bootstrap_interval(scored, "classification", metric)).all()


def test_a_score_that_is_no_probability_has_no_interval_of_its_labels() -> None:
    """A logit `score` says no label (results/metrics: accuracy undefined): the bootstrap
    labelled it at 0.5 and gave the accuracy an interval; its roc_auc keeps one."""
    rng = np.random.default_rng(5)
    y = rng.choice(["no", "yes"], 80)
    logit = np.where(y == "yes", 1.0, -1.0) + rng.normal(0, 1.5, 80)
    frame = pd.DataFrame({"y_true": y, "score": logit})
    for metric in ("accuracy", "balanced_accuracy", "macro_f1"):
        assert np.isnan(stats.bootstrap_interval(frame, "classification", metric)).all()
    low, high = stats.bootstrap_interval(frame, "classification", "roc_auc")
    assert 0.5 < low < high < 1
