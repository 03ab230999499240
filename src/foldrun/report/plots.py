"""The report's PNG plots (matplotlib, Agg backend). Each function writes one file or returns
None when the plot does not apply to this run (e.g. ROC curves for a regression)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display, ever
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

MAX_PANELS = 8  # per-model plots show at most this many models (the best ranked)
DPI = 90


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _label(model: str, variant: str) -> str:
    return model if variant == "default" else f"{model}/{variant}"


def _grid(n: int, size: float = 3.2) -> tuple[plt.Figure, list[plt.Axes]]:
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def metric_per_fold(
    metrics: pd.DataFrame, ranking: pd.DataFrame, primary: str, path: Path
) -> Path | None:
    """Every fold's test score per selected variant (points) with mean ± CI (bar)."""
    if ranking.empty:
        return None
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(ranking) + 2), 4))
    rng = np.random.default_rng(0)
    rows = metrics[
        (metrics["metric"] == primary) & (metrics["subset"] == "test") & (metrics["fold"] >= 0)
    ]
    by_variant = rows.groupby(["model", "variant"])["value"]
    xs, ys = [], []
    for x, key in enumerate(zip(ranking["model"], ranking["variant"], strict=True)):
        values = by_variant.get_group(key).to_numpy(float) if key in by_variant.groups else []
        xs.extend(x + rng.uniform(-0.12, 0.12, len(values)))
        ys.extend(values)
    # one scatter and one errorbar call for every model: per-model calls cost ~50 ms each
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ax.scatter(xs, ys, s=14, alpha=0.6, c=[colors[round(x) % len(colors)] for x in xs])
    mean = ranking["mean"].to_numpy(float)
    low = np.nan_to_num(mean - ranking["ci_low"].to_numpy(float))
    high = np.nan_to_num(ranking["ci_high"].to_numpy(float) - mean)
    ax.errorbar(np.arange(len(ranking)) + 0.25, mean, yerr=[low, high], fmt="o", color="black",
                capsize=4)  # fmt: skip
    ax.set_xticks(range(len(ranking)))
    ax.set_xticklabels([_label(m, v) for m, v in zip(ranking.model, ranking.variant, strict=True)],
                       rotation=30, ha="right")  # fmt: skip
    ax.set_ylabel(f"test {primary}")
    ax.set_title(f"{primary} per fold (points) and mean ± 95% CI")
    return _save(fig, path)


def _binary_scores(part: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """(truth 0/1, score) of the positive class; multiclass: micro-averaged one-vs-rest."""
    probas = [c for c in part.columns if c.startswith("proba_")]
    y = part["y_true"].astype(str).to_numpy()
    if len(probas) >= 2:
        classes = [c.removeprefix("proba_") for c in probas]
        if len(classes) == 2:
            return (y == classes[1]).astype(int), part[probas[1]].to_numpy(float)
        truth = np.stack([y == c for c in classes], 1).astype(int)
        return truth.ravel(), part[probas].to_numpy(float).ravel()
    if "score" in part:
        return (y == sorted(set(y))[-1]).astype(int), part["score"].to_numpy(float)
    return None


def curves(oof: dict[str, pd.DataFrame], kind: str, path: Path) -> Path | None:
    """ROC (`kind="roc"`) or precision-recall curves of pooled out-of-fold predictions."""
    from sklearn import metrics as skm

    fig, ax = plt.subplots(figsize=(5.5, 5))
    drawn = 0
    for label, part in oof.items():
        scores = _binary_scores(part.dropna(subset=["y_true"]))
        if scores is None or len(set(scores[0])) < 2:
            continue
        truth, score = scores
        if kind == "roc":
            fpr, tpr, _ = skm.roc_curve(truth, score)
            ax.plot(fpr, tpr, label=f"{label} (AUC {skm.auc(fpr, tpr):.3f})")
        else:
            prec, rec, _ = skm.precision_recall_curve(truth, score)
            ap = skm.average_precision_score(truth, score)
            ax.plot(rec, prec, label=f"{label} (AP {ap:.3f})")
        drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    if kind == "roc":
        ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
        ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, out-of-fold")
    else:
        ax.set(xlabel="recall", ylabel="precision", title="Precision-recall, out-of-fold")
    ax.legend(fontsize=7, loc="lower right" if kind == "roc" else "lower left")
    return _save(fig, path)


def _predicted_labels(part: pd.DataFrame) -> np.ndarray:
    probas = [c for c in part.columns if c.startswith("proba_")]
    if "pred" in part and part["pred"].notna().all():
        return part["pred"].astype(str).to_numpy()
    classes = np.asarray([c.removeprefix("proba_") for c in probas])
    return classes[part[probas].to_numpy(float).argmax(1)]


def confusion(oof: dict[str, pd.DataFrame], path: Path) -> Path | None:
    from sklearn.metrics import confusion_matrix

    items = [
        (k, v) for k, v in oof.items() if "pred" in v or any(v.columns.str.startswith("proba_"))
    ]
    if not items:
        return None
    fig, axes = _grid(len(items))
    for ax, (label, part) in zip(axes, items, strict=True):
        y = part["y_true"].astype(str).to_numpy()
        pred = _predicted_labels(part)
        labels = sorted(set(y) | set(pred))
        cm = confusion_matrix(y, pred, labels=labels)
        ax.imshow(cm, cmap="Blues")
        for (i, j), v in np.ndenumerate(cm):
            color = "white" if v > cm.max() / 2 else "black"
            ax.text(j, i, str(v), ha="center", va="center", fontsize=8, color=color)
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set(xlabel="predicted", ylabel="true", title=label)
    return _save(fig, path)


def predicted_vs_true(oof: dict[str, pd.DataFrame], path: Path) -> Path | None:
    fig, axes = _grid(len(oof))
    for ax, (label, part) in zip(axes, oof.items(), strict=True):
        y = part["y_true"].to_numpy(float)
        pred = part["pred"].to_numpy(float)
        ax.scatter(y, pred, s=8, alpha=0.5)
        lo, hi = np.nanmin([y.min(), pred.min()]), np.nanmax([y.max(), pred.max()])
        ax.plot([lo, hi], [lo, hi], ls="--", color="grey", lw=1)
        ax.set(xlabel="true", ylabel="predicted", title=label)
    return _save(fig, path)


def prediction_distribution(oof: dict[str, pd.DataFrame], path: Path) -> Path | None:
    """Score of the positive class (binary) or the top probability, per true class."""
    items = [(k, v) for k, v in oof.items() if _binary_scores(v) is not None]
    if not items:
        return None
    fig, axes = _grid(len(items))
    for ax, (label, part) in zip(axes, items, strict=True):
        probas = [c for c in part.columns if c.startswith("proba_")]
        if len(probas) > 2:
            score, xlabel = part[probas].to_numpy(float).max(1), "top probability"
        else:
            score, xlabel = _binary_scores(part)[1], "score of the positive class"  # type: ignore[index]
        y = part["y_true"].astype(str).to_numpy()
        for cls in sorted(set(y)):
            # step outlines: one polygon per class instead of 20 bars (much faster to draw)
            counts, edges = np.histogram(score[y == cls], bins=20, range=(0, 1))
            ax.stairs(counts, edges, lw=1.5, label=str(cls))  # one artist, fast
        ax.set(xlabel=xlabel, ylabel="rows", title=label)
        ax.legend(fontsize=7)
    return _save(fig, path)


def training_curves(task_paths: dict[str, list[Path]], path: Path) -> Path | None:
    """metrics.jsonl of the selected variants' tasks: one panel per logged name."""
    rows = []
    for label, paths in task_paths.items():
        for fold, folder in enumerate(paths):
            rows.extend(_read_jsonl(folder / "metrics.jsonl", label, fold))
    if not rows:
        return None
    df = pd.DataFrame(rows)
    names = sorted(df["name"].unique())[:MAX_PANELS]
    fig, axes = _grid(len(names), size=3.6)
    colors = dict(zip(task_paths, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 10,
                      strict=False))  # fmt: skip
    for ax, name in zip(axes, names, strict=True):
        for (label, fold), part in df[df["name"] == name].groupby(["label", "fold"]):
            ax.plot(part["step"], part["value"], color=colors[label], alpha=0.6, lw=1,
                    label=label if fold == part["fold"].min() else None)  # fmt: skip
        ax.set(xlabel="step", title=name)
    handles = {h.get_label(): h for ax in axes for h in ax.get_lines() if h.get_label()[:1] != "_"}
    if handles:
        axes[0].legend(handles.values(), handles.keys(), fontsize=7)
    return _save(fig, path)


def _read_jsonl(path: Path, label: str, fold: int) -> list[dict[str, object]]:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    out = []
    for i, line in enumerate(lines):
        try:
            rec = json.loads(line)
            value = float(rec["value"])
        except (ValueError, KeyError, TypeError):
            continue  # a half-written last line of a killed task
        step = rec.get("step")
        out.append({"label": label, "fold": fold, "name": str(rec.get("name")), "value": value,
                    "step": step if isinstance(step, int | float) else i})  # fmt: skip
    return out


def grid_heatmaps(grids: list[tuple[str, str, str, pd.DataFrame]], primary: str, path: Path):
    """Mean test score over each model's 2-parameter grid; `grids` holds (model, x, y,
    frame with columns x, y, mean), one panel per model."""
    if not grids:
        return None
    fig, axes = _grid(len(grids), size=4.2)
    for ax, (model, x, y, means) in zip(axes, grids, strict=True):
        table = means.pivot_table(index=y, columns=x, values="mean", aggfunc="mean")
        values = table.to_numpy(float)
        ax.imshow(values, cmap="viridis", aspect="auto")  # values are written in the cells
        for (i, j), v in np.ndenumerate(values):
            ax.text(j, i, f"{v:.3f}", ha="center", va="center", color="white", fontsize=8)
        ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
        ax.set_yticks(range(table.shape[0]), [str(c) for c in table.index])
        ax.set(xlabel=x, ylabel=y, title=f"{model}: mean test {primary}")
    return _save(fig, path)
