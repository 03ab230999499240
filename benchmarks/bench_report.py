"""Report and query speed over ~10,000 finished tasks (a generated run folder).

    .venv/bin/python benchmarks/bench_report.py [--models 55] [--repeats 3] [--dir /tmp/x]
                                                [--report-only]

The run: MODELS models x a 2x2 grid (4 variants) x 3 repeats x 5 folds x (train, predict,
evaluate) + one refit per variant = 46 tasks per variant (55 models: 10,120 tasks), 500
samples (100 test rows per fold), binary classification with a holdout.

Prints medians of:
- `foldrun report` from scratch (no results/ yet: every task folder is read), in process;
- `foldrun report` again with nothing changed (the tables, the figures and the bootstrap
  intervals come from results/; from scratch wipes results/, so everything is redrawn);
- a refresh after 20 tasks changed (incremental);
- `foldrun query` group-by after start-up (in process: refresh check + DuckDB), and the
  whole console script in a fresh interpreter;
- the hand-made baseline a notebook does: glob every metrics.json, json.load, pandas
  group-by mean/std (no intervals, no plots, no predictions).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd
from tests.fixtures.synthetic_run import RunShape, write_run

from foldrun.report import build_report
from foldrun.results.query import run_query
from foldrun.results.refresh import refresh

GROUP_BY = (
    "SELECT model, variant, avg(value) AS mean, stddev(value) AS std, count(*) AS n "
    "FROM metrics WHERE subset = 'test' AND metric = 'roc_auc' GROUP BY ALL ORDER BY mean DESC"
)


def make_run(root: Path, n_models: int) -> Path:
    marker = root / ".complete"
    if marker.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    models = {f"model{i:02d}": 0.3 + 0.02 * i for i in range(n_models)}
    grid = {m: {"alpha": [0.1, 1.0], "depth": [4, 8]} for m in models}
    shape = RunShape(models=models, grid=grid, n_samples=500, n_folds=5, n_repeats=3,
                     holdout=100, curves=10)  # fmt: skip
    write_run(root, shape)
    marker.write_text("ok")
    return root


def timed(fn: Callable[[], object], repeats: int, before: Callable[[], None] | None = None):
    """Median wall time, the wall times, and the median CPU time (this process, all threads,
    plus children): on a shared, oversubscribed machine CPU time is the steadier figure."""
    times, cpus = [], []
    for _ in range(repeats):
        if before:
            before()
        start, cpu = time.perf_counter(), _cpu()
        fn()
        times.append(time.perf_counter() - start)
        cpus.append(_cpu() - cpu)
    return statistics.median(times), [*times, statistics.median(cpus)]


def _cpu() -> float:
    import resource

    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + child.ru_utime + child.ru_stime


def hand_made(run: Path) -> pd.DataFrame:
    rows = []
    for path in glob.glob(str(run / "tasks/*/*/repeat_*/fold_*/evaluate/metrics.json")):
        parts = Path(path).parts
        for key, value in json.loads(Path(path).read_text()).items():
            rows.append((parts[-6], parts[-5], key, value))
    df = pd.DataFrame(rows, columns=["model", "variant", "metric", "value"])
    return df.groupby(["model", "variant", "metric"])["value"].agg(["mean", "std"])


def touch(run: Path, n: int) -> None:
    for path in sorted(run.glob("tasks/*/*/repeat_00/fold_00/evaluate"))[:n]:
        done = path / "DONE"
        done.write_text(done.read_text() + "x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=55)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/foldrun-bench-report"))
    parser.add_argument("--report-only", action="store_true",
                        help="only the two report timings (to alternate two versions)")  # fmt: skip
    args = parser.parse_args()
    start = time.perf_counter()
    run = make_run(args.dir, args.models)
    n_tasks = sum(1 for _ in run.glob("tasks/*/*/*/*/*/DONE")) + sum(
        1 for _ in run.glob("tasks/*/*/all/*/DONE")
    )
    print(f"run: {run} ({n_tasks} finished tasks; ready in {time.perf_counter() - start:.0f} s)")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    def wipe() -> None:
        shutil.rmtree(run / "results", ignore_errors=True)

    out = args.dir.parent / "foldrun-bench-report-out"
    cold, t = timed(lambda: build_report(run, out), args.repeats, wipe)
    print(f"report, from scratch:        median {cold:6.2f} s  {_fmt(t)}")
    warm, t = timed(lambda: build_report(run, out), args.repeats)
    print(f"report, nothing changed:     median {warm:6.2f} s  {_fmt(t)}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if args.report_only:
        return
    inc, t = timed(lambda: refresh(run), args.repeats, lambda: touch(run, 20))
    print(f"refresh, 20 tasks changed:   median {inc:6.2f} s  {_fmt(t)}")
    query, t = timed(lambda: run_query(run, GROUP_BY), args.repeats)
    print(f"query group-by (in process): median {query:6.2f} s  {_fmt(t)}")
    fast, t = timed(lambda: run_query(run, GROUP_BY, refresh_tables=False), args.repeats)
    print(f"  same, --no-refresh:        median {fast:6.2f} s  {_fmt(t)}")
    cmd = [str(Path(sys.executable).parent / "foldrun"), "query", str(run), GROUP_BY]
    cli, t = timed(lambda: subprocess.run(cmd, check=True, capture_output=True), args.repeats)
    print(f"  console script, total:     median {cli:6.2f} s  {_fmt(t)}")
    hand, t = timed(lambda: hand_made(run), args.repeats)
    print(f"hand-made glob+json+pandas:  median {hand:6.2f} s  {_fmt(t)}")


def _fmt(t: list[float]) -> str:
    return f"runs {[round(x, 2) for x in t[:-1]]}  cpu {t[-1]:.2f} s"


if __name__ == "__main__":
    main()
