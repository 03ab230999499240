"""Tracking figures: 10,000 foldrun.log calls from a task, and the MLflow export of a 210-run run.

    .venv/bin/python benchmarks/bench_track.py [--before GIT_REV]

Compares foldrun.log with the naive alternative (open/append/close per point, what the
entry adapter's ctx.log does), and the export (30 model x variants x (5 folds + refit):
30 parent + 180 child runs, 20-step curves, artifacts) with a repeated (no-op) export.
`--before REV` also times the export code of that commit in the same process, on a copy
of the same run folder and a fresh store of its own, so both figures share the machine's load.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


def exporter_at(rev: str) -> ModuleType:
    """foldrun.track.mlflow as it was at git revision `rev` (the rest of foldrun as now)."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:src/foldrun/track/mlflow.py"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    spec = importlib.util.spec_from_loader(f"foldrun_track_mlflow_{rev}", loader=None)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[module.__name__] = module  # its dataclasses look their module up there
    exec(compile(source, f"{rev}:mlflow.py", "exec"), module.__dict__)
    return module


def fresh_store(path: Path) -> tuple[str, float]:
    """A sqlite store with MLflow's tables made (its migrations are not export time)."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{path}"
    t0 = time.perf_counter()
    MlflowClient(tracking_uri=uri).search_experiments()
    return uri, time.perf_counter() - t0


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def timed_export(export_run, root: Path, uri: str) -> tuple[str, int, object]:
    """'<wall> s (<cpu> s CPU)', lines printed to stdout, report. The CPU time says what the
    export costs when the wall time says more about the machine's load."""
    out = io.StringIO()
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    with contextlib.redirect_stdout(out):
        report = export_run(root, tracking_uri=uri, experiment="bench")
    seconds = f"{time.perf_counter() - t0:.1f} s ({cpu_seconds() - cpu0:.1f} s CPU)"
    assert report.ok, report.line()
    return seconds, len(out.getvalue().splitlines()), report


def bench_export(folder: Path, before: str | None) -> None:
    from tests.fixtures.synthetic_run import RunShape, write_run

    from foldrun.track.mlflow import export_run

    shape = RunShape(
        models={"logreg": 0.8, "rf": 0.5, "svm": 0.6, "knn": 0.7},
        grid={
            "rf": {"n_estimators": [100, 200, 300, 500], "max_depth": [4, 8, 16, 32]},
            "svm": {"C": [0.1, 1, 10], "gamma": [0.01, 0.1, 1, 10]},
        },
        n_folds=5,
        curves=20,
    )
    root = write_run(folder / "run", shape)
    for train in root.glob("tasks/*/*/*/*"):
        if train.name in ("train", "refit"):
            (train / "model.joblib").write_bytes(os.urandom(200_000))  # a model file each
    if before:
        old_root = folder / "run_before"
        shutil.copytree(root, old_root)
        uri, _ = fresh_store(folder / "before.db")
        seconds, lines, report = timed_export(exporter_at(before).export_run, old_root, uri)
        print(f"MLflow export (sqlite), code of {before}: {seconds}, {lines} stdout lines")
        print(f"  {report.line()}")  # type: ignore[attr-defined]
    synced_root = folder / "run_synced"
    shutil.copytree(root, synced_root)
    uri, migrations = fresh_store(folder / "mlflow.db")
    seconds, lines, report = timed_export(export_run, root, uri)
    again, _, _ = timed_export(export_run, root, uri)
    print(
        f"MLflow export (sqlite), this code: {seconds}, {lines} stdout lines; "
        f"repeated (no-op) {again}; making the store (migrations, once) {migrations:.1f} s"
    )
    print(f"  {report.line()}")  # type: ignore[attr-defined]
    os.environ["FOLDRUN_MLFLOW_SQLITE_SYNC"] = "1"  # what the fsync per commit costs
    uri, _ = fresh_store(folder / "synced.db")
    seconds, _, _ = timed_export(export_run, synced_root, uri)
    del os.environ["FOLDRUN_MLFLOW_SQLITE_SYNC"]
    print(f"MLflow export (sqlite), this code with an fsync per commit: {seconds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="also time the export code of this git revision")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ours, naive = bench_log(Path(tmp))
        print(
            f"foldrun.log x {N_POINTS}: {ours:.3f} s (median of 5); "
            f"open/append/close per point: {naive:.3f} s ({naive / ours:.1f}x slower)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        import mlflow  # noqa: F401  (import time is not export time)

        bench_export(Path(tmp), args.before)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
