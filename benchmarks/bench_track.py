"""Tracking figures: 10,000 foldrun.log calls from a task, and the MLflow export of a ~250-task run.

    .venv/bin/python benchmarks/bench_track.py

Compares foldrun.log with the naive alternative (open/append/close per point, what the
entry adapter's ctx.log does) and the export with a first and a repeated (no-op) export.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

N_POINTS = 10_000


def bench_log(folder: Path) -> tuple[float, float]:
    from foldrun.track import log as tlog

    os.environ["FOLDRUN_TASK_DIR"] = str(folder)
    times, naive = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        for i in range(N_POINTS):
            tlog.log("loss", 1.0 / (i + 1), step=i)
        tlog.flush()
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for i in range(N_POINTS):
            line = {"name": "loss", "value": 1.0 / (i + 1), "step": i, "time": time.time()}
            with open(folder / "naive.jsonl", "a") as fh:
                fh.write(json.dumps(line) + "\n")
        naive.append(time.perf_counter() - t0)
    lines = len((folder / "metrics.jsonl").read_text().splitlines())
    assert lines == 5 * N_POINTS, lines
    return statistics.median(times), statistics.median(naive)


def bench_export(folder: Path) -> tuple[int, float, float]:
    from tests.fixtures.synthetic_run import RunShape, write_run

    from foldrun.results.collect import discover
    from foldrun.track.mlflow import export_run

    shape = RunShape(
        models={"logreg": 0.8, "rf": 0.5, "svm": 0.6, "knn": 0.7},
        grid={"rf": {"n_estimators": [100, 300], "max_depth": [4, 8]}, "svm": {"C": [1, 10]}},
        n_folds=10,
        curves=20,
    )
    root = write_run(folder / "run", shape)
    n_tasks = len(discover(root / "tasks"))
    uri = f"sqlite:///{folder}/mlflow.db"
    t0 = time.perf_counter()
    first = export_run(root, tracking_uri=uri, experiment="bench")
    t_first = time.perf_counter() - t0
    assert first.ok, first.line()
    t0 = time.perf_counter()
    again = export_run(root, tracking_uri=uri, experiment="bench")
    assert again.created == 0, again.line()
    return n_tasks, t_first, time.perf_counter() - t0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ours, naive = bench_log(Path(tmp))
        print(
            f"foldrun.log x {N_POINTS}: {ours:.3f} s (median of 5); "
            f"open/append/close per point: {naive:.3f} s ({naive / ours:.1f}x slower)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        import mlflow  # noqa: F401  (import time is not export time)

        n, first, again = bench_export(Path(tmp))
        print(
            f"MLflow export (sqlite) of {n} tasks: first {first:.1f} s "
            f"(incl. creating the store), repeated (no-op) {again:.2f} s"
        )


if __name__ == "__main__":
    main()
