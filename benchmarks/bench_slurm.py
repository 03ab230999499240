"""SLURM backend: time to submit 1,000 tasks and to read the status of a 1,000-task run.

    .venv/bin/python benchmarks/bench_slurm.py            # fake scheduler + real cluster
    .venv/bin/python benchmarks/bench_slurm.py --fake-only

Fake: sbatch/squeue are tiny shell scripts on PATH, so the time is foldrun's own (plus
~2 ms per fake call). Real: the local SLURM of scripts/start-local-slurm.sh, jobs
submitted held (`--hold`) and cancelled afterwards. Baseline: the hand-made "factory"
way, one `sbatch` per task, timed on the same cluster.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from foldrun.core.task import PlannedTask, Resources, TaskRecipe
from foldrun.run.backends.base import RunContext
from foldrun.run.backends.slurm import SlurmBackend, load_jobs, slurm_run_id

FAKE_SBATCH = """#!/bin/sh
n=$(cat "$(dirname "$0")/next" 2>/dev/null || echo 5000000)
echo $((n + 1)) > "$(dirname "$0")/next"
echo "$n"
"""
FAKE_SQUEUE = '#!/bin/sh\ncat "$(dirname "$0")/squeue.out"\n'


def thousand_tasks(run_dir: Path) -> list[PlannedTask]:
    """10 models x 25 folds x (train, predict, evaluate) + 10 refits = 760; 2 resource
    classes; plus 240 more folds of one model: 1,000 tasks in all."""
    tasks: list[PlannedTask] = []
    gpu = Resources(cpus=4, gpus=1, mem_mb=16000, time_min=600)

    def task(model: str, fold: int, stage: str, deps: tuple[str, ...], res: Resources) -> str:
        fold_dir = "all" if fold < 0 else f"fold_{fold:03d}"
        key = f"{model}/default/{fold_dir}/{stage}"
        tasks.append(
            PlannedTask(
                key,
                model,
                "default",
                fold,
                0,
                stage,
                deps,
                res,
                f"fp{key}",
                run_dir / "tasks" / key,
                TaskRecipe(run_dir=run_dir),
            )
        )
        return key

    for m in range(10):
        res = gpu if m % 2 else Resources()
        folds = 25 if m else 105
        evaluates = []
        for fold in range(folds):
            t = task(f"m{m}", fold, "train", (), res)
            p = task(f"m{m}", fold, "predict", (t,), res)
            evaluates.append(task(f"m{m}", fold, "evaluate", (p,), Resources()))
        task(f"m{m}", -1, "refit", tuple(evaluates), res)
    order = {"train": 0, "predict": 1, "evaluate": 2, "refit": 3}
    tasks.sort(key=lambda t: order[t.stage])
    return tasks[:1000]


def context(root: Path, extra: str = "", wait: bool = False) -> RunContext:
    spec = root / "foldrun.toml"
    spec.write_text(f'name = "bench"\n[slurm]\nmax_concurrent = 20\n{extra}\n')
    run_dir = root / "runs" / "bench"
    run_dir.mkdir(parents=True, exist_ok=True)
    return RunContext(spec_path=spec, run_dir=run_dir, run_id="", wait=wait)


def timed(fn, repeats: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, value = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), value


def fake_bench(repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bin_dir = root / "bin"
        bin_dir.mkdir()
        for name, text in (("sbatch", FAKE_SBATCH), ("squeue", FAKE_SQUEUE)):
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(0o755)
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
        (bin_dir / "squeue.out").write_text("")
        runs = []

        def submit() -> int:
            case = root / f"case{len(runs)}"
            case.mkdir()
            ctx = context(case)
            runs.append(ctx)
            SlurmBackend().execute(thousand_tasks(ctx.run_dir), ctx)
            return len(load_jobs(ctx.run_dir))

        seconds, arrays = timed(submit, repeats)
        print(f"fake scheduler: submit 1,000 tasks: median {seconds:.3f} s, {arrays} sbatch calls")
        ctx = runs[-1]
        name = f"foldrun-{slurm_run_id(ctx.run_dir)}"
        lines = []
        for sub in load_jobs(ctx.run_dir):
            n = len(sub.keys)
            lines += [f"{sub.job_id}_{i}|RUNNING|None|{name}-{sub.stage}" for i in range(n // 2)]
            pending = f"{sub.job_id}_[{n // 2}-{n - 1}%20]"
            lines.append(f"{pending}|PENDING|JobArrayTaskLimit|{name}-{sub.stage}")
        (bin_dir / "squeue.out").write_text("\n".join(lines) + "\n")
        seconds, states = timed(lambda: SlurmBackend().scheduler_states(ctx), repeats)
        known = len(states)  # type: ignore[arg-type]
        print(f"fake scheduler: status of 1,000 tasks: median {seconds:.3f} s, {known} tasks known")


def real_bench(repeats: int, per_task: int) -> None:
    if shutil.which("sbatch") is None:
        print("real cluster: no sbatch on PATH, skipped")
        return
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        root = Path(tmp)
        submits, statuses = [], []
        for n in range(repeats):
            case = root / f"case{n}"
            case.mkdir()
            ctx = context(case, 'extra = ["--hold"]')
            t0 = time.perf_counter()
            SlurmBackend().execute(thousand_tasks(ctx.run_dir), ctx)
            submits.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            states = SlurmBackend().scheduler_states(ctx)
            statuses.append(time.perf_counter() - t0)
            assert len(states) == 1000, len(states)
            SlurmBackend().cancel(ctx)
        print(f"real cluster: submit 1,000 tasks (held): median {statistics.median(submits):.3f} s")
        status = statistics.median(statuses)
        print(f"real cluster: status of 1,000 queued tasks: median {status:.3f} s")
        # baseline: one sbatch per task, as the hand-made factory scripts do
        script = root / "one.sh"
        script.write_text("#!/bin/bash\ntrue\n")
        t0 = time.perf_counter()
        ids = [
            subprocess.run(
                [
                    "sbatch",
                    "--parsable",
                    "--hold",
                    "-J",
                    "factory-bench",
                    "-o",
                    "/dev/null",
                    str(script),
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            for _ in range(per_task)
        ]
        each = (time.perf_counter() - t0) / per_task
        subprocess.run(["scancel", *ids], check=True)
        print(
            f"real cluster: one sbatch per task: {each * 1000:.1f} ms per call "
            f"({per_task} calls) -> {each * 1000:.1f} s for 1,000 tasks"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline-calls", type=int, default=100)
    parser.add_argument("--fake-only", action="store_true")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}")
    fake_bench(args.repeats)
    if not args.fake_only:
        real_bench(args.repeats, args.baseline_calls)


if __name__ == "__main__":
    main()
