"""`foldrun status`, `query` and `report` of a finished, unchanged 10,000-task run through the
CLI (issue 26 item 2), each a fresh process.

    .venv/bin/python benchmarks/bench_fresh.py [--tasks 10000] [--runs 3] [--dir /tmp/x]
                                               [--src OTHER/src ...] [--only status,query]
                                               [--when cold,warm]

The run: the spec of bench_status.py (two estimator models, grids sized to TASKS tasks, 5
folds, a refit per variant), planned by foldrun (its split made), and every planned task
committed as the worker leaves it (DONE with the plan's fingerprint, resources.json,
predictions.parquet of the fold's test rows, an evaluate's metrics.json): nothing is
trained. Made once under --dir.

Each version gets its own copy of the run (`<dir>-v<i>`, mtimes kept), unchanged
throughout: its result tables and report figures are made once first. Each round runs
every command once per version (`--src`: a `src` folder to put first on PYTHONPATH, e.g.
an export of an earlier commit; default: this checkout), each version "cold" (the plan
cache `.foldrun/plan/` removed first: the spec is planned again) and "warm" (as the
previous command left it; for status, after a query, since status keeps nothing),
interleaved: A cold, A warm, B cold, B warm, ... (`--when warm`: the warm runs alone;
`--only`: those commands, and only their result tables or report made first).
Prints medians of wall and CPU (user + system) seconds, and the load average of each
round (on a loaded machine CPU time is the steadier figure).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_status import write_spec

from foldrun.layout import RunLayout
from foldrun.results.fast import classification_arrays

QUERY = ("SELECT model, count(*) AS n, avg(value) AS mean FROM metrics "
         "WHERE subset = 'test' AND metric = 'roc_auc' GROUP BY ALL")  # fmt: skip


def make_run(root: Path, tasks: int) -> Path:
    """The spec of a finished run of `tasks` planned tasks (made once)."""
    spec = root / "foldrun.toml"
    if (root / ".complete").exists():
        return spec
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    spec = write_spec(root, tasks)
    from foldrun.plan import build_plan
    from foldrun.spec import load_spec

    plan = build_plan(load_spec(spec), write=True)
    run_dir = next(iter(plan.tasks.values())).recipe.run_dir
    folds = pd.read_parquet(RunLayout(run_dir).split_dir / "folds.parquet")
    truth = pd.read_csv(root / "samples.csv", dtype={"id": str})
    rng = np.random.default_rng(0)
    for task in plan.tasks.values():
        _commit(task, folds, truth, rng)
    (root / ".complete").write_text("ok")
    return spec


def _commit(task, folds: pd.DataFrame, truth: pd.DataFrame, rng) -> None:  # type: ignore[no-untyped-def]
    path = Path(task.task_dir)
    path.mkdir(parents=True, exist_ok=True)
    resources = {"started": "2026-12-07T10:00:00+00:00", "ended": "2026-12-07T10:00:02+00:00",
                 "wall_s": 2.0, "cpu_s": 1.8, "peak_mb": 120.0, "exit_code": 0,
                 "host": "localhost", "gpus": []}  # fmt: skip
    (path / "resources.json").write_text(json.dumps(resources))
    (path / "cmd.txt").write_text(f"estimator {task.model} {task.variant}\n")
    if task.stage in ("predict", "evaluate") and task.fold >= 0:
        _predictions(path, task, folds, truth, rng)
    (path / "DONE").write_text(task.fingerprint + "\n")


def _predictions(path: Path, task, folds, truth, rng) -> None:  # type: ignore[no-untyped-def]
    rows = folds[(folds["fold"] == task.fold) & (folds["subset"] == "test")]
    ids = truth["id"].iloc[rows["row"].to_numpy()].to_numpy() if "row" in rows else rows["id"]
    part = truth.set_index("id").loc[list(ids)].reset_index()
    y = part["label"].to_numpy()
    p1 = np.clip(0.3 + 0.4 * y + rng.normal(0, 0.2, len(y)), 0, 1)
    df = pd.DataFrame({"id": part["id"].astype(str), "subset": "test",
                       "pred": np.where(p1 > 0.5, "1", "0"),
                       "proba_0": 1 - p1, "proba_1": p1})  # fmt: skip
    if task.stage == "evaluate":
        df["y_true"] = y.astype(str)
        scores = classification_arrays(y.astype(str), np.c_[1 - p1, p1], None, ["0", "1"]) or {}
        (path / "metrics.json").write_text(json.dumps({f"test/{k}": v for k, v in scores.items()}))
    df.to_parquet(path / "predictions.parquet", index=False)


def commands(spec: Path) -> dict[str, list[str]]:
    # the report in the run folder's report/, as users make it: an --out beside the spec
    # changes the spec's folder, which the plan cache keys on (every report planned again)
    return {"status": ["status", str(spec)], "query": ["query", str(spec), QUERY],
            "report": ["report", str(spec)]}  # fmt: skip


def forget(spec: Path) -> None:
    """The plan cache (a version without one has nothing to forget)."""
    shutil.rmtree(spec.parent / "runs" / "status-bench" / ".foldrun" / "plan", ignore_errors=True)


def timed(src: str | None, argv: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one fresh `python -m foldrun` process."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "foldrun", *argv], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{argv[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return took, cpu


def copy_for(spec: Path, i: int) -> Path:
    """Version i's own copy of the run (its own results/ and .foldrun/: versions keep
    different caches), made once with mtimes kept."""
    root = spec.parent.with_name(f"{spec.parent.name}-v{i}")
    if not (root / ".complete").exists():
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run(["cp", "-a", str(spec.parent), str(root)], check=True)
    return root / spec.name


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/foldrun-bench-fresh"))
    parser.add_argument("--src", action="append", default=[], help="a src folder (versions)")
    parser.add_argument("--only", default="status,query,report")
    parser.add_argument("--when", default="cold,warm", help="cold, warm or both")
    args = parser.parse_args()
    start = time.perf_counter()
    spec = make_run(args.dir, args.tasks)
    print(f"run: {spec} (ready in {time.perf_counter() - start:.0f} s)")
    versions = args.src or [""]
    specs = [copy_for(spec, i) for i in range(len(versions))]
    wanted = args.only.split(",")
    times: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for src, own in zip(versions, specs, strict=True):  # tables and figures, made once
        for name in ("query", "report"):
            if name in wanted or (name == "query" and "status" in wanted):
                timed(src, commands(own)[name])
    loads = [os.getloadavg()[0]]
    for _ in range(args.runs):
        for name in wanted:
            for src, own in zip(versions, specs, strict=True):
                for when in args.when.split(","):
                    if when == "cold":
                        forget(own)
                    elif name == "status":  # status keeps no plan: a query did, as after
                        timed(src, commands(own)["query"])  # any query or report
                    took = timed(src, commands(own)[name])
                    times.setdefault((name, src or "this", when), []).append(took)
        loads.append(os.getloadavg()[0])
    for (name, src, when), values in times.items():
        walls, cpus = [v[0] for v in values], [v[1] for v in values]
        print(f"{name:7s} {when:5s} {src}: wall median {statistics.median(walls):.2f} s "
              f"of {[round(v, 2) for v in walls]}; cpu median {statistics.median(cpus):.2f} s "
              f"of {[round(v, 2) for v in cpus]}")  # fmt: skip
    print(f"load average (1 min) per round: {[round(x, 1) for x in loads]} on "
          f"{os.cpu_count()} cores")  # fmt: skip


if __name__ == "__main__":
    main()
