"""The report's hyperparameter figures: the mean and interval over one parameter's values
(PNG), a model's 2-parameter grid (SVG, written by svg.py) and the heatmaps of every
model's 2-parameter grid (heatmap_grid.png); a partial grid point boxed in red."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from foldrun.report import svg
from foldrun.report.figure_drawing import (
    PARTIAL,
    cached,
    cached_file,
    cell_values,
    panel_grid,
    png,
    save,
)
from foldrun.report.figure_ticks import ordered, thinned, tick


@cached_file
def grid_heatmaps(grids: list[tuple[str, str, str, pd.DataFrame]], primary: str, path: Path):
    """Mean test score over each model's 2-parameter grid; `grids` holds (model, x, y,
    frame with columns x, y, mean), one panel per model."""
    if not grids:
        return None
    fig, axes = panel_grid(len(grids), size=4.2)
    for ax, (model, x, y, means) in zip(axes, grids, strict=True):
        _heatmap(ax, means, x, y, f"{model}: mean test {primary}")
    return save(fig, path)


def _heatmap(ax: plt.Axes, means: pd.DataFrame, x: str, y: str, title: str) -> None:
    """Mean score over a 2-parameter grid; both axes in numeric order when numeric."""
    table = means.pivot_table(index=y, columns=x, values="mean", aggfunc="mean")
    table = table.reindex(index=ordered(table.index), columns=ordered(table.columns))
    cell_values(ax, table.to_numpy(float), "viridis")
    ax.set_xticks(range(table.shape[1]), [tick(c) for c in table.columns])
    ax.set_yticks(range(table.shape[0]), [tick(c) for c in table.index])
    partial = _partial(means)
    cols, rows = list(table.columns), list(table.index)
    for px, py in zip(means.loc[partial, x], means.loc[partial, y], strict=True):
        j, i = cols.index(px), rows.index(py)
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec=PARTIAL, lw=2.5))
    ax.set(xlabel=x, ylabel=y)
    ax.set_title(title + _partial_note(partial), fontsize=10)


@cached
def grid_1d(model: str, x: str, means: pd.DataFrame, primary: str) -> bytes:
    """Mean and interval per value of one parameter; a log axis when the values span
    more than two decades."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    order = ordered(means[x])
    rows = means.set_index(x).loc[order]
    shown = thinned(len(order))
    try:
        xs = np.asarray(order, dtype=float)
    except (TypeError, ValueError):
        xs = np.arange(len(order), dtype=float)
        ax.set_xticks(xs[shown], [str(order[i]) for i in shown])
    else:
        positive = (xs > 0).all()
        if positive and xs.max() / xs.min() > 100:
            ax.set_xscale("log")
        ax.set_xticks(xs[shown], [tick(order[i]) for i in shown])
        ax.minorticks_off()
    mean = rows["mean"].to_numpy(float)
    err = [np.nan_to_num(mean - rows["ci_low"].to_numpy(float)),
           np.nan_to_num(rows["ci_high"].to_numpy(float) - mean)]  # fmt: skip
    ax.errorbar(xs, mean, yerr=err, fmt="o-", capsize=3)
    partial = _partial(rows)
    if partial.any():
        ax.scatter(xs[partial], mean[partial], s=90, marker="s", facecolors="none",
                   edgecolors=PARTIAL, lw=2, zorder=3)  # fmt: skip
    title = f"{model}: mean and interval over folds"
    ax.set(xlabel=x, ylabel=f"test {primary}")
    ax.set_title(title + _partial_note(partial), fontsize=10)
    return png(fig)


def _partial(rows: pd.DataFrame) -> np.ndarray:
    """Which grid points are partial variants (fewer folds than planned)."""
    if "partial" not in rows:
        return np.zeros(len(rows), dtype=bool)
    return rows["partial"].fillna(False).to_numpy(bool)


def _partial_note(partial: np.ndarray) -> str:
    return "\n(red box: PARTIAL, fewer folds than planned)" if partial.any() else ""


@cached(suffix=".svg")
def grid_2d(model: str, x: str, y: str, means: pd.DataFrame, primary: str) -> bytes:
    """Mean test score over a 2-parameter grid, both axes in numeric order when numeric;
    a partial grid point boxed in red. SVG: a report has one per model with a grid."""
    # dropna=False: a row or column of grid points without a score stays (empty cells)
    table = means.pivot_table(index=y, columns=x, values="mean", aggfunc="mean", dropna=False)
    table = table.reindex(index=ordered(table.index), columns=ordered(table.columns))
    partial = _partial(means)
    xticks = [(float(j), tick(c)) for j, c in enumerate(table.columns)]
    yticks = [(float(i), tick(r)) for i, r in enumerate(table.index)]
    title = f"{model}: mean test {primary}" + _partial_note(partial)
    panel = svg.Panel(title, x, y, xticks=xticks, yticks=yticks)
    panel.cells(table.to_numpy(float), "viridis", ".3f")
    cols, rows = list(table.columns), list(table.index)
    for px, py in zip(means.loc[partial, x], means.loc[partial, y], strict=True):
        if px in cols and py in rows:  # a NaN parameter value has no cell
            panel.outline(cols.index(px), rows.index(py), PARTIAL)
    return svg.figure("", [panel], 1)
