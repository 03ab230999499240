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
import uuid
from collections.abc import Callable

import numpy as np
import pandas as pd
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


def uuids(rng, n: int) -> np.ndarray:
    """n random UUID strings (object array): the keys real tables have."""
    ints = rng.integers(0, 2**63, (n, 2)).tolist()
    return np.array([str(uuid.UUID(int=(a << 64) | b)) for a, b in ints], dtype=object)


def real_keys(rng, n: int, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Skewed group sizes, 5 imbalanced classes; groups and classes as UUID strings.
    Returns (groups, y, integer class codes for the measures)."""
    codes = rng.choice(5, n, p=[0.55, 0.25, 0.12, 0.06, 0.02])
    groups = uuids(rng, n_groups)[skewed_groups(rng, n, n_groups, 1.5)]
    return groups, uuids(rng, 5)[codes], codes


def few_large_groups(seed: int, n: int = 100_000, n_groups: int = 200, sigma: float = 1.5):
    """Lognormal group sizes (the largest ~10% of the rows), 5 imbalanced classes, each
    group dominated (85%) by one class: class balance and even sizes pull apart."""
    rng = np.random.default_rng(seed)
    p = np.array([0.5, 0.25, 0.13, 0.08, 0.04])
    weights = rng.lognormal(0, sigma, n_groups)
    groups = rng.choice(n_groups, n, p=weights / weights.sum())
    dominant = rng.choice(5, n_groups, p=p)
    y = np.where(rng.random(n) < 0.85, dominant[groups], rng.choice(5, n, p=p))
    return groups, y


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
    groups, y, codes = real_keys(np.random.default_rng(0), n, n_groups)
    X = np.zeros((n, 1))
    ours_t, ours = timed(lambda: folds_of(foldrun.StratifiedGroupKFold(5, shuffle=True,
                                          random_state=0), X, y, groups, n), runs)  # fmt: skip
    int_groups = pd.factorize(groups)[0]
    int_t, _ = timed(lambda: folds_of(foldrun.StratifiedGroupKFold(5, shuffle=True,
                                      random_state=0), X, codes, int_groups, n), runs)  # fmt: skip
    sk_t, sk = timed(lambda: folds_of(SkStratifiedGroupKFold(5, shuffle=True, random_state=0),
                                      X, y, groups, n), runs)  # fmt: skip
    mem = peak_mb(lambda: foldrun.StratifiedGroupKFold(5, shuffle=True, random_state=0)
                  ._fold_of(y, groups, n))  # fmt: skip
    report(f"stratified-grouped: {n:,} rows, {n_groups:,} skewed groups, 5 classes, 5 folds, "
           "UUID string ids", [
        ("time (s)", ours_t, sk_t, "sklearn / foldrun: speed-up"),
        ("time on integer ids (s)", int_t, ours_t, "foldrun strings / foldrun integers"),
        ("worst class-share deviation", class_dev(ours, codes, 5), class_dev(sk, codes, 5),
         "sklearn / foldrun: >1 = foldrun better"),
        ("fold size spread (max-min)/mean", size_spread(ours, 5), size_spread(sk, 5),
         "sklearn / foldrun: >1 = foldrun more even"),
        ("peak memory of the split (MB)", mem, float("nan"), "tracemalloc, foldrun only"),
    ])  # fmt: skip


def _both(seed: int, y: np.ndarray, groups: np.ndarray):
    n = len(y)
    X = np.zeros((n, 1))
    ours_t, ours = timed(lambda: folds_of(foldrun.StratifiedGroupKFold(
        5, shuffle=True, random_state=seed), X, y, groups, n), 1)  # fmt: skip
    sk_t, sk = timed(lambda: folds_of(SkStratifiedGroupKFold(
        5, shuffle=True, random_state=seed), X, y, groups, n), 1)  # fmt: skip
    return ours_t, ours, sk_t, sk


def few_groups(seeds: int) -> None:
    print(f"\n## few large groups: 100,000 rows, 200 lognormal groups (sigma 1.5), 5 classes, "
          f"groups 85% one class, 5 folds, seeds 0..{seeds - 1}")  # fmt: skip
    print(f"{'seed':>4s} {'dev foldrun':>12s} {'dev sklearn':>12s} {'spread foldrun':>15s} "
          f"{'spread sklearn':>15s} {'t foldrun':>10s} {'t sklearn':>10s}")  # fmt: skip
    rows = []
    for seed in range(seeds):
        groups, y = few_large_groups(seed)
        ours_t, ours, sk_t, sk = _both(seed, y, groups)
        row = (class_dev(ours, y, 5), class_dev(sk, y, 5), size_spread(ours, 5),
               size_spread(sk, 5), ours_t, sk_t)  # fmt: skip
        rows.append(row)
        print(f"{seed:4d} {row[0]:12.4g} {row[1]:12.4g} {row[2]:15.4g} {row[3]:15.4g} "
              f"{row[4]:10.3f} {row[5]:10.3f}")  # fmt: skip
    a = np.array(rows)
    print(f"class deviation <= sklearn's (rel. 1e-9) on {np.sum(a[:, 0] <= a[:, 1] * (1 + 1e-9))}"
          f"/{seeds} tables, worst sklearn/foldrun {np.min(a[:, 1] / a[:, 0]):.3f}; sizes more "
          f"even on {np.sum(a[:, 2] < a[:, 3])}/{seeds}, median spread ratio "
          f"{np.median(a[:, 3] / a[:, 2]):.2f}x; median time {np.median(a[:, 4]):.3f} s vs "
          f"{np.median(a[:, 5]):.3f} s")  # fmt: skip


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
    parser.add_argument("--only", choices=["grouped", "few", "multilabel", "continuous"],
                        help="run one scenario")  # fmt: skip
    parser.add_argument("--seeds", type=int, default=10, help="few large groups: tables")
    args = parser.parse_args()
    scale, runs = (100, 1) if args.quick else (1, 3)
    scenarios = {
        "grouped": lambda: stratified_grouped(1_000_000 // scale, 100_000 // scale, runs),
        "few": lambda: few_groups(3 if args.quick else args.seeds),
        "multilabel": lambda: multilabel(1_000_000 // scale, runs),
        "continuous": lambda: continuous(100_000 // max(scale // 10, 1)),
    }
    for name, run in scenarios.items():
        if args.only in (None, name):
            run()


if __name__ == "__main__":
    main()
