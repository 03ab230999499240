"""Tick layout of the report's figures: parameter values in numeric order and as short
labels, at most MAX_TICKS labels an axis, and no tick made outside an axis's view."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.ticker as mticker
import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class _InView(mticker.Locator):
    """An automatic locator's ticks less those outside the axis's view: matplotlib makes a
    tick (two lines, a grid line, two texts) for each one and never draws those outside,
    a quarter of the ticks of an axis. What is drawn is the same."""

    def __init__(self, inner: mticker.Locator) -> None:
        self.inner = inner

    def set_axis(self, axis: object) -> None:
        super().set_axis(axis)  # type: ignore[arg-type]
        self.inner.set_axis(axis)  # type: ignore[arg-type]

    def __call__(self) -> Sequence[float]:
        low, high = sorted(self.axis.get_view_interval())  # type: ignore[union-attr]
        slack = (high - low) * 1e-6  # matplotlib decides on the edges
        return [v for v in self.inner() if low - slack <= v <= high + slack]

    def tick_values(self, vmin: float, vmax: float) -> Sequence[float]:
        return self.inner.tick_values(vmin, vmax)


def lean_ticks(fig: Figure) -> None:
    """Every automatic axis of `fig` makes ticks only inside its view (see _InView)."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            locator = axis.get_major_locator()
            if type(locator) is mticker.AutoLocator:
                axis.set_major_locator(_InView(locator))


def ordered(values: object) -> list[object]:
    """Distinct values in numeric order when every one is a number (8 before 32), else
    in text order."""
    distinct = list(dict.fromkeys(values))  # type: ignore[call-overload]
    try:
        return sorted(distinct, key=lambda v: float(v))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return sorted(distinct, key=str)


def tick(value: object) -> str:
    """A parameter value as a tick label: 1.0 -> "1", 0.001 -> "0.001", 1e-05 -> "1e-05"."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


MAX_TICKS = 30  # tick labels a 5.5-inch axis can show (10,000 were 61% of a report's time)


def thinned(n: int, most: int = MAX_TICKS) -> np.ndarray:
    """Which of n evenly spread positions get a tick label: all when n <= most, else `most`
    of them, always the first and the last."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, most).round().astype(int))
