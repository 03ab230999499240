"""Racing's wall time through the CLI (issue 25 item 6): `foldrun run --jobs 2` of a grid
where half the variants are clearly worse, with `[race]` and without it.

    .venv/bin/python benchmarks/bench_race.py [--folds 20] [--repeats 3] [--sleep 1.0]
        [--waves]

Every run is a fresh `foldrun run` process from an empty run folder (split, plan, tasks,
results); the arms run interleaved (race, full, race, full, ...), so load changes hit
each alike; medians of --repeats; the load average is printed before each run. One
400-row table, FOLDS folds, one command model with 8 variants: `good0..3` score a
sample by the feature the label is made of (plus 0 to 0.3 of a noise feature), `bad0..3`
by a noise feature alone (ROC AUC ~0.5). Each fold is train (`sleep SLEEP`: the work),
predict (a standard-library script writing the scores) and foldrun's evaluate.
`[race] after = 3, alpha = 0.05`. The winner is the first line of the run's summary.
A run's fixed cost (start-up, split, plan, fork server, results: ~30 s on the loaded
2-core machine) is paid by both arms alike, so the ratio tells only once the tasks' work
outweighs it: hence a second of work per training.

`--waves` adds a third arm: the race as it ran before it was steered (fold-by-fold
waves through `Backend.execute`), by running the CLI with the local backend's `steers`
turned off in that process.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

VARIANTS = [f"good{i}" for i in range(4)] + [f"bad{i}" for i in range(4)]
PREDICT = """\
import csv, sys
variant, test, predictions = sys.argv[1:4]
kind, number = variant[:-1], int(variant[-1])
with open(test, newline="") as fh:
    rows = list(csv.DictReader(fh))
with open(predictions, "w", newline="") as out:
    writer = csv.writer(out)
    writer.writerow(["id", "score"])
    for row in rows:
        if kind == "good":
            score = float(row["x1"]) + 0.1 * number * float(row["n0"])
        else:
            score = float(row[f"n{number}"])
        writer.writerow([row["id"], score])
"""
SPEC = """\
name = "bench"
[data]
table = "samples.csv"
id = "id"
target = "y"
task = "classification"
[split]
folds = {folds}
seed = 0
[models.m]
train = "sleep {sleep}"
predict = "{python} predict.py {{v}} {{test}} {{predictions}}"
grid = {{ v = [{variants}] }}
"""
RACE = "[race]\nafter = 3\nalpha = 0.05\n"
WAVES = (
    "import sys; from foldrun.run.backends.local import LocalBackend; "
    "LocalBackend.steers = False; from foldrun.cli import main; sys.exit(main())"
)


def write_project(root: Path, folds: int, sleep: float, race: bool) -> Path:
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    n = 400
    x1 = rng.normal(size=n)
    table = pd.DataFrame({"id": [f"s{i:04d}" for i in range(n)], "x1": x1.round(4)})
    for i in range(4):
        table[f"n{i}"] = rng.normal(size=n).round(4)
    table["y"] = (x1 + 0.3 * rng.normal(size=n) > 0).astype(int)
    table.to_csv(root / "samples.csv", index=False)
    (root / "predict.py").write_text(PREDICT)
    variants = ", ".join(f'"{v}"' for v in VARIANTS)
    spec = SPEC.format(folds=folds, sleep=sleep, python=sys.executable, variants=variants)
    (root / "foldrun.toml").write_text(spec + (RACE if race else ""))
    return root / "foldrun.toml"


def run_once(base: Path, arm: str, folds: int, sleep: float) -> tuple[float, str, str]:
    """(wall seconds, winner, the run's first summary line) of one fresh CLI run."""
    root = base / f"{arm}-{time.monotonic_ns()}"
    spec = write_project(root, folds, sleep, race=arm != "full")
    if arm == "waves":
        command = [sys.executable, "-c", WAVES, "run", str(spec), "--jobs", "2"]
    else:
        command = [str(Path(sys.executable).parent / "foldrun"), "run", str(spec), "--jobs", "2"]
    began = time.perf_counter()
    done = subprocess.run(command, cwd=root, capture_output=True, text=True)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{arm}: exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    found = re.search(r"^\s*1\. m/(\S+):", done.stdout, re.M)
    if found is None:
        print(f"{arm}: no ranking in its output:\n{done.stdout}", file=sys.stderr)
    shutil.rmtree(root, ignore_errors=True)
    return wall, found.group(1) if found else "?", done.stdout.splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sleep", type=float, default=1.0)
    parser.add_argument("--waves", action="store_true")
    args = parser.parse_args()
    arms = ["race", "full"] + (["waves"] if args.waves else [])
    walls: dict[str, list[float]] = {arm: [] for arm in arms}
    winners: dict[str, set[str]] = {arm: set() for arm in arms}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for arm in arms:
                load = os.getloadavg()[0]
                wall, winner, line = run_once(Path(tmp), arm, args.folds, args.sleep)
                walls[arm].append(wall)
                winners[arm].add(winner)
                print(f"[{repeat}] {arm:5s} load {load:5.2f}  {wall:6.1f} s  winner {winner}"
                      f"  | {line}", flush=True)  # fmt: skip
    median = {arm: statistics.median(w) for arm, w in walls.items()}
    for arm in arms:
        print(f"{arm:5s} median {median[arm]:6.1f} s  runs {[round(w, 1) for w in walls[arm]]}"
              f"  winners {sorted(winners[arm])}")  # fmt: skip
    print(f"race / full = {median['race'] / median['full']:.2f}")
    if args.waves:
        print(f"waves / full = {median['waves'] / median['full']:.2f}")


if __name__ == "__main__":
    main()
