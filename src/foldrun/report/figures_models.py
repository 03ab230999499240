"""One SVG figure per model (written by svg.py, not matplotlib: a report has one per model):
ROC, PR, confusion and score distribution (classification) or predicted vs true
(regression), then its training curves, train and val overlaid."""

from __future__ import annotations

import numpy as np
import pandas as pd

from foldrun.report import svg
from foldrun.report.figure_drawing import PARTIAL, cached
from foldrun.report.figures_predictions import (
    binary_scores,
    confusion_counts,
    curve_line,
    curve_scores,
    score_histograms,
)
from foldrun.report.figures_training import curve_base, unreadable_note

MAX_CURVE_PANELS = 4


@cached(suffix=".svg")
def model_figure(
    title: str, task: str, oof: pd.DataFrame | None, curves: pd.DataFrame | None,
    unreadable: int = 0,
) -> bytes | None:
    """One SVG figure per model: ROC, PR, confusion and score distribution (classification)
    or predicted vs true (regression), then its training curves (train and val overlaid).
    SVG, not matplotlib: a report has one per model (see svg.py)."""
    panels: list[svg.Panel] = []
    if oof is not None and len(oof):
        panels += _prediction_panels(task, oof)
    if curves is not None and len(curves):
        bases = curves.assign(base=[curve_base(n)[0] for n in curves["name"]])
        for base in sorted(bases["base"].unique())[:MAX_CURVE_PANELS]:
            panels.append(_curves_svg(bases[bases["base"] == base], base))
    if not panels:
        return None
    colour = PARTIAL if "PARTIAL" in title else "black"
    if unreadable:  # counted, never drawn: the figure says so
        title = f"{title} — {unreadable_note(unreadable)}"
    return svg.figure(title, panels, min(len(panels), 4), colour)


def _prediction_panels(task: str, oof: pd.DataFrame) -> list[svg.Panel]:
    panels = []
    scores = curve_scores(oof)
    if task == "classification" and scores is not None:
        panels += [_curve_svg(*scores, "roc"), _curve_svg(*scores, "pr")]
    labelled = "pred" in oof or any(oof.columns.str.startswith("proba_"))
    if task == "classification" and labelled:  # a score alone gives no predicted label
        panels.append(_confusion_svg(oof))
    if task == "classification" and binary_scores(oof) is not None:
        panels.append(_distribution_svg(oof))
    if task == "regression" and "pred" in oof:
        panels.append(_scatter_svg(oof))
    return panels


UNIT = (-0.03, 1.03)  # [0, 1] with room for a line along the edge (as matplotlib's margins)


def _curve_svg(truth: np.ndarray, score: np.ndarray, kind: str) -> svg.Panel:
    """The ROC (with the chance diagonal) or precision-recall panel."""
    xs, ys, text = curve_line(truth, score, kind)
    if kind == "roc":
        panel = svg.Panel("ROC, out-of-fold", "false positive rate", "true positive rate",
                          xlim=UNIT, ylim=UNIT, legend_at="lower right")  # fmt: skip
        panel.line([0, 1], [0, 1], "grey", width=1, dashed=True)
    else:
        panel = svg.Panel("Precision-recall, out-of-fold", "recall", "precision", xlim=UNIT,
                          ylim=UNIT, legend_at="lower left")  # fmt: skip
    panel.line(xs, ys, svg.COLOURS[0])  # type: ignore[arg-type]
    panel.legend.append((text, svg.COLOURS[0]))
    return panel


def _confusion_svg(part: pd.DataFrame) -> svg.Panel:
    labels, counts = confusion_counts(part)
    ticks = [(float(i), str(label)) for i, label in enumerate(labels)]
    # labels wider than their column are turned, and then the axis names share the y axis
    # (turned labels reach down to where the x axis name would be)
    column = (svg.WIDTH - svg.LEFT - svg.RIGHT) / len(ticks)
    turned = max(len(t) for _, t in ticks) * 5.5 > column
    names = ("", "true (rows), predicted (columns)") if turned else ("predicted", "true")
    # at 45 degrees labels closer than their height overlap: upright then
    angle = 0 if not turned else 45 if column * 0.7 >= 10 else 90
    panel = svg.Panel("Confusion, out-of-fold", *names, xticks=ticks, yticks=ticks,
                      rotate_xticks=angle)  # fmt: skip
    panel.cells(counts, "Blues")
    return panel


def _distribution_svg(part: pd.DataFrame) -> svg.Panel:
    """Score of the positive class (binary) or the top probability, per true class."""
    xlabel, hists = score_histograms(part)
    top = max((float(counts.max()) for _, counts, _ in hists), default=1.0) or 1.0
    bins = hists[0][2] if hists else np.array([0.0, 1.0])
    panel = svg.Panel("Scores per true class", xlabel, "rows", ylim=(0.0, top * 1.05),
                      xlim=(float(bins[0]), float(bins[-1])),
                      legend_at="upper center")  # fmt: skip
    for k, (name, counts, edges) in enumerate(hists):
        colour = svg.COLOURS[k % len(svg.COLOURS)]
        panel.steps(edges, counts, colour)
        panel.legend.append((name, colour))
    return panel


def _scatter_svg(part: pd.DataFrame) -> svg.Panel:
    y = part["y_true"].to_numpy(float)
    pred = part["pred"].to_numpy(float)
    lim = svg.limits(np.concatenate([y, pred]))
    panel = svg.Panel("Predicted vs true, out-of-fold", "true", "predicted", xlim=lim, ylim=lim)
    panel.points(y, pred, svg.COLOURS[0])
    panel.line(list(lim), list(lim), "grey", width=1, dashed=True)
    return panel


def _curves_svg(part: pd.DataFrame, base: str) -> svg.Panel:
    """Every fold's curve of each logged name of one base (train_loss, val_loss: loss),
    a colour per name, so train and val are overlaid."""
    steps, values = part["step"].to_numpy(float), part["value"].to_numpy(float)
    panel = svg.Panel(f"{base} (each fold a line)", "step", "", xlim=svg.limits(steps),
                      ylim=svg.limits(values))  # fmt: skip
    for k, (name, rows) in enumerate(part.groupby("name", sort=True)):
        colour = svg.COLOURS[k % len(svg.COLOURS)]
        for _fold, line in rows.groupby("fold", sort=True):
            xs, ys = line["step"].to_numpy(float), line["value"].to_numpy(float)
            if (np.isfinite(xs) & np.isfinite(ys)).sum() == 1:  # one point: no line, a dot
                panel.points(xs, ys, colour)
            panel.line(xs, ys, colour, width=1, opacity=0.7)
        panel.legend.append((str(name), colour))
    return panel
