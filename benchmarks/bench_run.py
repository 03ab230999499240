"""Orchestration overhead of the local backend, against Snakemake, and resume time.

    .venv/bin/python benchmarks/bench_run.py [--tasks 500] [--repeats 3] [--snakemake PATH]

1. Overhead: N independent tasks whose command is `true`, --jobs 2. Baseline: the same N
   `bash -c true` run by `xargs -P 2` (the process start itself). Reports the wall time and
   the overhead per task beyond the baseline, for foldrun (runner + fork server + a reused
   slot process running the worker + task folder with DONE, syncfs, atomic rename, parent
   fsync, audit lines) and for Snakemake (`--cores 2`,
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
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from foldrun.core.task import PlannedTask, Resources, TaskRecipe
from foldrun.run.runner import run_planned

ROOT = Path(__file__).resolve().parents[1]
FOLDRUN = str(Path(sys.executable).parent / "foldrun")


def true_tasks(run_dir: Path, n: int) -> dict[str, PlannedTask]:
    tasks = {}
    for i in range(n):
        key = f"m{i // 100}/default/fold_{i % 100:02d}/train"
        recipe = TaskRecipe(
            run_dir=run_dir, kind="command", command="true", spec_path=run_dir / "foldrun.toml"
        )
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
            recipe=recipe,
        )
    return tasks


def cpu_seconds() -> float:
    """CPU time of this process and of every descendant waited for."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def measured(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its descendants) of `fn()`."""
    t0, c0 = time.perf_counter(), cpu_seconds()
    fn()
    return time.perf_counter() - t0, cpu_seconds() - c0


def time_baseline(n: int) -> tuple[float, float]:
    argv = ["xargs", "-P", "2", "-n", "1", "bash", "-c", "true"]
    return measured(lambda: subprocess.run(argv, input="x\n" * n, text=True, check=True))


def time_foldrun(n: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp)
        tasks = true_tasks(run_dir, n)
        results: list = []
        spec = run_dir / "foldrun.toml"
        times = measured(lambda: results.append(run_planned(spec, run_dir, tasks, jobs=2, gpus=())))
        assert results[0].counts["done"] == n, results[0].counts
        return times


def time_snakemake(snakemake: str, n: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "Snakefile").write_text(
            f'rule all:\n    input: expand("out/{{i}}.done", i=range({n}))\n\n'
            'rule t:\n    output: "out/{i}.done"\n    shell: "true && touch {output}"\n'
        )
        argv = [snakemake, "--cores", "2", "--quiet", "all"]
        return measured(
            lambda: subprocess.run(
                argv, cwd=tmp, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )


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
        if task.stage == "evaluate":  # an evaluate is done only with its metrics.json
            (task.task_dir / "metrics.json").write_text('{"test/accuracy": 0.5}\n')
        (task.task_dir / "DONE").write_text(task.fingerprint + "\n")
    return spec, len(tasks)


def time_resume(spec: Path) -> float:
    t0 = time.perf_counter()
    out = subprocess.run([FOLDRUN, "run", str(spec)], capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    assert out.returncode == 0 and "0 task(s) run" in out.stdout, out.stdout + out.stderr
    return elapsed


def cpu_split(n: int) -> None:
    """Where foldrun's CPU goes: the runner itself vs the task processes, fsync on and off."""
    for fsync in ("1", "0"):
        os.environ["FOLDRUN_FSYNC"] = fsync
        with tempfile.TemporaryDirectory() as tmp:
            run_dir = Path(tmp)
            tasks = true_tasks(run_dir, n)
            before = [
                resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
            ]
            t0 = time.perf_counter()
            run_planned(run_dir / "foldrun.toml", run_dir, tasks, jobs=2, gpus=())
            wall = (time.perf_counter() - t0) / n * 1000
            after = [
                resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
            ]
        ms = [
            (b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime) / n * 1000
            for a, b in zip(before, after, strict=True)
        ]
        print(
            f"FOLDRUN_FSYNC={fsync}: {wall:.1f} ms wall per task (2 slots), CPU per task: "
            f"runner {ms[0]:.2f} ms, task processes {ms[1]:.2f} ms (bash included)"
        )
    os.environ.pop("FOLDRUN_FSYNC")


def report(rows: dict[str, list[tuple[float, float]]], n: int, repeats: int) -> None:
    """Medians, and the overhead per task beyond the baseline, wall and CPU."""
    base_wall = statistics.median(w for w, _ in rows["baseline"])
    base_cpu = statistics.median(c for _, c in rows["baseline"])
    load = os.getloadavg()[0]
    print(
        f"{n} tasks of `true`, 2 slots, median of {repeats} (load avg {load:.1f}); "
        "overhead per task beyond the xargs baseline:"
    )
    overhead: dict[str, tuple[float, float]] = {}
    for name, times in rows.items():
        if not times:
            continue
        wall = statistics.median(w for w, _ in times)
        cpu = statistics.median(c for _, c in times)
        overhead[name] = ((wall - base_wall) / n * 1000, (cpu - base_cpu) / n * 1000)
        print(
            f"  {name:<10} wall {wall:7.2f} s  cpu {cpu:7.2f} s   overhead "
            f"{overhead[name][0]:6.1f} ms wall, {overhead[name][1]:6.1f} ms cpu"
        )
    if "snakemake" in overhead:
        wall_ratio = overhead["snakemake"][0] / overhead["foldrun"][0]
        cpu_ratio = overhead["snakemake"][1] / overhead["foldrun"][1]
        print(f"  snakemake / foldrun overhead: {wall_ratio:.1f}x wall, {cpu_ratio:.1f}x cpu")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--snakemake", default=shutil.which("snakemake"))
    parser.add_argument("--cpu-split", action="store_true", help="only the runner/task CPU split")
    args = parser.parse_args()
    n = args.tasks
    if args.cpu_split:
        cpu_split(n)
        return
    rows: dict[str, list[tuple[float, float]]] = {"baseline": [], "foldrun": [], "snakemake": []}
    for _ in range(args.repeats):  # interleaved, so load changes hit every tool alike
        rows["baseline"].append(time_baseline(n))
        rows["foldrun"].append(time_foldrun(n))
        if args.snakemake:
            rows["snakemake"].append(time_snakemake(args.snakemake, n))
    report(rows, n, args.repeats)
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
