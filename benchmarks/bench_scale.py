"""`foldrun run` at 100,000 tasks through the CLI (issue 26 acceptance: the dry run <= 15 s,
a no-op resume <= 10 s, a run's peak memory <= 400 MB), each a fresh process.

    .venv/bin/python benchmarks/bench_scale.py [--tasks 100000] [--runs 3] [--dir /tmp/x]
        [--src OTHER/src ...] [--only dry,resume,rss] [--pending 2000] [--share]

- dry: `foldrun run --dry-run` of bench_status.py's spec (two estimator models, grids sized
  to TASKS tasks, 5 folds) with no run folder (removed before each): the spec loaded, split
  in memory, planned, every task folder looked at, every key printed.
- resume: `foldrun run` of bench_fresh.py's finished run of that spec (every task committed
  as the worker leaves it; each version its own copy, a first resume made untimed), which
  must run nothing: planning, every task folder read, the summary. (`--share`: one run
  folder for all versions, when their results code is the same.)
- rss: `foldrun run --jobs 2` of a label-free command model (`true`, one train task a
  fold) of TASKS tasks, all committed but the last PENDING, which it runs (their folders
  removed before each): the peak memory of the foldrun process and of its task server
  (VmHWM), and the peak of the whole tree's PSS (sampled every 0.2 s).

Each round runs every part once per version (`--src`: a `src` folder put first on
PYTHONPATH, e.g. a `git worktree` of an earlier commit; default this checkout),
interleaved. Prints medians of wall and CPU seconds (user + system of the process and its
children), the memory peaks, and the load average of each round.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import pandas as pd
import psutil
from bench_fresh import copy_for, make_run
from bench_status import write_spec

LABEL_FREE = """\
name = "scale"
output = "runs/scale"
[data]
table = "samples.csv"
id = "id"
[split]
folds = 5
seed = 0
[models.noop]
train = "true {{train}} {{k}}"
grid = {{ k = [{grid}] }}
[report]
primary_metric = "none"
"""


def env_of(src: str) -> dict[str, str]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    return env


def timed(src: str, argv: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds of one fresh `python -m foldrun` process, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "foldrun", *argv], env=env_of(src), cwd=cwd,
                          capture_output=True, text=True, check=False)  # fmt: skip
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed ({done.returncode}): {done.stderr[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return took, cpu, done.stdout


def dry(src: str, root: Path) -> tuple[float, float]:
    shutil.rmtree(root / "runs", ignore_errors=True)
    took, cpu, out = timed(src, ["run", "--dry-run", "foldrun.toml"], root)
    assert "already done" in out.splitlines()[-1], out[-500:]
    return took, cpu


def resume(src: str, spec: Path) -> tuple[float, float]:
    took, cpu, out = timed(src, ["run", spec.name], spec.parent)
    assert "0 task(s) run" in out, out[-500:]  # a no-op: nothing redone
    return took, cpu


def label_free_run(root: Path, tasks: int, pending: int) -> tuple[Path, list[Path]]:
    """The command model's run, every task committed but the last `pending` (made once),
    and those tasks' folders."""
    spec = root / "foldrun.toml"
    ready = root / ".complete"
    if not ready.exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        rng = np.random.default_rng(0)
        pd.DataFrame({"id": [f"s{i}" for i in range(200)], "x": rng.normal(size=200)}).to_csv(
            root / "samples.csv", index=False)  # fmt: skip
        grid = ", ".join(str(i) for i in range(max(1, tasks // 5)))
        spec.write_text(LABEL_FREE.format(grid=grid))
        from foldrun.plan import build_plan
        from foldrun.spec import load_spec

        plan = build_plan(load_spec(spec), write=True)
        keys = list(plan.tasks)
        for key in keys[: len(keys) - pending]:
            task = plan.tasks[key]
            Path(task.task_dir).mkdir(parents=True)
            (Path(task.task_dir) / "DONE").write_text(task.fingerprint + "\n")
        folders = [str(plan.tasks[k].task_dir) for k in keys[len(keys) - pending :]]
        (root / "pending.txt").write_text("\n".join(folders))
        ready.write_text("ok")
    # no empty line: Path("") is the current folder, and rss() removes each of these
    lines = (root / "pending.txt").read_text().split("\n")
    return spec, [Path(p) for p in lines if p.strip()]


def _hwm_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _tree_pss_mb(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error, OSError):  # it ended meanwhile
            total += p.memory_full_info().pss / 2**20
    return total


def rss(src: str, spec: Path, pending: list[Path]) -> tuple[float, float, float, float, float]:
    """Wall, CPU, the foldrun process's peak MB, its task server's, the tree's peak PSS."""
    for folder in pending:  # only task folders of the benchmark's own run
        if not (folder.is_absolute() and folder.is_relative_to(spec.parent / "runs")):
            raise SystemExit(f"refusing to remove {folder}: not a task folder of {spec.parent}")
        shutil.rmtree(folder, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "foldrun", "run", "--jobs", "2", spec.name],
                            env=env_of(src), cwd=spec.parent, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)  # fmt: skip
    watched = psutil.Process(proc.pid)
    main = server = pss = 0.0
    while proc.poll() is None:
        main = max(main, _hwm_mb(proc.pid))
        for child in watched.children():
            if "zygote" in " ".join(child.cmdline()):
                server = max(server, _hwm_mb(child.pid))
        pss = max(pss, _tree_pss_mb(watched))
        time.sleep(0.2)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({proc.returncode}): {proc.stderr.read()[-2000:]}")  # type: ignore[union-attr]
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return took, cpu, main, server, pss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pending", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/foldrun-bench-scale"))
    parser.add_argument("--src", action="append", default=[], help="a src folder (versions)")
    parser.add_argument("--only", default="dry,resume,rss")
    shared = "one run folder for every version (versions whose results code is the same)"
    parser.add_argument("--share", action="store_true", help=shared)
    args = parser.parse_args()
    wanted = args.only.split(",")
    versions = args.src or [""]
    dry_root = args.dir / "dry"
    if "dry" in wanted and not (dry_root / "foldrun.toml").exists():
        dry_root.mkdir(parents=True, exist_ok=True)
        write_spec(dry_root, args.tasks)
    resumes, runs = [], []
    if "resume" in wanted:
        spec = make_run(args.dir / "finished", args.tasks)
        resumes = [spec if args.share else copy_for(spec, i) for i in range(len(versions))]
        for src, own in zip(versions, resumes, strict=True):  # results/ made once, untimed
            resume(src, own)
    if "rss" in wanted:
        made = [label_free_run(args.dir / f"label-free-v{0 if args.share else i}", args.tasks,
                               args.pending) for i in range(len(versions))]  # fmt: skip
        runs = made
    times: dict[tuple[str, str], list[tuple[float, ...]]] = {}
    loads = [os.getloadavg()[0]]
    for _ in range(args.runs):
        for i, src in enumerate(versions):
            name = src or "this"
            if "dry" in wanted:
                times.setdefault(("dry", name), []).append(dry(src, dry_root))
            if "resume" in wanted:
                times.setdefault(("resume", name), []).append(resume(src, resumes[i]))
            if "rss" in wanted:
                times.setdefault(("rss", name), []).append(rss(src, *runs[i]))
        loads.append(os.getloadavg()[0])
    for (part, name), values in times.items():
        columns = list(zip(*values, strict=True))
        shown = ["wall", "cpu", "foldrun MB", "task server MB", "tree PSS MB"][: len(columns)]
        medians = ", ".join(f"{label} {statistics.median(c):.2f} of {[round(v, 1) for v in c]}"
                            for label, c in zip(shown, columns, strict=True))  # fmt: skip
        print(f"{part:6s} {name}: {medians}")
    print(f"load average (1 min) per round: {[round(x, 1) for x in loads]} on "
          f"{os.cpu_count()} cores")  # fmt: skip


if __name__ == "__main__":
    main()
