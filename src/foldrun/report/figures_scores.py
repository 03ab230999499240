"""The report's figures of the scores: every fold's score per selected variant
(metric_per_fold.png, matplotlib), every variant's mean and interval (the forest plot) and
the p-values between models (SVG, written by svg.py)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from foldrun.report import svg
from foldrun.report.figure_drawing import PARTIAL, cached, cached_file, save


def _label(model: str, variant: str) -> str:
    return model if variant == "default" else f"{model}/{variant}"


@cached_file
def metric_per_fold(
    metrics: pd.DataFrame,
    ranking: pd.DataFrame,
    primary: str,
    path: Path,
    labels: dict[tuple[str, str], str] | None = None,
) -> Path | None:
    """Every fold's test score per selected variant (points) with mean ± CI (bar).
    `labels`: each variant's label, a partial one saying so (report.models.plot_labels)."""
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
    # the interval drawn as it is, as in the forest plot: a logit-scale interval near a
    # bound can lie beside its mean, which errorbar refuses (negative error)
    x = np.arange(len(ranking)) + 0.25
    low, high = ranking["ci_low"].to_numpy(float), ranking["ci_high"].to_numpy(float)
    ax.vlines(x, low, high, color="black", lw=1)
    ax.plot(np.r_[x, x], np.r_[low, high], "_", color="black", ms=8)
    ax.plot(x, mean, "o", color="black")
    # a partial variant (fewer folds than planned) says so, in red; without `labels`, one
    # with fewer folds than the most any has
    n = ranking["n"].to_numpy() if "n" in ranking else np.zeros(len(ranking))
    full = n.max() if len(n) else 0
    keys = list(zip(ranking.model, ranking.variant, strict=True))
    if labels is None:
        labels = {(m, v): _label(m, v) + (f" (PARTIAL {k}/{full})" if k < full else "")
                  for (m, v), k in zip(keys, n, strict=True)}  # fmt: skip
    texts = [labels.get(key, _label(*key)) for key in keys]
    ax.set_xticks(range(len(ranking)))
    ax.set_xticklabels(texts, rotation=30, ha="right")
    for tick, text in zip(ax.get_xticklabels(), texts, strict=True):
        tick.set_color(PARTIAL if "(PARTIAL" in text else "black")
    ax.set_ylabel(f"test {primary}")
    ax.set_title(f"{primary} per fold (points) and mean ± 95% CI")
    return save(fig, path)


@cached(suffix=".svg")
def forest(rows: pd.DataFrame, primary: str, conf: int) -> bytes | None:
    """Every variant's mean and interval on the primary metric, best at the top. `rows`:
    label, mean, ci_low, ci_high, selected (bool), partial (bool), folds ("4/5").

    The interval is drawn as it is, not as errors around the mean: a logit-scale interval
    of scores near a bound can lie wholly below (or above) their arithmetic mean. SVG
    written directly: with hundreds of variants matplotlib took a second."""
    if rows.empty:
        return None
    lines = []
    for r in rows.itertuples():
        colour = PARTIAL if r.partial else "#3465a4" if r.selected else "#8a8a8a"
        label = f"{r.label}  ({r.folds} folds)" if r.partial else str(r.label)
        lines.append((label, float(r.mean), float(r.ci_low), float(r.ci_high), colour,
                      bool(r.selected)))  # fmt: skip
    title = "Every variant (bold: the model's selected variant; red: partial)"
    return svg.forest(lines, title, f"test {primary}: mean over folds and {conf}% interval")


@cached(suffix=".svg")
def pvalue_matrix(labels: list[str], p: np.ndarray, alpha: float) -> bytes | None:
    """Holm-corrected p-values between models (rank order); blue cells are significant."""
    if len(labels) < 2:
        return None
    return svg.pvalue_matrix(labels, p, alpha, f"Holm-corrected p-values (blue: p < {alpha})")
