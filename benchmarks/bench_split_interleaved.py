"""foldrun's splitters against scikit-learn's, each timing a fresh process, interleaved
(ABAB...), medians, load average recorded (issue 26 items 3-4).

    .venv/bin/python benchmarks/bench_split_interleaved.py [--rounds 3] [--only NAME ...]
        [--before SRC]   (SRC: another foldrun's src folder, e.g. a git worktree's: timed too)

Scenarios (1,000,000 rows, 5 folds): StratifiedGroupKFold on 100,000 Pareto-skewed UUID
groups and 5 imbalanced UUID classes (`bench_split.real_keys`, shuffle=True,
random_state=0); StratifiedKFold, KFold and GroupKFold on integer keys, unshuffled and
shuffled. Each child process loads the data (made once into --cache), then times a full
`for train, test in cv.split(X, y, groups)`, the way a user's script calls it; imports and
loading are not in the time; wall and CPU time (the process's, all its threads: the
steadier figure on a loaded machine). Prints each run, then medians, the class-share deviation
and fold-size spread of the folds, and the load average (1 min) around each run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROWS = 1_000_000

CHILD = r"""
import json, os, sys, time
import numpy as np
tool, name, shuffle, cache = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
data = np.load(os.path.join(cache, "split_data.npz"))
if name == "sgkf":
    groups = data["uuid_groups"].astype(str).astype(object)  # as pandas gives text
    y, codes = data["uuid_classes"].astype(str).astype(object), data["classes"]
else:
    groups, y = data[name.split("-")[1]] if "-" in name else None, data["classes"]
    codes = y
if tool == "sklearn":
    import sklearn.model_selection as where
else:
    import foldrun.split.splitters as where
cls = {"sgkf": "StratifiedGroupKFold", "skf": "StratifiedKFold", "kfold": "KFold"}.get(
    name.split("-")[0], "GroupKFold")
kw = {"shuffle": True, "random_state": 0} if shuffle else {}
cv = getattr(where, cls)(5, **kw)
X = np.zeros((len(codes), 1))
fold = np.empty(len(codes), dtype=np.int64)
load = os.getloadavg()[0]
start, cpu = time.perf_counter(), time.process_time()
for f, (train, test) in enumerate(cv.split(X, y, groups)):
    fold[test] = f
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
share = np.bincount(codes) / len(codes)
dev = max(float(np.abs(np.bincount(codes[fold == f], minlength=len(share))
                       / (fold == f).sum() - share).max()) for f in range(5))
sizes = np.bincount(fold, minlength=5)
print(json.dumps({"seconds": seconds, "cpu": cpu, "class_dev": dev,
                  "size_spread": float((sizes.max() - sizes.min()) / sizes.mean()),
                  "load_before": load, "load_after": os.getloadavg()[0]}))
"""

# (name, shuffle): gkf-g1k / gkf-g100k are GroupKFold on 1,000 / 100,000 integer groups
SCENARIOS = [
    ("sgkf", True),
    ("skf", False), ("skf", True),
    ("kfold", False), ("kfold", True),
    ("gkf-g1k", False), ("gkf-g1k", True), ("gkf-g100k", False), ("gkf-g100k", True),
]  # fmt: skip


def make_data(cache: Path) -> None:
    """The tables, once: UUID keys as fixed-width bytes (no pickle), integer keys."""
    path = cache / "split_data.npz"
    if path.is_file():
        return
    sys.path.insert(0, str(HERE))
    from bench_split import real_keys, skewed_groups

    rng = np.random.default_rng(0)
    groups, y, codes = real_keys(rng, ROWS, 100_000)
    ints = np.random.default_rng(1)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(
        path.with_suffix(".tmp.npz"),
        uuid_groups=groups.astype("S36"), uuid_classes=y.astype("S36"), classes=codes,
        g1k=skewed_groups(ints, ROWS, 1_000, 1.5), g100k=skewed_groups(ints, ROWS, 100_000, 1.5),
    )  # fmt: skip
    path.with_suffix(".tmp.npz").rename(path)


def run_child(
    tool: str, name: str, shuffle: bool, cache: Path, before: Path | None = None
) -> dict[str, float]:
    """One timing in a fresh process; tool "before" is foldrun from the `before` src tree."""
    env = {**os.environ, "PYTHONPATH": str(before.resolve())} if tool == "before" else None
    out = subprocess.run(
        [sys.executable, "-c", CHILD, tool, name, "1" if shuffle else "0", str(cache)],
        capture_output=True, text=True, check=True, cwd=HERE.parent, env=env,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="scenario names (sgkf, skf, kfold, gkf-g1k...)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/foldrun-bench-split"))
    parser.add_argument("--before", type=Path, help="src folder of a foldrun to compare too")
    args = parser.parse_args()
    make_data(args.cache)
    print(f"load average at start: {os.getloadavg()}")
    for name, shuffle in SCENARIOS:
        if args.only and name not in args.only:
            continue
        runs: dict[str, list[dict[str, float]]] = {"sklearn": [], "foldrun": []}
        if args.before:
            runs["before"] = []
        for r in range(args.rounds):
            for tool in runs:  # ABAB...
                got = run_child(tool, name, shuffle, args.cache, args.before)
                runs[tool].append(got)
                print(f"{name} shuffle={shuffle} round {r} {tool}: {got['seconds']:.3f} s, "
                      f"CPU {got['cpu']:.3f} s (load {got['load_before']:.1f}-"
                      f"{got['load_after']:.1f})", flush=True)  # fmt: skip
        med = {t: statistics.median(x["seconds"] for x in v) for t, v in runs.items()}
        cpu = {t: statistics.median(x["cpu"] for x in v) for t, v in runs.items()}
        loads = [x[k] for v in runs.values() for x in v for k in ("load_before", "load_after")]
        last = {t: v[-1] for t, v in runs.items()}
        print(f"== {name} shuffle={shuffle}: sklearn {med['sklearn']:.3f} s, foldrun "
              f"{med['foldrun']:.3f} s (medians of {args.rounds}): foldrun "
              f"{med['sklearn'] / med['foldrun']:.2f}x sklearn's speed; CPU {cpu['sklearn']:.3f}"
              f" s vs {cpu['foldrun']:.3f} s: {cpu['sklearn'] / cpu['foldrun']:.2f}x; "
              f"class deviation "
              f"{last['foldrun']['class_dev']:.3g} vs {last['sklearn']['class_dev']:.3g}, "
              f"size spread {last['foldrun']['size_spread']:.3g} vs "
              f"{last['sklearn']['size_spread']:.3g}; load {min(loads):.1f}-{max(loads):.1f}",
              flush=True)  # fmt: skip
        if args.before:
            print(f"   before: {med['before']:.3f} s, CPU {cpu['before']:.3f} s: now "
                  f"{cpu['before'] / cpu['foldrun']:.2f}x less CPU, sklearn/before "
                  f"{med['sklearn'] / med['before']:.2f}x (wall), "
                  f"{cpu['sklearn'] / cpu['before']:.2f}x (CPU)", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
