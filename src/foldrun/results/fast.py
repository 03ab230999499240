"""numpy versions of the evaluate-stage metrics, for pooled out-of-fold metrics of many
groups at once (scikit-learn's input validation costs ~50 ms per group; these cost ~1 ms).

`fast_metrics(df, task)` returns exactly the keys and (to float rounding) the values of
`metrics.compute_metrics`; the tests check them against each other. Anything unusual
(multilabel, labels missing from the probability columns, NaN) goes to compute_metrics.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from foldrun.core import lazy
from foldrun.results.metrics import as_labels, compute_metrics, per_class, proba_columns

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:  # at first use: the query of an unchanged run scores nothing (core/lazy.py)
    np, pd = map(lazy.module, ("numpy", "pandas"))


def rankdata(values: np.ndarray) -> np.ndarray:
    """Average ranks from 1, ties sharing their mean rank: scipy.stats.rankdata's own
    algorithm (its import, ~1 s, was most of `foldrun query`'s start-up)."""
    values = np.asarray(values)
    order = np.argsort(values, kind="mergesort")
    inverse = np.empty(order.size, dtype=np.intp)
    inverse[order] = np.arange(order.size, dtype=np.intp)
    ordered = values[order]
    first = np.r_[True, ordered[1:] != ordered[:-1]]
    dense = first.cumsum()[inverse]
    bounds = np.r_[np.flatnonzero(first), len(first)]
    return 0.5 * (bounds[dense] + bounds[dense - 1] + 1)


def binary_auc(truth: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC from average ranks (Mann-Whitney U); ties count one half."""
    n_pos = int(truth.sum())
    n_neg = len(truth) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = rankdata(score)
    return float((ranks[truth == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(truth: np.ndarray, score: np.ndarray) -> float:
    """scikit-learn's step-wise AP: sum over thresholds of (R_n - R_{n-1}) P_n."""
    if truth.sum() == 0:
        return math.nan
    order = np.argsort(-score, kind="mergesort")
    s, t = score[order], truth[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last index of each distinct score
    tps = np.cumsum(t)[last]
    precision = tps / (last + 1)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _labels(df: pd.DataFrame, y: np.ndarray) -> tuple[np.ndarray, list[str], list[str]]:
    probas = proba_columns(df)
    classes = [c.removeprefix("proba_") for c in probas]
    if "pred" in df:
        pred = as_labels(df["pred"])
    else:
        pred = np.asarray(classes)[df[probas].to_numpy(float).argmax(axis=1)]
    return pred, probas, classes


def _label_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    labels = np.union1d(y, pred)
    yt = y[:, None] == labels[None, :]
    yp = pred[:, None] == labels[None, :]
    tp, t, p = (yt & yp).sum(0), yt.sum(0), yp.sum(0)
    recall = tp[t > 0] / t[t > 0]
    return {
        "accuracy": float(np.mean(y == pred)),
        "balanced_accuracy": float(recall.mean()),
        "macro_f1": float(np.mean(np.where(t + p > 0, 2 * tp / np.maximum(t + p, 1), 0.0))),
        **per_class(y, pred),
    }


def classification(df: pd.DataFrame) -> dict[str, float] | None:
    y = as_labels(df["y_true"])
    pred, probas, classes = _labels(df, y)
    if not probas:
        return None  # score-only: the slow, general path
    return classification_arrays(y, df[probas].to_numpy(float), pred, classes)


def classification_arrays(
    y: np.ndarray, p: np.ndarray, pred: np.ndarray | None, classes: list[str]
) -> dict[str, float] | None:
    """Labels `y` (str), probabilities `p` (n x classes), labels `pred` (None: argmax)."""
    if not set(y) <= set(classes):
        return None  # unknown labels: the slow, general path
    if (p < 0).any() or (p > 1).any():
        return None  # not probabilities: scikit-learn decides what is defined
    if pred is None:
        pred = np.asarray(classes)[p.argmax(axis=1)]
    out = _label_metrics(y, pred)
    if len(classes) == 2:  # the class sorted last is positive (results/metrics' rule)
        last = classes.index(max(classes))
        truth = (y == classes[last]).astype(int)
        if truth.min() == truth.max():
            return None  # one class only: let scikit-learn say NaN
        score = p[:, last]
        clipped = np.clip(score, 1e-15, 1 - 1e-15)
        out["roc_auc"] = binary_auc(truth, score)
        out["average_precision"] = average_precision(truth, score)
        out["brier"] = float(np.mean((truth - np.clip(score, 0, 1)) ** 2))
        out["log_loss"] = float(
            -np.mean(truth * np.log(clipped) + (1 - truth) * np.log1p(-clipped))
        )
        return out
    index = np.searchsorted(np.asarray(classes), y) if classes == sorted(classes) else None
    if index is None:
        return None
    aucs = [binary_auc((y == c).astype(int), p[:, j]) for j, c in enumerate(classes)]
    sums_to_one = np.allclose(1, p.sum(axis=1))  # scikit-learn refuses otherwise
    out["roc_auc"] = float(np.mean(aucs)) if sums_to_one else math.nan
    q = p / p.sum(axis=1, keepdims=True)
    eps = np.finfo(q.dtype).eps
    q = np.clip(q, eps, 1 - eps)
    out["log_loss"] = float(-np.mean(np.log(q[np.arange(len(y)), index])))
    return out


def score_only(df: pd.DataFrame) -> dict[str, float] | None:
    """A positive-class `score` without probabilities (a command model's own column, e.g.
    seed 002's `prob`): compute_metrics' keys in numpy (scikit-learn's validation cost
    ~50 ms per group, most of a report of many such variants). None: the general path."""
    if "pred" in df and df["pred"].isna().any():
        return None
    pred = as_labels(df["pred"]) if "pred" in df else None
    return score_arrays(as_labels(df["y_true"]), df["score"].to_numpy(float), pred)


def score_arrays(y: np.ndarray, score: np.ndarray, pred: np.ndarray | None) -> dict | None:
    """`score_only` on arrays: labels `y`, the positive class's `score`, labels `pred`
    (None: the score labelled at 0.5, as metrics.class_labels)."""
    y = np.asarray(y, dtype=str)
    labels = sorted(set(y))
    if np.isnan(score).any() or len(labels) != 2 or (score < 0).any() or (score > 1).any():
        return None  # gaps, one class only or more than two, no probability: the general path
    if pred is None:
        pred = np.where(score >= 0.5, labels[-1], labels[0])
    pred = np.asarray(pred, dtype=str)
    truth = (y == labels[-1]).astype(int)
    return {**_label_metrics(y, pred), "roc_auc": binary_auc(truth, score),
            "average_precision": average_precision(truth, score),
            "brier": float(np.mean((truth - np.clip(score, 0, 1)) ** 2))}  # fmt: skip


def regression(df: pd.DataFrame) -> dict[str, float]:
    return regression_arrays(df["y_true"].to_numpy(float), df["pred"].to_numpy(float))


def regression_arrays(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    e = pred - y
    total = np.sum((y - y.mean()) ** 2)
    constant = np.ptp(y) == 0 or np.ptp(pred) == 0
    return {
        "mae": float(np.mean(np.abs(e))),
        "rmse": float(math.sqrt(np.mean(e**2))),
        "r2": _r2(e, total, len(y)),
        "pearson": math.nan if constant else float(np.corrcoef(y, pred)[0, 1]),
        "spearman": math.nan
        if constant
        else float(np.corrcoef(rankdata(y), rankdata(pred))[0, 1]),
    }


def _r2(e: np.ndarray, total: float, n: int) -> float:
    if n < 2:
        return math.nan
    if total == 0:  # scikit-learn's force_finite: perfect -> 1, else 0
        return 1.0 if np.sum(e**2) == 0 else 0.0
    return float(1 - np.sum(e**2) / total)


def fast_metrics(df: pd.DataFrame, task: str) -> dict[str, float]:
    """compute_metrics(df, task), faster for the common cases."""
    if len(df) == 0:
        return {}
    try:
        if task == "classification" and "y_true" in df and df["y_true"].notna().all():
            probas = proba_columns(df)
            if not probas and "score" in df:
                return score_only(df) or compute_metrics(df, task)
            if not probas or df[probas].isna().to_numpy().any():
                return compute_metrics(df, task)
            out = classification(df)
            if out is not None:
                return out
        elif task == "regression" and df[["y_true", "pred"]].notna().all().all():
            return regression(df)
    except (KeyError, ValueError, TypeError):
        pass
    return compute_metrics(df, task)
