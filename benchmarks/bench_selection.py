"""Selection benchmarks (issue 15): nested selection's honesty, and what racing saves.

    .venv/bin/python benchmarks/bench_selection.py [--seeds 20] [--e2e]

Nested: random labels, a 20-variant grid (k-nearest neighbours, k = 1, 3, ..., 39), 5 outer
folds x 3 inner folds from foldrun's own `make_folds(..., inner=3)`. Every fold score is
computed in this process exactly as foldrun's estimator tasks compute it (fit on the
manifest's rows, ROC AUC on the test rows), and the estimate is foldrun's own
`results.nested.nested_selection`. The optimistic estimate is the best variant's mean
over the same outer folds. The true AUC of any model on random labels is 0.5.

Racing: a 20-variant feature-set grid (logistic regression on 3 of 12 features: 3 variants
use informative features, the others weaker or pure noise), 10 folds. The full grid runs
every fold of every variant; the race reveals the same scores fold by fold and stops
variants with foldrun's own rule (`run.race.stops`: corrected paired t-test, Holm,
alpha = 0.05, after = 3). Both select the variant with the best mean over the folds it
ran (the race never selects a stopped one).

`--e2e` also runs one seed of each through `foldrun run` (console script, local backend)
and checks that foldrun's cv_summary.json / race.json give the same numbers as the
in-process figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier

from foldrun.results.nested import nested_selection
from foldrun.run.race import stops
from foldrun.split import make_folds

KS = list(range(1, 40, 2))  # 20 variants
FOLDS, INNER = 5, 3


def random_table(seed: int, n: int = 300, features: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(n, features)), columns=[f"x{i}" for i in range(features)])
    df.insert(0, "id", [f"{i:04d}" for i in range(n)])
    df["y"] = rng.permutation(np.arange(n) % 2)
    return df


def _auc(model, x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> float:
    model.fit(x[train], y[train])
    return float(roc_auc_score(y[test], model.predict_proba(x[test])[:, 1]))


def nested_seed(seed: int) -> tuple[float, float]:
    """(nested estimate, optimistic estimate) of ROC AUC on one random-label table."""
    df = random_table(seed)
    folds = make_folds(df, id="id", target="y", folds=FOLDS, inner=INNER, seed=seed)
    x, y = df.filter(like="x").to_numpy(), df["y"].to_numpy()
    outer, inner = [], []
    for k in KS:
        variant = f"nn{k}"
        model = KNeighborsClassifier(n_neighbors=k)
        for f in range(FOLDS):
            train, test = folds.indices(f, "train"), folds.indices(f, "test")
            outer.append((variant, f, _auc(model, x, y, train, test)))
            part = folds.inner[(0, f)]
            for i in range(INNER):
                itrain = np.flatnonzero((part >= 0) & (part != i))
                itest = np.flatnonzero(part == i)
                inner.append((variant, f, i, _auc(model, x, y, itrain, itest)))
    metrics = pd.DataFrame(outer, columns=["variant", "fold", "value"]).assign(
        model="knn", repeat=0, subset="test", metric="roc_auc"
    )
    scores = pd.DataFrame(inner, columns=["variant", "fold", "inner", "value"]).assign(
        model="knn", repeat=0
    )
    nested = nested_selection(scores, metrics, "roc_auc", True)["knn"]
    optimistic = metrics.groupby("variant")["value"].mean().max()
    return float(nested["mean"]), float(optimistic)  # type: ignore[arg-type]


def race_table(seed: int, n: int = 400) -> tuple[pd.DataFrame, list[list[int]]]:
    """12 features: x0-x2 strong, x3-x5 weak, x6-x11 noise; 20 feature triples."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 12))
    logit = 1.2 * x[:, :3].sum(axis=1) + 0.25 * x[:, 3:6].sum(axis=1)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame(x, columns=[f"x{i}" for i in range(12)])
    df.insert(0, "id", [f"{i:04d}" for i in range(n)])
    df["y"] = y
    sets = [[0, 1, 2], [0, 1, 3], [0, 2, 4]]  # the clearly best (strong features)
    pick = np.random.default_rng(1000 + seed)
    while len(sets) < 20:
        cols = sorted(pick.choice(np.arange(3, 12), 3, replace=False).tolist())
        if cols not in sets:
            sets.append(cols)
    return df, sets


def race_seed(seed: int, after: int = 3, alpha: float = 0.05, k: int = 10) -> dict[str, object]:
    df, sets = race_table(seed)
    folds = make_folds(df, id="id", target="y", folds=k, seed=seed)
    x, y = df.filter(like="x").to_numpy(), df["y"].to_numpy()
    scores: dict[str, list[float]] = {}
    start = time.perf_counter()
    for cols in sets:
        name = "f" + "-".join(map(str, cols))
        scores[name] = [
            _auc(LogisticRegression(), x[:, cols], y, folds.indices(f, "train"),
                 folds.indices(f, "test"))
            for f in range(k)
        ]  # fmt: skip
    per_fold_s = (time.perf_counter() - start) / (len(sets) * k)
    full_best = max(scores, key=lambda v: float(np.mean(scores[v])))
    alive, ran = dict.fromkeys(scores, k), {}
    for done in range(after, k):  # before fold `done` runs, the race decides on `done` folds
        racing = {v: scores[v][:done] for v in alive}
        for d in stops(racing, after, alpha, True, 1 / (k - 1)):
            ran[str(d["variant"])] = done
            alive.pop(str(d["variant"]))
    ran.update(alive)
    race_best = max(alive, key=lambda v: float(np.mean(scores[v])))
    return {
        "tasks_full": len(scores) * k,
        "tasks_race": sum(ran.values()),
        "same_best": race_best == full_best,
        "per_fold_s": per_fold_s,
        "stopped": len(scores) - len(alive),
    }


def _foldrun(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).parent / "foldrun")
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, check=True)


def e2e_nested(seed: int) -> float:
    """foldrun run + report on the nested benchmark's table: cv_summary's nested mean."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        random_table(seed).to_csv(root / "data.csv", index=False)
        (root / "foldrun.toml").write_text(f"""name = "nested"
[data]
table = "data.csv"
id = "id"
target = "y"
[split]
folds = {FOLDS}
inner = {INNER}
seed = {seed}
[models.knn]
estimator = "sklearn.neighbors:KNeighborsClassifier"
grid = {{ n_neighbors = {KS} }}
""")
        _foldrun("run", "foldrun.toml", "--jobs", "2", cwd=root)
        _foldrun("report", "foldrun.toml", cwd=root)
        summary = json.loads((root / "runs/nested/report/cv_summary.json").read_text())
        return float(summary["models"][0]["nested"]["mean"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--e2e", action="store_true")
    args = ap.parse_args()
    seeds = range(args.seeds)

    start = time.perf_counter()
    pairs = [nested_seed(s) for s in seeds]
    nested = [p[0] for p in pairs]
    optimistic = [p[1] for p in pairs]
    print(f"nested selection, random labels, 20 variants, {FOLDS}x{INNER} folds, "
          f"{len(pairs)} seeds ({time.perf_counter() - start:.1f} s)")  # fmt: skip
    print(f"  nested estimate of ROC AUC: mean {statistics.mean(nested):.4f} "
          f"(|mean - 0.5| = {abs(statistics.mean(nested) - 0.5):.4f}), "
          f"sd over seeds {statistics.stdev(nested):.4f}")  # fmt: skip
    print(f"  optimistic (best variant on the test folds): mean {statistics.mean(optimistic):.4f}, "
          f"above the nested one on {sum(o > n for n, o in pairs)}/{len(pairs)} seeds")  # fmt: skip

    start = time.perf_counter()
    races = [race_seed(s) for s in seeds]
    full = sum(r["tasks_full"] for r in races)  # type: ignore[misc]
    raced = sum(r["tasks_race"] for r in races)  # type: ignore[misc]
    same = sum(bool(r["same_best"]) for r in races)
    fold_s = statistics.median(r["per_fold_s"] for r in races)  # type: ignore[misc]
    print(f"racing, 20-variant feature-set grid, 10 folds, after 3, alpha 0.05, {len(races)} "
          f"seeds ({time.perf_counter() - start:.1f} s)")  # fmt: skip
    print(f"  fold tasks run: {raced}/{full} = {raced / full:.1%} of the full grid "
          f"(per seed: min {min(r['tasks_race'] for r in races)}, "
          f"max {max(r['tasks_race'] for r in races)} of 200)")  # fmt: skip
    print(f"  same best variant as the full grid: {same}/{len(races)} seeds")
    print(f"  saved: {full - raced} fold-units x 3 tasks (train, predict, evaluate); at this "
          f"benchmark's {fold_s * 1000:.1f} ms per fold fit, and per GPU-hour fold of a deep "
          f"model: {(full - raced) / len(races):.0f} fold-hours per 200-fold grid")  # fmt: skip

    if args.e2e:
        seed = 0
        start = time.perf_counter()
        through = e2e_nested(seed)
        print(f"e2e: foldrun run + report, seed {seed}: nested {through:.4f}, in-process "
              f"{nested[seed]:.4f} ({time.perf_counter() - start:.0f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
