"""Plain StratifiedKFold on integer labels, foldrun against scikit-learn (issue 26 item 3).

    .venv/bin/python benchmarks/bench_stratified.py [--rows 1000000] [--classes 5] [--rounds 7]

One process; each round times, in turn (ABAB...), scikit-learn's StratifiedKFold, foldrun's,
and foldrun's with its previous core.stratified (two lexsorts, same folds), each a full
`for train, test in cv.split(X, y)` over 5 folds, unshuffled and shuffled. Prints medians
and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from sklearn.model_selection import StratifiedKFold as SkStratifiedKFold

import foldrun.split.core as core
from foldrun.split.splitters import StratifiedKFold


def _by_lexsort(codes: np.ndarray, k: int, rng: np.random.Generator | None) -> np.ndarray:
    n = len(codes)
    order = np.lexsort((np.arange(n), codes) if rng is None else (rng.random(n), codes))
    dealt = np.arange(n) % k
    fold = np.empty(n, dtype=np.int64)
    fold[order] = dealt[np.lexsort((dealt, codes[order]))]
    return fold


def _time(cv: object, X: np.ndarray, y: np.ndarray) -> float:
    start = time.perf_counter()
    for _train, _test in cv.split(X, y):  # type: ignore[attr-defined]
        pass
    return time.perf_counter() - start


def _before(cv: object, X: np.ndarray, y: np.ndarray) -> float:
    now = core.stratified
    core.stratified = _by_lexsort
    try:
        return _time(cv, X, y)
    finally:
        core.stratified = now


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    y = np.random.default_rng(0).integers(0, args.classes, args.rows)
    X = np.zeros((args.rows, 1))
    print(f"load before {os.getloadavg()[0]:.1f}")
    for shuffle in (False, True):
        kw = {"shuffle": True, "random_state": 0} if shuffle else {}
        times: dict[str, list[float]] = {"sklearn": [], "foldrun": [], "foldrun before": []}
        for _ in range(args.rounds):
            times["sklearn"].append(_time(SkStratifiedKFold(5, **kw), X, y))
            times["foldrun"].append(_time(StratifiedKFold(5, **kw), X, y))
            times["foldrun before"].append(_before(StratifiedKFold(5, **kw), X, y))
        med = {name: statistics.median(ts) for name, ts in times.items()}
        print(f"shuffle={shuffle}: " + ", ".join(f"{n} {m:.3f} s" for n, m in med.items())
              + f"; foldrun {med['sklearn'] / med['foldrun']:.2f}x sklearn's speed (before "
              f"{med['sklearn'] / med['foldrun before']:.2f}x)")  # fmt: skip
    print(f"load after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
