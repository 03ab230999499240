"""Models compared across datasets (Demšar 2006): one score per model and dataset, ranks per
dataset, the Friedman test over the ranks and the Nemenyi critical difference.

scipy gives the Friedman statistic and the studentized range; the rank table, the critical
difference and the groups of models it cannot tell apart are a few lines written here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class AcrossDatasets:
    """`scores`: model x dataset (NaN where a model has no score); the test over the models
    scored on every dataset."""

    scores: pd.DataFrame
    greater_is_better: bool
    alpha: float = 0.05
    ranks: pd.DataFrame = field(default_factory=pd.DataFrame)  # complete models only
    mean_ranks: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    friedman_p: float | None = None
    friedman_stat: float | None = None
    critical_difference: float | None = None
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "datasets": list(self.scores.columns),
            "models": list(self.scores.index),
            "mean_ranks": {k: float(v) for k, v in self.mean_ranks.items()},
            "friedman_statistic": self.friedman_stat,
            "friedman_p": self.friedman_p,
            "critical_difference": self.critical_difference,
            "alpha": self.alpha,
            "note": self.note,
        }

    def cliques(self) -> list[list[str]]:
        """Maximal runs of models (in mean-rank order) whose ranks differ by less than the
        critical difference: the bars of a CD diagram."""
        if self.critical_difference is None:
            return []
        order = self.mean_ranks.sort_values()
        names, values = list(order.index), order.to_numpy()
        found: list[list[str]] = []
        for i in range(len(names)):
            j = i
            while j + 1 < len(names) and values[j + 1] - values[i] < self.critical_difference:
                j += 1
            if j > i and not (found and set(names[i:j + 1]) <= set(found[-1])):
                found.append(names[i:j + 1])
        return found


def compare_across(
    scores: pd.DataFrame, greater_is_better: bool, alpha: float = 0.05
) -> AcrossDatasets:
    """Ranks (1 = best, ties averaged) per dataset of the models scored on every dataset;
    with 3+ datasets and 3+ models, the Friedman test and the Nemenyi critical difference."""
    from scipy import stats

    out = AcrossDatasets(scores=scores, greater_is_better=greater_is_better, alpha=alpha)
    complete = scores.dropna(axis=0, how="any")
    if len(complete) < 2 or complete.shape[1] < 1:
        out.note = "fewer than two models are scored on every dataset: nothing to rank"
        return out
    out.ranks = complete.rank(axis=0, ascending=not greater_is_better, method="average")
    out.mean_ranks = out.ranks.mean(axis=1).sort_values()
    k, n = complete.shape
    if n < 3 or k < 3:
        out.note = ("the Friedman test needs 3 or more datasets and 3 or more models "
                    f"(here {n} dataset(s), {k} model(s))")  # fmt: skip
        return out
    stat, p = stats.friedmanchisquare(*complete.to_numpy())
    out.friedman_stat, out.friedman_p = float(stat), float(p)
    q = float(stats.studentized_range.ppf(1 - alpha, k, np.inf)) / math.sqrt(2)
    out.critical_difference = q * math.sqrt(k * (k + 1) / (6.0 * n))
    return out
