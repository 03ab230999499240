"""Statistics over folds: t-intervals, pooled bootstrap intervals, the corrected t-test.

- Intervals over folds use Student's t with n - 1 degrees of freedom on the per-fold
  scores (std with ddof = 1); for a bounded metric on the logit scale of its range. Fold
  scores are not independent (training sets overlap), so these intervals are narrower
  than they should be; they describe the spread, they do not promise coverage.
- Model comparisons use the corrected resampled t-test of Nadeau & Bengio (2003): the
  variance of the paired per-fold differences is inflated by (1/J + n_test/n_train).
- The pooled out-of-fold bootstrap draws rows with replacement as a (B, n) matrix of
  multinomial counts, so most metrics are computed for many resamples at once; a chunk
  of resamples at a time (CHUNK_CELLS), so memory stays bounded for a million rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special  # not scipy.stats: its import, ~0.8 s, was most of a run's summary

from foldrun.results.metrics import (
    as_labels,
    class_labels,
    compute_metrics,
    lone_proba,
    metric_range,
    unit_interval,
)


@dataclass(frozen=True)
class Interval:
    mean: float
    std: float
    low: float
    high: float
    n: int


def t_interval(
    values: np.ndarray | list[float], confidence: float = 0.95, metric: str | None = None
) -> Interval:
    """Mean, std (ddof=1) and the two-sided t-interval of the mean; NaN bounds for n < 2.
    A bounded `metric` (metrics.metric_range) gets its interval on the logit scale."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, math.nan, 1)
    row = _intervals(pd.DataFrame({"metric": metric or "", "value": x}), ["metric"], confidence)
    return Interval(mean, float(x.std(ddof=1)), *row[["ci_low", "ci_high"]].iloc[0], n)


# a value at a bound is moved this far inside (as a share of the range) before the logit
EDGE = 1e-3


def _to_logit(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return special.logit(np.clip((x - low) / (high - low), EDGE, 1 - EDGE))


def _from_logit(z: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return low + (high - low) * special.expit(z)


def _intervals(rows: pd.DataFrame, keys: list[str], confidence: float) -> pd.DataFrame:
    """Mean, std (ddof=1), n and the t-interval of `value` per group of `keys`.

    For a bounded metric (accuracy, AUC, F1, ... in [0, 1]; correlations in [-1, 1]) the
    t-interval is computed on the logit scale of its range and mapped back, so it cannot
    leave the range (an AUC interval read [0.9902, 1.0012] on the plain scale). Groups
    with a value outside the metric's range keep the plain t-interval."""
    ranges = {m: metric_range(str(m)) for m in rows["metric"].unique()}
    metric = rows["metric"]
    low = metric.map({m: r[0] for m, r in ranges.items() if r}).astype(float).to_numpy()
    high = metric.map({m: r[1] for m, r in ranges.items() if r}).astype(float).to_numpy()
    x = rows["value"].to_numpy(float)
    frame = rows[keys].assign(
        value=x, z=_to_logit(x, low, high), inside=(x >= low) & (x <= high), low=low, high=high
    )
    groups = frame.groupby(keys, sort=True)
    out = groups["value"].agg(["mean", "std", "count", "min", "max"]).rename(columns={"count": "n"})
    z = groups["z"].agg(["mean", "std"])
    bounded = groups["inside"].all() & groups["low"].first().notna()
    dof = (out["n"] - 1).where(out["n"] > 1)
    t = special.stdtrit(dof, 0.5 + confidence / 2) / np.sqrt(out["n"])  # stats.t.ppf's own
    span = groups[["low", "high"]].first()
    logit_low = _from_logit(z["mean"] - t * z["std"], span["low"], span["high"])
    logit_high = _from_logit(z["mean"] + t * z["std"], span["low"], span["high"])
    out["ci_low"] = np.where(bounded, logit_low, out["mean"] - t * out["std"])
    out["ci_high"] = np.where(bounded, logit_high, out["mean"] + t * out["std"])
    same = (out["min"] == out["max"]) & dof.notna()  # every fold the same: that point
    out.loc[same, "ci_low"] = out.loc[same, "ci_high"] = out.loc[same, "mean"]
    return out.drop(columns=["min", "max"])


def summarize(metrics: pd.DataFrame, subset: str = "test", confidence: float = 0.95):
    """Per model, variant and metric: mean, std, t-interval over repeats × folds.

    With several repeats, `repeat_*` columns give the interval over the per-repeat means
    (one number per repeat), which does not count the folds of one repeat as independent.
    """
    rows = metrics[(metrics["subset"] == subset) & (metrics["fold"] >= 0)]
    keys = ["model", "variant", "metric"]
    if rows.empty:
        return pd.DataFrame(columns=[*keys, "n", "n_repeats", "mean", "std", "ci_low", "ci_high"])
    rows = rows.dropna(subset=["value"])
    out = _intervals(rows, keys, confidence)
    out["n_repeats"] = rows.groupby(keys, sort=True)["repeat"].nunique()
    per_repeat = rows.groupby([*keys, "repeat"])["value"].mean().reset_index()
    rep = _intervals(per_repeat, keys, confidence)
    out["repeat_std"] = rep["std"].where(out["n_repeats"] > 1)
    out["repeat_ci_low"] = rep["ci_low"].where(out["n_repeats"] > 1)
    out["repeat_ci_high"] = rep["ci_high"].where(out["n_repeats"] > 1)
    out = out.reset_index()
    return out[[*keys, "n", "n_repeats", "mean", "std", "ci_low", "ci_high",
                "repeat_std", "repeat_ci_low", "repeat_ci_high"]]  # fmt: skip


# ---- pooled out-of-fold bootstrap -------------------------------------------------------


Weights = Callable[[np.ndarray], np.ndarray]  # a metric of each row of weights w (B, n)

# Resamples are drawn and scored a chunk at a time, at most this many weights (B x n cells,
# 8 bytes each) at once: 1,000 resamples of 1,000,000 rows were ~30 GB in one matrix.
CHUNK_CELLS = 1 << 22


def _bin_auc(truth: np.ndarray, score: np.ndarray) -> Weights:
    """Weighted ROC AUC for each row of weights w (B, n); ties count one half.

    Rows are sorted by score once; the weights of positives and negatives are summed per
    distinct score with reduceat, so each resample costs O(n)."""
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    t = truth[order]

    def auc(w: np.ndarray) -> np.ndarray:
        ws = w[:, order]
        pos = np.add.reduceat(ws * t, starts, axis=1)  # (B, G) weight of positives per score
        neg = np.add.reduceat(ws * (1 - t), starts, axis=1)
        below = np.cumsum(neg, axis=1) - neg
        wins = (pos * (below + 0.5 * neg)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return wins / (pos.sum(axis=1) * neg.sum(axis=1))

    return auc


def _per_class(y: np.ndarray, pred: np.ndarray, metric: str) -> Weights:
    """Balanced accuracy or macro F1 from per-class weighted counts."""
    labels = sorted(set(y) | set(pred))
    yt = np.stack([y == c for c in labels], 1).astype(float)
    yp = np.stack([pred == c for c in labels], 1).astype(float)
    both = yt * yp

    def score(w: np.ndarray) -> np.ndarray:
        tp, t, p = w @ both, w @ yt, w @ yp
        with np.errstate(invalid="ignore", divide="ignore"):
            if metric == "balanced_accuracy":
                return np.nanmean(np.where(t > 0, tp / t, np.nan), axis=1)
            return np.where(t + p > 0, 2 * tp / (t + p), 0.0).mean(axis=1)

    return score


def _classification_boot(df: pd.DataFrame, metric: str) -> Weights | None:
    y = as_labels(df["y_true"])
    probas = [c for c in df.columns if c.startswith("proba_")]
    if "pred" not in df and not probas:
        return _score_only_boot(df, y, metric)
    if metric == "roc_auc":
        return _auc_boot(df, y, probas)
    return _label_boot(y, class_labels(df)[1], metric)  # metrics' rule of the labels


def _score_only_boot(df: pd.DataFrame, y: np.ndarray, metric: str) -> Weights | None:
    """Predictions of one `score` column (one class's), as results/metrics scores them."""
    if "score" not in df:
        return None
    if len(set(y.tolist())) > 2:
        return _undefined  # a score is one class's: no metric of more (results/metrics)
    if metric == "roc_auc":
        return _auc_boot(df, y, [])
    if not unit_interval(df["score"]):
        return _undefined  # a logit says no label at 0.5 (results/metrics)
    return _label_boot(y, class_labels(df)[1], metric)  # p >= 0.5


def _label_boot(y: np.ndarray, pred: np.ndarray, metric: str) -> Weights | None:
    n = len(y)
    if metric == "accuracy":
        hits = (y == pred).astype(float)
        return lambda w: w @ hits / n
    if metric in ("balanced_accuracy", "macro_f1"):
        return _per_class(y, pred, metric)
    return None


def _auc_boot(df: pd.DataFrame, y: np.ndarray, probas: list[str]) -> Weights | None:
    """roc_auc of probability columns, each its class's, or of a score column."""
    classes = [c.removeprefix("proba_") for c in probas]
    if (name := lone_proba(probas, y)) is not None:
        return _bin_auc((y == name).astype(float), df[probas[0]].to_numpy(float))
    if len(classes) > 1 and not set(y.tolist()) <= set(classes):
        return _undefined  # a class of the rows with no column: undefined (results/metrics)
    if len(classes) == 2:  # the class sorted last, as the metrics
        last = classes.index(max(classes))
        return _bin_auc((y == classes[last]).astype(float), df[probas[last]].to_numpy(float))
    if len(classes) > 2:
        p = df[probas].to_numpy(float)
        aucs = [_bin_auc((y == c).astype(float), p[:, j]) for j, c in enumerate(classes)]
        return lambda w: np.mean([auc(w) for auc in aucs], axis=0)
    if "score" in df:
        truth = (y == sorted(set(y))[-1]).astype(float)
        return _bin_auc(truth, df["score"].to_numpy(float))
    return None


def _undefined(w: np.ndarray) -> np.ndarray:
    """A metric undefined on the rows: NaN for every resample (no interval)."""
    return np.full(len(w), math.nan)


def _regression_boot(df: pd.DataFrame, metric: str) -> Weights | None:
    y = df["y_true"].to_numpy(float)
    e = df["pred"].to_numpy(float) - y
    n = len(y)
    if metric == "mae":
        return lambda w: w @ np.abs(e) / n
    if metric == "rmse":
        return lambda w: np.sqrt(w @ (e**2) / n)
    if metric == "r2":
        return lambda w: _r2(w, y, e)
    return None


def _r2(w: np.ndarray, y: np.ndarray, e: np.ndarray) -> np.ndarray:
    mean = (w @ y / len(y))[:, None]
    total = (w * (y[None, :] - mean) ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1 - (w @ (e**2)) / total


def _loop_boot(df: pd.DataFrame, task: str, metric: str) -> Weights:
    """Any metric: recomputed per resample (used for the few without a vector form)."""

    def score(counts: np.ndarray) -> np.ndarray:
        out = np.full(len(counts), math.nan)
        for b, row in enumerate(counts):
            sample = df.iloc[np.repeat(np.arange(len(df)), row.astype(np.int64))]
            out[b] = compute_metrics(sample, task).get(metric, math.nan)
        return out

    return score


def _resampled(score: Weights, n: int, n_boot: int, seed: int) -> np.ndarray:
    """`score` of `n_boot` resamples of n rows, drawn and scored a chunk at a time.

    counts[b, i]: how often row i is drawn in resample b (bincount of the draws; far faster
    than rng.multinomial, which loops over the rows). One seeded generator draws the chunks
    in turn, so the values depend on the seed only (one chunk when B x n is small)."""
    rng = np.random.default_rng(seed)
    step = max(1, CHUNK_CELLS // n)
    values = []
    for first in range(0, n_boot, step):
        b = min(step, n_boot - first)
        draws = rng.integers(0, n, size=(b, n)) + np.arange(b)[:, None] * n
        counts = np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(float)
        del draws  # one chunk's draws and counts at a time, never both matrices of all B
        values.append(score(counts))
    return np.concatenate(values) if values else np.array([])


def bootstrap_interval(
    df: pd.DataFrame,
    task: str,
    metric: str,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    loop_cap: int = 200,
) -> tuple[float, float]:
    """Percentile bootstrap interval of a metric of pooled predictions (rows resampled)."""
    n = len(df)
    if n < 2:
        return math.nan, math.nan
    vector: Callable[[pd.DataFrame, str], Weights | None] | None = {
        "classification": _classification_boot,
        "regression": _regression_boot,
    }.get(task)
    score = vector(df, metric) if vector else None
    if score is None:  # slower path: cap the number of resamples
        score, n_boot = _loop_boot(df, task, metric), min(n_boot, loop_cap)
    values = _resampled(score, n, n_boot, seed)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return math.nan, math.nan
    alpha = (1 - confidence) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return float(low), float(high)


# ---- the corrected resampled t-test ------------------------------------------------------


@dataclass(frozen=True)
class TTest:
    mean: float
    std: float
    t: float
    p: float
    n: int


def corrected_ttest(differences: np.ndarray | list[float], test_train_ratio: float) -> TTest:
    """Nadeau & Bengio's corrected resampled t-test on J paired per-fold differences.

    t = mean(d) / sqrt((1/J + n_test/n_train) * var(d)), with J - 1 degrees of freedom;
    two-sided p-value. NaN when J < 2; p = 1 when every difference is 0.
    """
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    n = len(d)
    if n < 2:
        return TTest(float(d.mean()) if n else math.nan, math.nan, math.nan, math.nan, n)
    mean, var = float(d.mean()), float(d.var(ddof=1))
    if np.ptp(d) == 0:  # all differences equal (var may be 1e-34, not 0)
        return TTest(mean, 0.0, math.nan if mean else 0.0, 0.0 if mean else 1.0, n)
    t = mean / math.sqrt((1 / n + test_train_ratio) * var)
    p = float(2 * special.stdtr(n - 1, -abs(t)))  # stats.t.sf(|t|, n - 1), as scipy computes it
    return TTest(mean, math.sqrt(var), t, p, n)


def holm(pvalues: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (NaN stays NaN), in the input's order."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(len(p), math.nan)
    ok = np.flatnonzero(~np.isnan(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    m = len(order)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out.tolist()


def test_train_ratio(folds: pd.DataFrame) -> float | None:
    """Mean n_test / n_train over the split's folds (None without a folds table)."""
    if folds.empty:
        return None
    counts = folds[folds["fold"] >= 0].groupby(["repeat", "fold", "subset"]).size().unstack()
    if "test" not in counts or "train" not in counts:
        return None
    return float((counts["test"] / counts["train"]).mean())
