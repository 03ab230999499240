"""`foldrun status` through the CLI on a spec of TASKS planned tasks (issue 26 item 2).

    .venv/bin/python benchmarks/bench_status.py [--tasks 10000] [--runs 3] [--args "--tasks"]

Two estimator models on a 200-row table, 5 folds, grids sized so the plan holds TASKS tasks
(16 per variant: train, predict, evaluate per fold and the refit); nothing is run, so every
task is pending and status plans the whole spec and looks at every task folder. Each timing
is a fresh `foldrun status` process (start-up, spec load and plan included); prints the
median of RUNS and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PER_VARIANT = 16  # 5 folds x (train, predict, evaluate) + the refit's train and predict


def write_spec(root: Path, tasks: int) -> Path:
    rng = np.random.default_rng(0)
    n = 200
    table = pd.DataFrame({"id": [f"s{i}" for i in range(n)], "x": rng.normal(size=n),
                          "label": rng.integers(0, 2, n)})  # fmt: skip
    table.to_csv(root / "samples.csv", index=False)
    variants = max(1, tasks // PER_VARIANT)
    half = variants // 2
    grid_a = ", ".join(str(1 + i / 1000) for i in range(variants - half))
    grid_b = ", ".join(str(1 + i / 1000) for i in range(half))
    spec = root / "foldrun.toml"
    spec.write_text(
        'name = "status-bench"\noutput = "runs/status-bench"\n'
        '[data]\ntable = "samples.csv"\nid = "id"\ntarget = "label"\ntask = "classification"\n'
        "[split]\nfolds = 5\nseed = 0\n"
        '[models.logreg]\nestimator = "sklearn.linear_model:LogisticRegression"\n'
        f"grid = {{ C = [{grid_a}] }}\n"
        '[models.ridge]\nestimator = "sklearn.linear_model:RidgeClassifier"\n'
        f"grid = {{ alpha = [{grid_b}] }}\n"
    )
    return spec


def time_status(spec: Path, extra: list[str]) -> tuple[float, int]:
    foldrun = Path(sys.executable).with_name("foldrun")
    start = time.perf_counter()
    done = subprocess.run([str(foldrun), "status", str(spec), *extra], capture_output=True,
                          text=True, cwd=spec.parent, check=False)  # fmt: skip
    return time.perf_counter() - start, len(done.stdout.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--args", default="", help="extra arguments for foldrun status")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec = write_spec(Path(tmp), args.tasks)
        load_before = os.getloadavg()
        runs = [time_status(spec, shlex.split(args.args)) for _ in range(args.runs)]
        load_after = os.getloadavg()
    times = [t for t, _ in runs]
    print(f"status {args.args or '(default)'}: median {statistics.median(times):.2f} s "
          f"of {[round(t, 2) for t in times]}, {runs[0][1]} output lines; "
          f"load {load_before[0]:.1f} -> {load_after[0]:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
