"""Planning speed: load the spec and build a plan of ~1,200 tasks, then check every DONE.

    .venv/bin/python benchmarks/bench_plan.py [--repeats 5]

Prints medians of: in-process load_spec + build_plan; a fresh interpreter doing the same
(imports included); and a fresh interpreter planning and reading every task's DONE file (the
planning half of a resume). The resume target for `foldrun run` is < 1.5 s in total.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.spec.helpers import write_spec

from foldrun.plan import build_plan
from foldrun.spec import load_spec

MODELS = """
[models.rf]
estimator = "sklearn.ensemble:RandomForestClassifier"
grid = { n_estimators = [50, 100, 200, 400, 800], max_depth = [2, 4, 8, 16, 32] }
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
grid = { C = [0.01, 0.1, 1.0, 10.0] }
[models.cmd]
train = "true {train} {out} {lr}"
predict = "true {test} {predictions} {threshold}"
grid = { lr = [0.1, 0.01] }
[models.cmd.stages.predict]
grid = { threshold = [0.3, 0.5, 0.7] }
"""

FRESH = """
import sys
from foldrun.spec import load_spec
from foldrun.plan import build_plan
plan = build_plan(load_spec(sys.argv[1]))
if len(sys.argv) > 2:
    from foldrun.core.state import read_fingerprint
    done = sum(read_fingerprint(t.task_dir) == t.fingerprint for t in plan.tasks.values())
    assert done == len(plan.tasks), done
"""


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec_path = write_spec(Path(tmp), MODELS, folds=10)
        plan = build_plan(load_spec(spec_path))
        n = len(plan.tasks)
        in_process = median_time(lambda: build_plan(load_spec(spec_path)), args.repeats)
        fresh = median_time(
            lambda: subprocess.run([sys.executable, "-c", FRESH, str(spec_path)], check=True),
            args.repeats,
        )
        for task in plan.tasks.values():  # as if every task had finished
            task.task_dir.mkdir(parents=True, exist_ok=True)
            (task.task_dir / "DONE").write_text(task.fingerprint)
        resume = median_time(
            lambda: subprocess.run(
                [sys.executable, "-c", FRESH, str(spec_path), "check"], check=True
            ),
            args.repeats,
        )
    print(f"tasks planned: {n}")
    print(f"load_spec + build_plan, in process:         {in_process * 1000:.0f} ms")
    print(f"fresh interpreter, imports + plan:          {fresh * 1000:.0f} ms")
    print(f"fresh interpreter, plan + read every DONE:  {resume * 1000:.0f} ms (target < 1500)")


if __name__ == "__main__":
    main()
