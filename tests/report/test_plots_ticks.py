"""grid_1d thins its tick labels (issue 26 item 2): one label per grid value put 10,000
labels in a 5.5-inch figure, 61% of the report's profile at 50k tasks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from foldrun.report import figures_grids
from foldrun.report.figure_ticks import tick


def _labels(monkeypatch: pytest.MonkeyPatch, values: list[object]) -> list[str]:
    drawn = []
    # grid_1d calls the name figures_grids imported
    monkeypatch.setattr(figures_grids, "png", lambda fig, tight=True: drawn.append(fig) or b"png")
    n = len(values)
    means = pd.DataFrame({"C": values, "mean": np.linspace(0.5, 0.9, n), "ci_low": 0.4,
                          "ci_high": 0.95})  # fmt: skip
    assert figures_grids.grid_1d("logreg", "C", means, "auc") == b"png"
    return [t.get_text() for t in drawn[0].axes[0].get_xticklabels()]


@pytest.mark.parametrize("values", [
    [round(0.001 * (i + 1), 3) for i in range(2000)],  # numeric, a log axis
    [f"v{i:04d}" for i in range(2000)],  # text
])  # fmt: skip
def test_a_grid_of_2000_values_gets_at_most_30_labels_first_and_last_among_them(
    monkeypatch: pytest.MonkeyPatch, values: list[object]
) -> None:
    labels = _labels(monkeypatch, values)
    assert 2 <= len(labels) <= 30
    assert labels[0] == tick(values[0]) and labels[-1] == tick(values[-1])


def test_a_small_grid_labels_every_value(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _labels(monkeypatch, [0.1, 1.0, 10.0, 100.0]) == ["0.1", "1", "10", "100"]
