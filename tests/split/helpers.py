"""Shared invariant checks run over every strategy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from foldrun.split import Folds


def make_table(n: int = 600, n_groups: int = 80, seed: int = 0) -> pd.DataFrame:
    """Skewed group sizes, an imbalanced 3-class label, a continuous target, 3 labels."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_groups + 1)
    group = rng.choice(n_groups, size=n, p=weights / weights.sum())
    return pd.DataFrame(
        {
            "sample": [f"x{i:04d}" for i in range(n)],
            "subject": [f"g{g:03d}" for g in group],
            "label": rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1]),
            "site": rng.choice(["s1", "s2"], size=n),
            "value": rng.normal(size=n).round(6),
            **{f"l{j}": (rng.random(n) < p).astype(int) for j, p in enumerate([0.1, 0.3, 0.5])},
        }
    )


def check_invariants(folds: Folds, group: str | None = None) -> None:
    """Coverage, no overlap, group integrity, train/val/test disjoint, sizes."""
    table = folds.table
    assert table is not None and folds.test_fold is not None
    n = len(table)
    for r in range(folds.n_repeats):
        tf = folds.test_fold[r]
        held = tf == -1
        seen = np.zeros(n, dtype=int)
        for f in range(folds.n_folds):
            test = folds.indices(f, "test", r)
            train = folds.indices(f, "train", r)
            val = folds.indices(f, "val", r)
            assert len(test) > 0
            seen[test] += 1
            parts = np.concatenate([train, val, test])
            assert len(np.unique(parts)) == len(parts), "a row in two subsets of one fold"
            assert len(parts) == n - held.sum(), "a non-holdout row missing from a fold"
            if group is not None:
                g = table[group].to_numpy()
                assert not set(g[test]) & set(g[train]), "a group in train and test"
                assert not set(g[val]) & set(g[train]) or not len(val)
        assert np.all(seen[~held] == 1), "a row in zero or two test folds"
        assert np.all(seen[held] == 0)
        if group is not None:
            per_group = pd.Series(tf).groupby(table[group].to_numpy()).nunique()
            assert per_group.max() == 1, "a group in two test folds"


def fold_sizes(folds: Folds, repeat: int = 0) -> np.ndarray:
    tf = folds.test_fold[repeat]
    return np.bincount(tf[tf >= 0], minlength=folds.n_folds)
