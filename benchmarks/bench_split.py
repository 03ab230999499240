"""Split benchmarks: foldrun against the tools users have, side by side, in one run.

    .venv/bin/pip install iterative-stratification   # competitor, benchmark only
    .venv/bin/python benchmarks/bench_split.py [--quick]

Prints one block per scenario: time (median of up to 3 runs), balance figures, ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold as SkStratifiedGroupKFold
from sklearn.model_selection import StratifiedKFold as SkStratifiedKFold

import foldrun


def timed(fn: Callable[[], np.ndarray], runs: int) -> tuple[float, np.ndarray]:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def folds_of(cv, X, y, groups, n: int) -> np.ndarray:
    fold = np.full(n, -1)
    for f, (_, test) in enumerate(cv.split(X, y, groups)):
        fold[test] = f
    return fold


def class_dev(fold: np.ndarray, y: np.ndarray, k: int) -> float:
    whole = np.bincount(y) / len(y)
    return max(
        float(
            np.abs(
                np.bincount(y[fold == f], minlength=len(whole)) / (fold == f).sum() - whole
            ).max()
        )
        for f in range(k)
    )


def size_spread(fold: np.ndarray, k: int) -> float:
    sizes = np.bincount(fold, minlength=k)
    return float((sizes.max() - sizes.min()) / sizes.mean())


def skewed_groups(rng, n: int, n_groups: int, alpha: float) -> np.ndarray:
    weights = rng.pareto(alpha, n_groups) + 1
    return rng.choice(n_groups, n, p=weights / weights.sum())


def peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def report(title: str, rows: list[tuple[str, float, float, str]]) -> None:
    print(f"\n## {title}")
    print(f"{'figure':34s} {'foldrun':>12s} {'competitor':>12s} {'ratio':>10s}")
    for name, ours, theirs, how in rows:
        ratio = theirs / ours if ours else float("inf")
        print(f"{name:34s} {ours:12.6g} {theirs:12.6g} {ratio:9.1f}x  ({how})")


def stratified_grouped(n: int, n_groups: int, runs: int) -> None:
    rng = np.random.default_rng(0)
    groups = skewed_groups(rng, n, n_groups, 1.5)
    y = rng.choice(5, n, p=[0.55, 0.25, 0.12, 0.06, 0.02])
    X = np.zeros((n, 1))
    ours_t, ours = timed(lambda: folds_of(foldrun.StratifiedGroupKFold(5, shuffle=True,
                                          random_state=0), X, y, groups, n), runs)  # fmt: skip
    sk_t, sk = timed(lambda: folds_of(SkStratifiedGroupKFold(5, shuffle=True, random_state=0),
                                      X, y, groups, n), runs)  # fmt: skip
    mem = peak_mb(lambda: foldrun.StratifiedGroupKFold(5, shuffle=True, random_state=0)
                  ._fold_of(y, groups, n))  # fmt: skip
    report(f"stratified-grouped: {n:,} rows, {n_groups:,} skewed groups, 5 classes, 5 folds", [
        ("time (s)", ours_t, sk_t, "sklearn / foldrun: speed-up"),
        ("worst class-share deviation", class_dev(ours, y, 5), class_dev(sk, y, 5),
         "sklearn / foldrun: >1 = foldrun better"),
        ("fold size spread (max-min)/mean", size_spread(ours, 5), size_spread(sk, 5),
         "sklearn / foldrun: >1 = foldrun more even"),
        ("peak memory of the split (MB)", mem, float("nan"), "tracemalloc, foldrun only"),
    ])  # fmt: skip


def few_groups(runs: int) -> None:
    rng = np.random.default_rng(1)
    n = 100_000
    groups = skewed_groups(rng, n, 200, 2.5)
    y = rng.choice(3, n, p=[0.6, 0.3, 0.1])
    X = np.zeros((n, 1))
    ours_t, ours = timed(lambda: folds_of(foldrun.StratifiedGroupKFold(5, shuffle=True,
                                          random_state=0), X, y, groups, n), runs)  # fmt: skip
    sk_t, sk = timed(lambda: folds_of(SkStratifiedGroupKFold(5, shuffle=True, random_state=0),
                                      X, y, groups, n), runs)  # fmt: skip
    report("few large groups: 100,000 rows, 200 skewed groups, 3 classes, 5 folds", [
        ("time (s)", ours_t, sk_t, "speed-up"),
        ("fold size spread (max-min)/mean", size_spread(ours, 5), size_spread(sk, 5),
         ">1 = foldrun more even"),
        ("worst class-share deviation", class_dev(ours, y, 5), class_dev(sk, y, 5),
         ">1 = foldrun better"),
    ])  # fmt: skip


def multilabel(n: int, runs: int) -> None:
    try:
        from iterstrat.ml_stratifiers import MultilabelStratifiedKFold as IterStrat
    except ImportError:
        print("\n## multilabel: skipped (pip install iterative-stratification)")
        return
    rng = np.random.default_rng(2)
    y = (rng.random((n, 20)) < np.geomspace(0.002, 0.4, 20)).astype(int)
    X = np.zeros((n, 1))
    ours_t, ours = timed(lambda: folds_of(foldrun.MultilabelStratifiedKFold(
        5, shuffle=True, random_state=0), X, y, None, n), runs)  # fmt: skip
    it_t, it = timed(lambda: folds_of(IterStrat(n_splits=5, shuffle=True, random_state=0),
                                      X, y, None, n), min(runs, 1) or 1)  # fmt: skip

    def label_dev(fold: np.ndarray) -> float:
        whole = y.mean(axis=0)
        return max(float(np.abs(y[fold == f].mean(axis=0) - whole).max()) for f in range(5))

    report(f"multilabel: {n:,} rows x 20 labels, 5 folds (vs iterative-stratification)", [
        ("time (s)", ours_t, it_t, "speed-up"),
        ("worst per-label share deviation", label_dev(ours), label_dev(it), ">1 = foldrun better"),
        ("fold size spread (max-min)/mean", size_spread(ours, 5), size_spread(it, 5),
         ">1 = foldrun more even"),
    ])  # fmt: skip


def continuous(n: int) -> None:
    from foldrun.split.details import ks_distance

    rng = np.random.default_rng(3)
    y = rng.lognormal(0, 1, n)
    X = np.zeros((n, 1))
    ours = folds_of(foldrun.ContinuousStratifiedKFold(5, shuffle=True, random_state=0), X, y,
                    None, n)  # fmt: skip
    bins = np.searchsorted(np.quantile(y, np.linspace(0, 1, 11)[1:-1]), y)
    hand = folds_of(SkStratifiedKFold(5, shuffle=True, random_state=0), X, bins, None, n)
    whole = np.sort(y)

    def worst(fold: np.ndarray) -> tuple[float, float]:
        ks = max(ks_distance(np.sort(y[fold == f]), whole) for f in range(5))
        shift = max(abs(y[fold == f].mean() - y.mean()) / y.std() for f in range(5))
        return ks, shift

    (ok, om), (hk, hm) = worst(ours), worst(hand)
    report(f"continuous: {n:,} rows, lognormal target, 5 folds (vs 10 quantile bins + "
           "StratifiedKFold)", [
        ("worst fold KS statistic", ok, hk, ">1 = foldrun closer to the whole"),
        ("worst mean shift (in std)", om, hm, ">1 = foldrun closer to the whole"),
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="100x smaller, one run each")
    args = parser.parse_args()
    scale, runs = (100, 1) if args.quick else (1, 3)
    stratified_grouped(1_000_000 // scale, 100_000 // scale, runs)
    few_groups(runs)
    multilabel(1_000_000 // scale, runs)
    continuous(100_000 // max(scale // 10, 1))


if __name__ == "__main__":
    main()
