"""10,000 train-only tasks against 10,000 tasks of the shape a train-only model had before
(issue 24 item 9), in the same run of this script: planning, a no-op resume and the report.

    .venv/bin/python benchmarks/bench_train_only.py [--tasks 10000] [--folds 10] [--repeats 3]

Three specs on one 100-row table, FOLDS folds:
- `train-only`: a command model with `train` alone and a grid of tasks / FOLDS variants:
  one train task per fold, which scores its own predictions (metrics.json with test/<m>,
  predictions.parquet with y_true);
- `train+evaluate, same tasks`: as many tasks, as a train and an evaluate task per fold
  (half the variants): the plan a train-only model got before, its evaluate holding the
  metrics and the scored predictions;
- `train+evaluate, same variants`: the train-only experiment as it was planned before
  (twice the tasks).

Nothing is run: the task folders are written from the plan as the worker commits them
(DONE with the fingerprint, resources.json, metrics.json, predictions.parquet), so both
runs are done and whole. Prints medians (wall and CPU, the specs interleaved in each
round) of: load_spec + build_plan in process; a no-op `Project.run()` (plan, every DONE
read, nothing to run); `build_report` from scratch (results/ and report/ removed first).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from foldrun.api import Project
from foldrun.plan import build_plan
from foldrun.report import build_report
from foldrun.spec import load_spec

SPEC = """\
name = "bench"
[data]
table = "samples.csv"
id = "id"
target = "label"
task = "classification"
[split]
folds = 5
seed = 0
[models.qc]
train = "python train.py {{train}} {{test}} {{predictions}} {{a}} {{b}}"
{evaluate}grid = {{ a = {a}, b = {b} }}
"""


def write_project(root: Path, variants: int, evaluate: bool, folds: int) -> Path:
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"id": [f"s{i:03d}" for i in range(100)], "x": rng.normal(size=100),
                          "label": np.tile([0, 1], 50)})  # fmt: skip
    table.to_csv(root / "samples.csv", index=False)
    (root / "train.py").write_text("import sys\n")
    (root / "score.py").write_text("import sys\n")
    a = list(range(variants // 50 or 1))
    b = list(range(variants // len(a)))
    text = SPEC.format(a=a, b=b, evaluate='evaluate = "python score.py {predictions}"\n'
                       if evaluate else "")  # fmt: skip
    (root / "foldrun.toml").write_text(text.replace("folds = 5", f"folds = {folds}"))
    return root / "foldrun.toml"


def fabricate(spec_path: Path) -> int:
    """Every planned task's folder as the worker commits it; returns the task count."""
    plan = build_plan(load_spec(spec_path), write=True)
    truth = pd.read_csv(spec_path.parent / "samples.csv", dtype={"id": str})
    rng = np.random.default_rng(1)
    for task in plan.tasks.values():
        folder = Path(task.task_dir)
        folder.mkdir(parents=True, exist_ok=True)
        scored = task.stage == "evaluate" or task.recipe.scores
        if scored:
            test = pd.read_csv(task.recipe.inputs["test"], dtype={"id": str})
            y = truth.set_index("id").loc[test["id"], "label"].to_numpy()
            score = np.clip(y * 0.6 + rng.normal(0.2, 0.2, len(y)), 0, 1)
            pd.DataFrame({"id": test["id"], "subset": "test", "score": score, "y_true": y}
                         ).to_parquet(folder / "predictions.parquet", index=False)  # fmt: skip
            auc = float(np.mean(score[y == 1][:, None] > score[y == 0][None, :]))
            metrics = {"test/roc_auc": auc, "test/accuracy": float(np.mean((score > .5) == y))}
            (folder / "metrics.json").write_text(json.dumps(metrics))
        (folder / "resources.json").write_text(json.dumps(
            {"started": "2026-12-07T10:00:00+00:00", "ended": "2026-12-07T10:00:01+00:00",
             "wall_s": 1.0, "cpu_s": 0.5, "peak_mb": 10.0, "exit_code": 0}))  # fmt: skip
        (folder / "DONE").write_text(task.fingerprint + "\n")
    return len(plan.tasks)


def cpu_s() -> float:
    """CPU seconds of this process and its waited-for children (the report's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), cpu_s()
    fn()
    return time.perf_counter() - wall, cpu_s() - cpu


def one_round(spec_path: Path) -> dict[str, tuple[float, float]]:
    """(wall, CPU) of planning, a no-op resume and a report from scratch."""
    run_dir = spec_path.parent / "runs" / "bench"

    def resume() -> None:
        outcome = Project.load(spec_path).run()
        assert outcome.ok and not outcome.ran, outcome

    found = {"plan": timed(lambda: build_plan(load_spec(spec_path))), "resume": timed(resume)}
    shutil.rmtree(run_dir / "results", ignore_errors=True)
    shutil.rmtree(run_dir / "report", ignore_errors=True)
    found["report"] = timed(lambda: build_report(spec_path))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        variants = args.tasks // args.folds
        shapes = {"train-only": (variants, False),
                  "train+evaluate, same tasks": (variants // 2, True),
                  "train+evaluate, same variants": (variants, True)}  # fmt: skip
        specs = {name: write_project(Path(tmp) / str(i), v, e, args.folds)
                 for i, (name, (v, e)) in enumerate(shapes.items())}  # fmt: skip
        counts = {name: fabricate(path) for name, path in specs.items()}
        rounds = [{n: one_round(p) for n, p in specs.items()} for _ in range(args.repeats)]
    for name in specs:  # medians over the rounds, the specs interleaved in each
        shown = ", ".join(
            f"{what} {statistics.median(r[name][what][0] for r in rounds):.2f} s "
            f"(CPU {statistics.median(r[name][what][1] for r in rounds):.2f} s)"
            for what in ("plan", "resume", "report")
        )
        print(f"{name:30s} {counts[name]:6d} tasks: {shown}", flush=True)


if __name__ == "__main__":
    main()
