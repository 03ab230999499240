"""Many datasets in one spec (issue 13): 9 sub-databases x 2 models x 10 folds.

    .venv/bin/python benchmarks/bench_datasets.py [--repeats 3] [--root /tmp/foldrun-bench-ds]

The data is shaped like seed 002's (mPower audio): string patient ids (UUIDs), recordings as
rows, skewed groups (a few patients with many recordings), nine sub-databases sharing one
table (`filter = "subdb == 'subdbN'"`). Measured, as the user runs them (the console script,
a fresh interpreter each time, so imports count):

- `foldrun check` and `foldrun run --dry-run` before anything is made (the nine splits are
  made in memory) and once the run is done (target < 2 s),
- `foldrun run -j 2` (once: the 558 tasks),
- `foldrun run` again, nothing to do (target < 1.5 s),
- `foldrun report` from scratch and unchanged (target < 10 s),

beside the way it had to be done before: nine specs, one per sub-database, each checked,
rerun and reported on its own (nine interpreter start-ups, nine plans, nine reports) and a
tenth `foldrun report A B ... --out` to compare them. Medians of --repeats; wall and CPU
(the child processes' user + system time).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

FOLDRUN = str(Path(sys.executable).parent / "foldrun")
N_DATASETS = 9
HEAD = """name = "{name}"
[data]
table = "recordings.csv"
id = "recording"
target = "label"
group = "patient"
features = ["f0", "f1", "f2", "f3"]
[split]
strategy = "stratified-grouped"
folds = 10
seed = 3
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
[models.tree]
estimator = "sklearn.tree:DecisionTreeClassifier"
params = {{ max_depth = 4 }}
"""


def make_table(root: Path, seed: int = 0) -> None:
    """~5,400 recordings of 900 patients (UUIDs), heavy-tailed recordings per patient."""
    rng = np.random.default_rng(seed)
    patients = [str(uuid.UUID(int=int(rng.integers(0, 2**63)))) for _ in range(900)]
    counts = np.minimum(rng.zipf(1.6, size=900), 60)  # a few patients with many rows
    rows = np.repeat(np.arange(900), counts)
    x = rng.normal(size=(len(rows), 4))
    sick = rng.random(900) < 0.4
    label = sick[rows].astype(int)
    x[:, 0] += label * 0.8
    frame = pd.DataFrame(x, columns=["f0", "f1", "f2", "f3"])
    frame.insert(0, "recording", [f"rec-{i:06d}" for i in range(len(rows))])
    frame.insert(1, "patient", [patients[r] for r in rows])
    frame["subdb"] = [f"subdb{1 + r % N_DATASETS}" for r in rows]  # patients per sub-database
    frame["label"] = label
    frame.to_csv(root / "recordings.csv", index=False)


def write_specs(root: Path) -> tuple[Path, list[Path]]:
    one = HEAD.format(name="all9") + "".join(
        f"[datasets.subdb{i}]\nfilter = \"subdb == 'subdb{i}'\"\n" for i in range(1, N_DATASETS + 1)
    )
    (root / "foldrun.toml").write_text(one)
    nine = []
    for i in range(1, N_DATASETS + 1):
        text = HEAD.format(name=f"subdb{i}").replace(
            "[split]", f"filter = \"subdb == 'subdb{i}'\"\n[split]"
        )
        path = root / f"subdb{i}.toml"
        path.write_text(text)
        nine.append(path)
    return root / "foldrun.toml", nine


def timed(*commands: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of running the commands one after the other."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    for argv in commands:
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def median(fn, repeats: int) -> tuple[float, float]:
    runs = [fn() for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--root", default="/tmp/foldrun-bench-ds")
    args = parser.parse_args()
    root = Path(args.root)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    make_table(root)
    one, nine = write_specs(root)
    rows = []

    def row(what: str, ours: tuple[float, float], theirs: tuple[float, float] | None) -> None:
        rows.append((what, ours, theirs))
        print(what, ours, theirs, flush=True)

    row("check (nothing made yet)",
        median(lambda: timed([FOLDRUN, "check", str(one)]), args.repeats),
        median(lambda: timed(*[[FOLDRUN, "check", str(s)] for s in nine]),
               args.repeats))  # fmt: skip
    row("run --dry-run (nothing made yet)",
        median(lambda: timed([FOLDRUN, "run", str(one), "--dry-run"]), args.repeats),
        median(lambda: timed(*[[FOLDRUN, "run", str(s), "--dry-run"] for s in nine]),
               args.repeats))  # fmt: skip
    row("run -j 2 (558 tasks)", timed([FOLDRUN, "run", str(one), "-j", "2"]),
        timed(*[[FOLDRUN, "run", str(s), "-j", "2"] for s in nine]))  # fmt: skip
    row("check (split made)",
        median(lambda: timed([FOLDRUN, "check", str(one)]), args.repeats),
        median(lambda: timed(*[[FOLDRUN, "check", str(s)] for s in nine]),
               args.repeats))  # fmt: skip
    row("run --dry-run (split made, all done)",
        median(lambda: timed([FOLDRUN, "run", str(one), "--dry-run"]), args.repeats),
        median(lambda: timed(*[[FOLDRUN, "run", str(s), "--dry-run"] for s in nine]),
               args.repeats))  # fmt: skip
    row("run again, nothing to do",
        median(lambda: timed([FOLDRUN, "run", str(one)]), args.repeats),
        median(lambda: timed(*[[FOLDRUN, "run", str(s)] for s in nine]), args.repeats))  # fmt: skip
    across = [FOLDRUN, "report", *map(str, nine), "--out", str(root / "across")]

    def fresh_report(specs: list[Path]) -> tuple[float, float]:
        for spec in specs:  # no results tables, no plot cache, no report
            base = root / "runs" / ("all9" if spec == one else spec.stem)
            for sub in ("results", "report"):
                shutil.rmtree(base / sub, ignore_errors=True)
        shutil.rmtree(root / "across", ignore_errors=True)
        if specs == [one]:
            return timed([FOLDRUN, "report", str(one)])
        return timed(*[[FOLDRUN, "report", str(s)] for s in specs], across)

    row("report from scratch", median(lambda: fresh_report([one]), args.repeats),
        median(lambda: fresh_report(nine), args.repeats))  # fmt: skip
    row("report again, nothing changed",
        median(lambda: timed([FOLDRUN, "report", str(one)]), args.repeats),
        median(lambda: timed(*[[FOLDRUN, "report", str(s)] for s in nine], across),
               args.repeats))  # fmt: skip
    print(f"\nload {os.getloadavg()[0]:.1f}; medians of {args.repeats}; wall / cpu seconds")
    print("| what | one spec, 9 datasets | 9 specs (+ report across) |")
    print("| --- | --- | --- |")
    for what, ours, theirs in rows:
        other = f"{theirs[0]:.2f} / {theirs[1]:.2f}" if theirs else ""
        print(f"| {what} | {ours[0]:.2f} / {ours[1]:.2f} | {other} |")


if __name__ == "__main__":
    main()
