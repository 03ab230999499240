"""Metrics computed by foldrun itself from a predictions table (the `evaluate` stage).

Predictions follow the contract of the README: `id`, `y_true`, and either `pred`,
`proba_<class>` columns, or `score` (binary). Multilabel targets use `y_true_<label>`
and `proba_<label>` (or `pred_<label>`) columns.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foldrun.core import lazy

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:  # at first use: the query of an unchanged run scores nothing (core/lazy.py)
    np, pd = map(lazy.module, ("numpy", "pandas"))


class _LazyMetrics:
    """sklearn.metrics, imported at its first use: its import (scikit-learn, scipy's
    statistics: seconds) was most of `foldrun query`'s time, and a query scores nothing."""

    def __getattr__(self, name: str) -> Any:
        from sklearn import metrics  # lazy: start-up time of query and status

        return getattr(metrics, name)


skm = _LazyMetrics()

PRIMARY = {"classification": "roc_auc", "regression": "rmse", "multilabel": "macro_f1"}
# what a kind's tasks may have written instead of its default (a program's own metrics)
FALLBACK_PRIMARY = {
    "classification": ["roc_auc", "balanced_accuracy", "accuracy"],
    "regression": ["rmse", "mae", "r2"],
    "multilabel": ["macro_f1", "micro_f1"],
}
GREATER_IS_BETTER = {"mae": False, "rmse": False, "log_loss": False, "brier": False}
# metrics that cannot leave [0, 1] (per class: `precision_<class>`, `recall_<class>`, `f1_<class>`)
UNIT = {
    "accuracy", "balanced_accuracy", "roc_auc", "average_precision", "brier", "macro_f1",
    "micro_f1", "macro_roc_auc", "macro_precision", "macro_recall", "weighted_f1",
}  # fmt: skip
UNIT_PREFIXES = ("precision_", "recall_", "f1_")
CORRELATIONS = {"pearson", "spearman"}  # in [-1, 1]


def primary_among(kind: str, present: Iterable[str]) -> str | None:
    """The metric a run is ranked on when `[report] primary_metric` is not set, among the
    test metrics its tasks wrote: the kind's default, else its fallbacks in order, else the
    first in name order (a label-free run has no default); None when nothing was written.
    The one rule of the report's ranking and the race's."""
    names = set(present)
    candidates = [PRIMARY.get(kind), *FALLBACK_PRIMARY.get(kind, [])]
    return next((m for m in candidates if m in names), min(names, default=None))


def metric_range(metric: str) -> tuple[float, float] | None:
    """The values a built-in metric can take, when bounded (r2, rmse, custom ones: None)."""
    name = metric.rpartition("/")[2]
    if name in UNIT or name.startswith(UNIT_PREFIXES):
        return 0.0, 1.0
    if name in CORRELATIONS:
        return -1.0, 1.0
    return None


def greater_is_better(metric: str, lower: Iterable[str] = ()) -> bool:
    """Built-in metrics know their direction; `lower` names custom ones to minimise
    (`[report] lower_is_better`), with or without their `test/` or `val/` prefix."""
    names = set(lower) | {name.rpartition("/")[2] for name in lower}  # "test/sam" names sam
    if metric in names or metric.rpartition("/")[2] in names:
        return False
    if metric.startswith("external:"):  # `external:<set>/rmse` is rmse on that set
        metric = metric.rpartition("/")[2]
    return GREATER_IS_BETTER.get(metric, True)


def _safe(fn: Callable[[], float]) -> float:
    """A metric undefined on this fold (e.g. one class in y_true) is NaN, not a crash."""
    try:
        value = float(fn())
    except ValueError:
        return math.nan
    return value


def as_labels(values: pd.Series) -> np.ndarray:
    """Class labels as text, the same whatever dtype a file was read with: 1 (int64) and
    1.0 (float64, e.g. a `pred` column combined with a model's NaN) are the class "1";
    text stays as written (`007` stays `007`)."""
    s = pd.Series(values)
    if pd.api.types.is_float_dtype(s.dtype):
        x = s.to_numpy(float)
        whole = np.isfinite(x) & (np.mod(x, 1) == 0) & (np.abs(x) < 2**53)
        out = s.astype(str).to_numpy(dtype=object)
        out[whole] = x[whole].astype(np.int64).astype(str)
        return out
    if s.dtype == object:
        return np.array([_label(v) for v in s], dtype=object)
    if s.dtype.kind in "iub":  # numpy's text of ints and bools, pandas' own: ~0.6 ms less
        return s.to_numpy().astype(str).astype(object)
    return s.astype(str).to_numpy()


def _label(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def proba_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith("proba_")]


def per_class(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Precision, recall and F1 of each class (`precision_<class>`, ...; over the labels of
    y and pred, 0 where undefined as scikit-learn's zero_division=0), their macro means and
    the support-weighted F1."""
    labels = np.union1d(y, pred)
    yt = y[:, None] == labels[None, :]
    yp = pred[:, None] == labels[None, :]
    tp, t, p = (yt & yp).sum(0), yt.sum(0), yp.sum(0)
    precision = np.where(p > 0, tp / np.maximum(p, 1), 0.0)
    recall = np.where(t > 0, tp / np.maximum(t, 1), 0.0)
    f1 = np.where(t + p > 0, 2 * tp / np.maximum(t + p, 1), 0.0)
    out = {}
    for name, values in (("precision", precision), ("recall", recall), ("f1", f1)):
        out.update({f"{name}_{c}": float(v) for c, v in zip(labels, values, strict=True)})
    out["macro_precision"] = float(precision.mean())
    out["macro_recall"] = float(recall.mean())
    out["weighted_f1"] = float((f1 * t).sum() / max(t.sum(), 1))
    return out


def label_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """accuracy, balanced_accuracy and macro_f1 (zero_division=0) of labels as text: the
    values scikit-learn's functions return, by their operations in their order (over the
    sorted labels of y and pred), without their argument checks, which cost ~15 ms a call
    and were most of an evaluate task (issue 26). tests/results/test_metrics.py compares
    them with scikit-learn's for equality on random labels."""
    labels = np.union1d(y, pred)
    yt = y[:, None] == labels[None, :]
    yp = pred[:, None] == labels[None, :]
    tp, t, p = (yt & yp).sum(0), yt.sum(0), yp.sum(0)
    return {
        "accuracy": float(np.mean(y == pred)),
        "balanced_accuracy": float(np.mean(tp[t > 0] / t[t > 0])),  # classes of y only
        "macro_f1": float(np.mean(2.0 * tp / (t + p))),  # t + p > 0: labels of y or pred
    }


def is_per_class(metric: str) -> bool:
    """`precision_<class>`, `recall_<class>`, `f1_<class>`: kept out of the ranking tables."""
    return metric.rpartition("/")[2].startswith(UNIT_PREFIXES)


def class_labels(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(y_true, predicted labels) as text: `pred`, else the most probable `proba_<class>`,
    else `score` >= 0.5 for the positive (sorted last) class of a binary task."""
    y = as_labels(df["y_true"])
    probas = proba_columns(df)
    classes = [c.removeprefix("proba_") for c in probas]
    if "pred" in df:
        pred = as_labels(df["pred"])
    elif len(probas) == 1:  # a binary program's one column: its class where p >= 0.5
        p = df[probas[0]].to_numpy(dtype=float)
        pred = np.where(p >= 0.5, classes[0], _other_class(y, classes[0])).astype(object)
    elif probas:
        pred = np.asarray(classes)[df[probas].to_numpy().argmax(axis=1)]
    else:
        labels = sorted(set(y))
        pred = np.where(df["score"].to_numpy() >= 0.5, labels[-1], labels[0])
    return y, pred


def lone_proba(probas: list[str], y: np.ndarray) -> str | None:
    """The class of a binary target's one `proba_<class>` column when it is the only one (p
    for that class, 1 - p for the other, as scikit-learn reads a 1-d probability)."""
    name = probas[0].removeprefix("proba_") if len(probas) == 1 else None
    return name if name is not None and _binary(y, name) else None


def lone_score(df: pd.DataFrame, column: str, y: np.ndarray) -> tuple[str, np.ndarray]:
    """(positive class, its score) of a binary target's one `proba_<class>` column: the
    class sorted last, as of both columns (`proba_no` alone gave the average precision
    and the curves of `no`), its score p or 1 - p."""
    name = column.removeprefix("proba_")
    positive = max(name, _other_class(y, name))
    score = df[column].to_numpy(dtype=float)
    return positive, score if positive == name else 1 - score


def _many(y: Any) -> bool:
    """Whether labels `y` hold more than two classes (no binary target's)."""
    return len(set(as_labels(pd.Series(y)).tolist())) > 2


def _binary(y: np.ndarray, name: str) -> bool:
    """Whether y holds no label but `name` and at most one other (a binary target)."""
    return len(set(np.asarray(y, dtype=str).tolist()) - {name}) <= 1


def _other_class(y: np.ndarray, name: str) -> str:
    """The class of a binary target that is not `name` (the one `proba_<name>` column):
    y's other label, `not <name>` when the fold holds none."""
    others = sorted(set(np.asarray(y, dtype=str).tolist()) - {name})
    return others[0] if len(others) == 1 else f"not {name}"


# what a binary target's `score` alone is scored on (the per-class keys aside)
_SCORE_KEYS = ("accuracy", "balanced_accuracy", "macro_f1", "macro_precision", "macro_recall",
               "weighted_f1", "roc_auc", "average_precision", "brier")  # fmt: skip


def classification_metrics(df: pd.DataFrame) -> dict[str, float]:
    if "score" in df and "pred" not in df and not proba_columns(df) and _many(df["y_true"]):
        # a `score` is one class's: of a target of more classes it was scored as the last
        # class against the rest and its labels made up at 0.5 (never a middle class)
        return dict.fromkeys(_SCORE_KEYS, math.nan)
    if "score" in df and "pred" not in df and not proba_columns(df) and not unit_interval(
            df["score"]):  # fmt: skip
        # a score that is no probability (a logit, a margin) ranks, but says no label at
        # 0.5: the labels' metrics are undefined without a `pred` column
        y = as_labels(df["y_true"])
        out = {**dict.fromkeys(_SCORE_KEYS, math.nan), **_probability_metrics(df, y, [], [])}
        return {k: float(v) for k, v in out.items()}
    y, pred = class_labels(df)
    probas = proba_columns(df)
    classes = [c.removeprefix("proba_") for c in probas]
    y_text, pred_text = np.asarray(y, dtype=str), np.asarray(pred, dtype=str)
    out = {**label_metrics(y_text, pred_text), **per_class(y_text, pred_text)}
    out.update(_probability_metrics(df, y, probas, classes))
    return {k: float(v) for k, v in out.items()}


def unit_interval(score: Any) -> bool:
    """Whether a score column can be a probability (every value in [0, 1])."""
    x = np.asarray(score, dtype=float)
    return bool(np.all((x >= 0) & (x <= 1)))


def _probability_metrics(
    df: pd.DataFrame, y: np.ndarray, probas: list[str], classes: list[str]
) -> dict[str, float]:
    if len(probas) > 1 and not set(np.asarray(y, dtype=str).tolist()) <= set(classes):
        # a class of the fold with no column has no probability: `proba_a, proba_b` of a
        # target of a, b, c scored as a binary target's gave another problem's numbers
        return {"roc_auc": math.nan, "log_loss": math.nan}
    if probas and len(classes) == 2:  # the class sorted last, whatever the columns' order
        positive = max(classes)
        score = df[probas[classes.index(positive)]].to_numpy(dtype=float)
    elif lone_proba(probas, y) is not None:  # `proba_yes` alone: p and 1 - p, as
        positive, score = lone_score(df, probas[0], y)  # scikit-learn reads a 1-d probability
    elif "score" in df and not probas:
        if _many(y):  # one class's score: no metric of a target of more classes
            return dict.fromkeys(("roc_auc", "average_precision", "brier"), math.nan)
        score = df["score"].to_numpy(dtype=float)
        positive = sorted(set(y))[-1]
    elif probas:  # scikit-learn reads the columns as the sorted classes': sorted here
        order = sorted(range(len(classes)), key=classes.__getitem__)
        p = df[[probas[i] for i in order]].to_numpy(dtype=float)
        classes = [classes[i] for i in order]
        return {
            "roc_auc": _safe(
                lambda: skm.roc_auc_score(y, p, multi_class="ovr", average="macro", labels=classes)
            ),
            "log_loss": _safe(lambda: skm.log_loss(y, p, labels=classes)),
        }
    else:
        return {}
    truth = (y == positive).astype(int)
    out = {
        "roc_auc": _safe(lambda: skm.roc_auc_score(truth, score)),
        "average_precision": _safe(lambda: skm.average_precision_score(truth, score)),
        # of a probability only: a logit clipped to [0, 1] gave a number of nothing
        "brier": _safe(lambda: skm.brier_score_loss(truth, np.clip(score, 0, 1)))
        if probas or unit_interval(score) else math.nan,
    }
    if probas:
        out["log_loss"] = _safe(lambda: skm.log_loss(truth, np.clip(score, 1e-15, 1 - 1e-15)))
    return out


def regression_metrics(df: pd.DataFrame) -> dict[str, float]:
    from scipy import stats

    y = df["y_true"].to_numpy(dtype=float)
    pred = df["pred"].to_numpy(dtype=float)
    out = {
        "mae": skm.mean_absolute_error(y, pred),
        "rmse": math.sqrt(skm.mean_squared_error(y, pred)),
        "r2": _safe(lambda: skm.r2_score(y, pred)),
    }
    constant = np.ptp(y) == 0 or np.ptp(pred) == 0
    out["pearson"] = math.nan if constant else stats.pearsonr(y, pred).statistic
    out["spearman"] = math.nan if constant else stats.spearmanr(y, pred).statistic
    return {k: float(v) for k, v in out.items()}


def multilabel_matrices(df: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(labels, y_true, predictions) as 0/1 matrices: `pred_<label>`, else proba >= 0.5."""
    labels = [c.removeprefix("y_true_") for c in df.columns if c.startswith("y_true_")]
    y = df[[f"y_true_{lab}" for lab in labels]].to_numpy(dtype=int)
    if all(f"pred_{lab}" in df for lab in labels):
        pred = df[[f"pred_{lab}" for lab in labels]].to_numpy(dtype=int)
    else:
        pred = (df[[f"proba_{lab}" for lab in labels]].to_numpy(dtype=float) >= 0.5).astype(int)
    return labels, y, pred


def multilabel_metrics(df: pd.DataFrame) -> dict[str, float]:
    labels, y, pred = multilabel_matrices(df)
    out = {
        "micro_f1": skm.f1_score(y, pred, average="micro", zero_division=0),
        "macro_f1": skm.f1_score(y, pred, average="macro", zero_division=0),
    }
    if all(f"proba_{lab}" in df for lab in labels):
        p = df[[f"proba_{lab}" for lab in labels]].to_numpy(dtype=float)
        out["macro_roc_auc"] = _safe(lambda: skm.roc_auc_score(y, p, average="macro"))
    return {k: float(v) for k, v in out.items()}


def compute_metrics(
    predictions: pd.DataFrame,
    task: str,
    scorers: Mapping[str, str] | None = None,
    spec_path: str | Path | None = None,
) -> dict[str, float]:
    """All of foldrun's metrics for one set of predictions of a task kind, and the user's
    `[report] scorers` (name -> "module:function"; modules beside `spec_path` import)."""
    if len(predictions) == 0:
        return {}
    compute = {
        "classification": classification_metrics,
        "regression": regression_metrics,
        "multilabel": multilabel_metrics,
    }.get(task)
    if compute is None:
        return {}  # label-free: no truth to score against
    with warnings.catch_warnings():
        # one class in a fold's test part or an external set: the metric is NaN, and the
        # report says so; scikit-learn's warnings about it, per fold and metric, were a
        # flood of lines on every report and run (UndefinedMetricWarning is a UserWarning)
        warnings.simplefilter("ignore", UserWarning)
        out = compute(predictions)
    base = Path(spec_path).resolve().parent if spec_path else None
    for name, ref in (scorers or {}).items():
        out[name] = user_score(predictions, task, name, ref, base)
    return out


def scorer_inputs(df: pd.DataFrame, task: str) -> tuple[np.ndarray, np.ndarray]:
    """What a user scorer gets: labels as text (classification), numbers (regression),
    0/1 matrices (multilabel)."""
    if task == "classification":
        return class_labels(df)
    if task == "multilabel":
        return multilabel_matrices(df)[1:]
    return df["y_true"].to_numpy(dtype=float), df["pred"].to_numpy(dtype=float)


def user_score(df: pd.DataFrame, task: str, name: str, ref: str, base: Path | None) -> float:
    """`ref`(y_true, predictions) as a float; NaN when the scorer raises ValueError
    (undefined on this fold, as for the built-in metrics)."""
    from foldrun.spec.report import load_scorer  # lazy: pydantic, only with [report] scorers

    where = f"[report] scorers.{name} = {ref!r}"
    try:
        scorer = load_scorer(ref, base)
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from err
    try:
        value = scorer(*scorer_inputs(df, task))
    except ValueError:
        return math.nan
    except Exception as err:
        err.add_note(f"raised by {where}")
        raise
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{where} returned {type(value).__name__}, not a number")
    return float(value)
