"""Orchestration through the CLI, end to end, beside `xargs -P 2` and Snakemake (issue 26).

    .venv/bin/python benchmarks/bench_cli_orchestration.py [--folds 500] [--repeats 3]
        [--cases fold,train-only] [--snakemake PATH]

Every tool is a fresh process; the tools run interleaved (xargs, foldrun, Snakemake, then
again), so load changes hit each alike; medians of --repeats; the load average is printed
before each measurement. One 1,000-row table, FOLDS folds (5 folds x FOLDS/5 variants).

- `fold` (train + predict + foldrun's built-in evaluate, per fold): a command model whose
  train is `true` and whose predict copies the fold's test manifest to {predictions}
  (`[models.m.predictions] pred = "label"`: perfect predictions), then foldrun's evaluate
  scores each fold. `foldrun run --jobs 2 foldrun.toml` from an empty run folder (the
  split, the plan, 3 x FOLDS tasks, the results). xargs runs the same 2 x FOLDS commands
  (`bash -c`, one process each, train before predict of a fold); Snakemake runs them as
  two rules per fold (train -> predict, `--cores 2`; a `touch` marks train's output). Only
  foldrun scores the folds: the comparison is tilted towards the competitors.
- `train-only` (a train-only model with a target: its train task writes the predictions
  and foldrun scores them in that task): train copies the test manifest to {predictions};
  FOLDS tasks; xargs and Snakemake run the same FOLDS commands.

Overhead = (tool - xargs) / FOLDS, wall and CPU (the tool and every process it waited for).
"""

from __future__ import annotations

import argparse
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

import numpy as np
import pandas as pd

FOLDRUN = str(Path(sys.executable).parent / "foldrun")

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
[models.m]
{stages}
grid = {{ a = [{values}] }}
[models.m.predictions]
pred = "label"
"""
STAGES = {
    "fold": 'train = "true {a}"\npredict = "cp {test} {predictions}"',
    "train-only": 'train = "cp {test} {predictions}"',
}


def write_project(root: Path, case: str, folds: int) -> Path:
    root.mkdir(parents=True)
    n = 1000
    table = pd.DataFrame({"id": [f"s{i:04d}" for i in range(n)], "x": np.arange(n) % 7,
                          "label": np.tile([0, 1], n // 2)})  # fmt: skip
    table.to_csv(root / "samples.csv", index=False)
    values = ", ".join(map(str, range(max(folds // 5, 1))))
    spec = root / "foldrun.toml"
    spec.write_text(SPEC.format(stages=STAGES[case], values=values))
    return spec


def commands(split_dir: Path, out: Path, case: str, folds: int) -> list[tuple[str, ...]]:
    """Per fold, the commands foldrun runs for it (the user's steps), as rendered."""
    per_fold = []
    for i in range(folds):
        test = split_dir / f"fold_{i % 5:02d}" / "test.csv"
        copy = f"cp {test} {out / f'pred_{i}.csv'}"
        per_fold.append((f"true {i // 5}", copy) if case == "fold" else (copy,))
    return per_fold


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(fn: Callable[[], object]) -> tuple[float, float, float]:
    """(wall s, CPU s of the processes waited for, load average before)."""
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), cpu_seconds()
    fn()
    return time.perf_counter() - t0, cpu_seconds() - c0, load


def time_xargs(per_fold: list[tuple[str, ...]], out: Path) -> tuple[float, float, float]:
    out.mkdir(parents=True, exist_ok=True)
    lines = "".join(f"{c}\n" for fold in per_fold for c in fold)
    argv = ["xargs", "-P", "2", "-d", "\n", "-n", "1", "bash", "-c"]
    return measured(lambda: subprocess.run(argv, input=lines, text=True, check=True))


def time_foldrun(project: Path, case: str, folds: int, src: str | None = None
                 ) -> tuple[float, float, float]:  # fmt: skip
    """`foldrun run --jobs 2` from an empty run folder; `src`: another foldrun's src/ folder
    (PYTHONPATH), e.g. a checkout of the commit before, to compare versions interleaved."""
    shutil.rmtree(project / "runs", ignore_errors=True)
    argv = [FOLDRUN, "run", "--jobs", "2", "foldrun.toml"]
    env = {**os.environ, "PYTHONPATH": src} if src else None
    done: list[subprocess.CompletedProcess[str]] = []
    times = measured(lambda: done.append(subprocess.run(argv, cwd=project, capture_output=True,
                                                        text=True, env=env)))  # fmt: skip
    expected = folds * (3 if case == "fold" else 1)
    assert done[0].returncode == 0 and f"{expected} done" in done[0].stdout, done[0]
    return times


SNAKEFILE = """\
CMDS = {cmds!r}
rule all:
    input: expand("out/{{i}}.{last}", i=range({folds}))
rule train:
    output: "out/{{i}}.train"
    params: cmd=lambda w: CMDS[int(w.i)][0]
    shell: "{{params.cmd}} && touch {{output}}"
rule predict:
    input: "out/{{i}}.train"
    output: "out/{{i}}.predict"
    params: cmd=lambda w: CMDS[int(w.i)][-1]
    shell: "{{params.cmd}} && touch {{output}}"
"""


def time_snakemake(snakemake: str, per_fold: list[tuple[str, ...]], case: str,
                   work: Path) -> tuple[float, float, float]:  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)
    (work / "out").mkdir(parents=True)
    last = "predict" if case == "fold" else "train"
    text = SNAKEFILE.format(cmds=per_fold, folds=len(per_fold), last=last)
    (work / "Snakefile").write_text(text)
    argv = [snakemake, "--cores", "2", "--quiet", "all"]
    return measured(lambda: subprocess.run(argv, cwd=work, check=True,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))


def one_case(case: str, args: argparse.Namespace, tmp: Path) -> dict[str, list]:
    project = tmp / case
    write_project(project, case, args.folds)
    time_foldrun(project, case, args.folds)  # untimed: the split, and a warm page cache
    split_dir = _split_dir(project)
    rows: dict[str, list] = {"xargs": [], "foldrun": [], "foldrun-before": [], "snakemake": []}
    for _ in range(args.repeats):
        out = tmp / f"{case}-xargs"
        shutil.rmtree(out, ignore_errors=True)
        _add(rows, case, "xargs", time_xargs(commands(split_dir, out, case, args.folds), out))
        _add(rows, case, "foldrun", time_foldrun(project, case, args.folds))
        if args.before:
            _add(rows, case, "foldrun-before",
                 time_foldrun(project, case, args.folds, args.before))  # fmt: skip
        if args.snakemake:
            work = tmp / f"{case}-snakemake"
            per_fold = commands(split_dir, work / "out", case, args.folds)
            _add(rows, case, "snakemake", time_snakemake(args.snakemake, per_fold, case, work))
    return rows


def _add(rows: dict[str, list], case: str, tool: str, times: tuple[float, float, float]) -> None:
    """Keep a measurement and print it now: a long run cut short still says what it had."""
    rows[tool].append(times)
    print(f"  {case} {tool}: wall {times[0]:.2f} s, cpu {times[1]:.2f} s, load {times[2]:.1f}",
          flush=True)  # fmt: skip


def _split_dir(project: Path) -> Path:
    """A copy of the split foldrun made, outside the run folder each run replaces."""
    found = next(project.glob("**/fold_00/test.csv")).parent.parent
    kept = project.parent / f"{project.name}-split"
    shutil.copytree(found, kept, dirs_exist_ok=True)
    return kept


def report(case: str, rows: dict[str, list], folds: int) -> None:
    base_wall = statistics.median(r[0] for r in rows["xargs"])
    base_cpu = statistics.median(r[1] for r in rows["xargs"])
    print(f"\n{case}: {folds} folds, --jobs 2 / -P 2 / --cores 2, medians of "
          f"{len(rows['xargs'])} interleaved rounds")  # fmt: skip
    overhead = {}
    for name, times in rows.items():
        if not times:
            continue
        wall = statistics.median(r[0] for r in times)
        cpu = statistics.median(r[1] for r in times)
        loads = ", ".join(f"{r[2]:.1f}" for r in times)
        overhead[name] = ((wall - base_wall) / folds * 1000, (cpu - base_cpu) / folds * 1000)
        print(f"  {name:<10} wall {wall:7.2f} s  cpu {cpu:7.2f} s  beyond xargs "
              f"{overhead[name][0]:6.1f} ms wall, {overhead[name][1]:6.1f} ms cpu per fold"
              f"  (load {loads})")  # fmt: skip
    if "snakemake" in overhead and overhead["foldrun"][0] > 0:
        snake, ours = overhead["snakemake"], overhead["foldrun"]
        print(f"  snakemake / foldrun overhead: {snake[0] / ours[0]:.1f}x wall, "
              f"{snake[1] / max(ours[1], 1e-9):.1f}x cpu")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=500, help="a multiple of 5")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", default="fold,train-only")
    parser.add_argument("--before", help="src/ folder of another foldrun, run interleaved too")
    here = str(Path(sys.executable).parent)
    found = shutil.which("snakemake") or shutil.which("snakemake", path=here)
    parser.add_argument("--snakemake", default=found)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases.split(","):
            report(case, one_case(case, args, Path(tmp)), args.folds)


if __name__ == "__main__":
    main()
