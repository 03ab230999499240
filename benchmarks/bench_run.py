"""Orchestration overhead of the local backend, against Snakemake, and resume time.

    .venv/bin/python benchmarks/bench_run.py [--tasks 500] [--repeats 3] [--snakemake PATH]

1. Overhead: N independent tasks whose command is `true`, --jobs 2. Baseline: the same N
   `bash -c true` run by `xargs -P 2` (the process start itself). Reports the wall time and
   the overhead per task beyond the baseline, for foldrun (runner + fork server + worker +
   task folder with DONE, fsync, atomic rename, audit line) and for Snakemake (`--cores 2`,
   one rule `true && touch {output}`; Snakemake needs an output file per job).
2. Resume: `foldrun run SPEC` (the console script, a fresh interpreter) on a spec of ~1,000
   tasks that are all done: plan, check every fingerprint, exit. Target < 1.5 s.

Snakemake is not a foldrun dependency: install it anywhere (`pip install snakemake`) and
pass `--snakemake` or put it on PATH; without it that column is skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from foldrun.plan.task import PlannedTask, Resources
from foldrun.run.runner import run_planned

ROOT = Path(__file__).resolve().parents[1]
FOLDRUN = str(Path(sys.executable).parent / "foldrun")


def true_tasks(run_dir: Path, n: int) -> dict[str, PlannedTask]:
    tasks = {}
    for i in range(n):
        key = f"m{i // 100}/default/fold_{i % 100:02d}/train"
        meta = {
            "kind": "command",
            "command": "true",
            "params": {},
            "inputs": {},
            "data": {},
            "seed": 0,
            "run_dir": str(run_dir),
            "upstream": {},
            "spec_path": str(run_dir / "foldrun.toml"),
            "n_repeats": 1,
        }
        tasks[key] = PlannedTask(
            key=key,
            model=f"m{i // 100}",
            variant="default",
            fold=i % 100,
            repeat=0,
            stage="train",
            deps=(),
            resources=Resources(),
            task_dir=run_dir / "tasks" / key,
            fingerprint=hashlib.sha256(key.encode()).hexdigest(),
            meta=meta,
        )
    return tasks


def time_baseline(n: int) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        ["xargs", "-P", "2", "-n", "1", "bash", "-c", "true"],
        input="\n".join(["x"] * n),
        text=True,
        check=True,
    )
    return time.perf_counter() - t0


def time_foldrun(n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp)
        tasks = true_tasks(run_dir, n)
        t0 = time.perf_counter()
        result = run_planned(run_dir / "foldrun.toml", run_dir, tasks, jobs=2, gpus=())
        elapsed = time.perf_counter() - t0
        assert result.counts["done"] == n, result.counts
        return elapsed


def time_snakemake(snakemake: str, n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "Snakefile").write_text(
            f'rule all:\n    input: expand("out/{{i}}.done", i=range({n}))\n\n'
            'rule t:\n    output: "out/{i}.done"\n    shell: "true && touch {output}"\n'
        )
        t0 = time.perf_counter()
        subprocess.run(
            [snakemake, "--cores", "2", "--quiet", "all"],
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - t0


RESUME_SPEC = """
name = "resume"
[data]
table = "samples.csv"
id = "id"
target = "label"
group = "patient"
[split]
folds = 5
seed = 0
[models.cmd]
train = "true {{train}} {{out}} {{k}}"
predict = "true {{test}} {{predictions}}"
grid = {{ k = [{values}] }}
"""


def resume_project(root: Path, variants: int) -> tuple[Path, int]:
    """A spec of 5 folds x `variants` x 3 stages whose tasks all look done (DONE files with
    the plan's fingerprints, as a finished run leaves them)."""
    from foldrun.data.example import write_example_table
    from foldrun.run.runner import plan_spec

    write_example_table(root / "samples.csv")
    spec = root / "foldrun.toml"
    spec.write_text(RESUME_SPEC.format(values=", ".join(map(str, range(variants)))))
    _, tasks = plan_spec(spec)
    for task in tasks.values():
        task.task_dir.mkdir(parents=True, exist_ok=True)
        (task.task_dir / "DONE").write_text(task.fingerprint + "\n")
    return spec, len(tasks)


def time_resume(spec: Path) -> float:
    t0 = time.perf_counter()
    out = subprocess.run([FOLDRUN, "run", str(spec)], capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    assert out.returncode == 0 and "0 task(s) run" in out.stdout, out.stdout + out.stderr
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--snakemake", default=shutil.which("snakemake"))
    args = parser.parse_args()
    n = args.tasks
    rows: dict[str, list[float]] = {"baseline": [], "foldrun": [], "snakemake": []}
    for _ in range(args.repeats):  # interleaved, so load changes hit every tool alike
        rows["baseline"].append(time_baseline(n))
        rows["foldrun"].append(time_foldrun(n))
        if args.snakemake:
            rows["snakemake"].append(time_snakemake(args.snakemake, n))
    base = statistics.median(rows["baseline"])
    print(
        f"{n} tasks of `true`, 2 slots, median of {args.repeats} (load avg "
        f"{os.getloadavg()[0]:.1f}):"
    )
    overhead = {}
    for name, times in rows.items():
        if not times:
            continue
        wall = statistics.median(times)
        overhead[name] = (wall - base) / n * 1000
        print(f"  {name:<10} wall {wall:7.2f} s   overhead {overhead[name]:7.1f} ms/task")
    if "snakemake" in overhead and overhead["foldrun"] > 0:
        ratio = overhead["snakemake"] / overhead["foldrun"]
        print(f"  snakemake / foldrun overhead ratio: {ratio:.1f}x")
    with tempfile.TemporaryDirectory() as tmp:
        spec, count = resume_project(Path(tmp), variants=67)
        times = [time_resume(spec) for _ in range(max(args.repeats, 3))]
        print(
            f"resume of {count} done tasks (foldrun run, CLI start-up included): "
            f"median {statistics.median(times):.2f} s, min {min(times):.2f} s"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
