"""The report's figures of pooled out-of-fold test predictions, as PNG files (matplotlib):
ROC and precision-recall curves, confusion matrices, predicted vs true, score
distributions; and the numbers they show (curve points, confusion counts, score
histograms), which the per-model SVG figures (figures_models.py) show too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from foldrun.report.figure_drawing import cached_file, cell_values, panel_grid, save
from foldrun.results.metrics import as_labels, class_labels, lone_proba, lone_score


def binary_scores(part: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """(truth 0/1, score) of the positive class; multiclass: micro-averaged one-vs-rest."""
    probas = [c for c in part.columns if c.startswith("proba_")]
    y = as_labels(part["y_true"])
    if lone_proba(probas, y) is not None:  # a binary program's one column
        positive, score = lone_score(part, probas[0], y)
        return (y == positive).astype(int), score
    if len(probas) >= 2:
        classes = [c.removeprefix("proba_") for c in probas]
        if not set(y.tolist()) <= set(classes):
            return None  # a class with no probability: no curve, as the metrics give none
        if len(classes) == 2:  # the class sorted last, as the metrics
            last = classes.index(max(classes))
            return (y == classes[last]).astype(int), part[probas[last]].to_numpy(float)
        truth = np.stack([y == c for c in classes], 1).astype(int)
        return truth.ravel(), part[probas].to_numpy(float).ravel()
    if "score" in part and len(set(y.tolist())) <= 2:  # one class's: a binary target's
        return (y == sorted(set(y))[-1]).astype(int), part["score"].to_numpy(float)
    return None


@cached_file
def curves(oof: dict[str, pd.DataFrame], kind: str, path: Path) -> Path | None:
    """ROC (`kind="roc"`) or precision-recall curves of pooled out-of-fold predictions."""

    fig, ax = plt.subplots(figsize=(5.5, 5))
    drawn = sum(_curve(ax, part, kind, label) for label, part in oof.items())
    if not drawn:
        plt.close(fig)
        return None
    _curve_axes(ax, kind)
    return save(fig, path)


def _curve(ax: plt.Axes, part: pd.DataFrame, kind: str, label: str) -> bool:
    """One ROC or PR line of `part`'s pooled predictions; False when it does not apply."""
    scores = curve_scores(part)
    if scores is None:
        return False
    xs, ys, text = curve_line(*scores, kind)
    ax.plot(xs, ys, label=f"{label} ({text})" if label else text)
    return True


def curve_scores(part: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """(truth 0/1, score) of the rows with a label and a finite score (a failed row's NaN
    is left out), or None when they hold fewer than two classes: no curve then."""
    scores = binary_scores(part.dropna(subset=["y_true"])) if "y_true" in part else None
    if scores is None:
        return None
    finite = np.isfinite(scores[1])
    truth, score = scores[0][finite], scores[1][finite]
    return (truth, score) if len(set(truth)) >= 2 else None


def curve_line(truth: np.ndarray, score: np.ndarray, kind: str) -> tuple[object, object, str]:
    """The ROC (`kind="roc"`: false and true positive rates) or precision-recall (recall,
    precision) points, and the score that names them ("AUC 0.912", "AP 0.874")."""
    from sklearn import metrics as skm

    if kind == "roc":
        fpr, tpr, _ = skm.roc_curve(truth, score)
        return fpr, tpr, f"AUC {skm.auc(fpr, tpr):.3f}"
    precision, recall, _ = skm.precision_recall_curve(truth, score)
    return recall, precision, f"AP {skm.average_precision_score(truth, score):.3f}"


def _curve_axes(ax: plt.Axes, kind: str) -> None:
    if kind == "roc":
        ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
        ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, out-of-fold")
    else:
        ax.set(xlabel="recall", ylabel="precision", title="Precision-recall, out-of-fold")
    ax.legend(fontsize=7, loc="lower right" if kind == "roc" else "lower left")


def _predicted_labels(part: pd.DataFrame) -> np.ndarray:
    probas = [c for c in part.columns if c.startswith("proba_")]
    if "pred" in part and (part["pred"].notna().all() or not probas):
        # rows of a model that gave no label (only a score) show as "none", never a crash
        return np.where(part["pred"].notna(), as_labels(part["pred"]), "none")
    if len(probas) == 1 and "y_true" in part:  # a binary program's one column: p >= 0.5
        return class_labels(part.drop(columns="pred", errors="ignore"))[1]
    classes = np.asarray([c.removeprefix("proba_") for c in probas])
    return classes[part[probas].to_numpy(float).argmax(1)]


@cached_file
def confusion(oof: dict[str, pd.DataFrame], path: Path) -> Path | None:
    items = [
        (k, v) for k, v in oof.items() if "pred" in v or any(v.columns.str.startswith("proba_"))
    ]
    return _panel_per_model(items, _confusion, path)


def _panel_per_model(
    items: list[tuple[str, pd.DataFrame]],
    draw: Callable[[plt.Axes, pd.DataFrame, str], None],
    path: Path,
) -> Path | None:
    """One panel per (label, out-of-fold predictions), drawn by `draw`; None without any."""
    if not items:
        return None
    fig, axes = panel_grid(len(items))
    for ax, (label, part) in zip(axes, items, strict=True):
        draw(ax, part, label)
    return save(fig, path)


def _confusion(ax: plt.Axes, part: pd.DataFrame, title: str) -> None:
    labels, counts = confusion_counts(part)
    cell_values(ax, counts, "Blues", "d")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set(xlabel="predicted", ylabel="true", title=title)


def confusion_counts(part: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """The classes (true and predicted, sorted) and the counts, rows true, columns predicted."""
    from sklearn.metrics import confusion_matrix

    y = as_labels(part["y_true"])
    pred = _predicted_labels(part)
    labels = sorted(set(y) | set(pred))
    return labels, confusion_matrix(y, pred, labels=labels)


@cached_file
def predicted_vs_true(oof: dict[str, pd.DataFrame], path: Path) -> Path | None:
    return _panel_per_model(list(oof.items()), _scatter, path)


def _scatter(ax: plt.Axes, part: pd.DataFrame, title: str) -> None:
    y = part["y_true"].to_numpy(float)
    pred = part["pred"].to_numpy(float)
    ax.scatter(y, pred, s=8, alpha=0.5)
    lo, hi = np.nanmin([y.min(), pred.min()]), np.nanmax([y.max(), pred.max()])
    ax.plot([lo, hi], [lo, hi], ls="--", color="grey", lw=1)
    ax.set(xlabel="true", ylabel="predicted", title=title)


@cached_file
def prediction_distribution(oof: dict[str, pd.DataFrame], path: Path) -> Path | None:
    """Score of the positive class (binary) or the top probability, per true class."""
    items = [(k, v) for k, v in oof.items() if binary_scores(v) is not None]
    return _panel_per_model(items, _distribution, path)


def _distribution(ax: plt.Axes, part: pd.DataFrame, title: str) -> None:
    xlabel, hists = score_histograms(part)
    for cls, counts, edges in hists:
        # step outlines: one polygon per class instead of 20 bars (much faster to draw)
        ax.stairs(counts, edges, lw=1.5, label=cls)  # one artist, fast
    ax.set(xlabel=xlabel, ylabel="rows", title=title)
    ax.legend(fontsize=7, loc="upper center")


def score_histograms(part: pd.DataFrame) -> tuple[str, list[tuple[str, np.ndarray, np.ndarray]]]:
    """What the score distribution shows: the positive class's score (binary) or the top
    probability, as 20 bins per true class over [0, 1], or over the scores' own range when
    they leave it (a decision function's margins): (x label, [(class, counts, edges)])."""
    probas = [c for c in part.columns if c.startswith("proba_")]
    if len(probas) > 2:
        score, xlabel = part[probas].to_numpy(float).max(1), "top probability"
    else:
        score, xlabel = binary_scores(part)[1], "score of the positive class"  # type: ignore[index]
    y = as_labels(part["y_true"])
    finite = np.isfinite(score)
    score, y = score[finite], y[finite]
    low, high = (float(score.min()), float(score.max())) if score.size else (0.0, 1.0)
    span = (0.0, 1.0) if low >= 0 and high <= 1 else (low, high if high > low else low + 1)
    return xlabel, [(str(cls), *np.histogram(score[y == cls], bins=20, range=span))
                    for cls in sorted(set(y))]  # fmt: skip
