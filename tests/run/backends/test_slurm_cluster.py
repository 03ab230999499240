"""End to end on a real SLURM (scripts/start-local-slurm.sh): submit, wait, resume, fail,
cancel, requeue. Skips without a cluster, fails without one when FOLDRUN_REQUIRE_SLURM=1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from foldrun.core.task import PlannedTask, Resources, TaskRecipe, TaskState
from foldrun.layout import RunLayout
from foldrun.run.backends.base import RunContext
from foldrun.run.backends.slurm import SlurmBackend, load_jobs
from foldrun.run.options import RunOptions
from foldrun.run.runner import run_planned

pytestmark = [pytest.mark.slurm, pytest.mark.slow]


@pytest.fixture
def counted_sbatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A wrapper `sbatch` on PATH that logs each call and runs the real one."""
    real = shutil.which("sbatch")
    bin_dir = tmp_path / "wrap"
    bin_dir.mkdir()
    log = bin_dir / "calls"
    wrapper = bin_dir / "sbatch"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def command_task(
    run_dir: Path, fold: int, stage: str, command: str, deps: tuple[str, ...] = ()
) -> PlannedTask:
    fold_dir = "all" if fold < 0 else f"fold_{fold:02d}"
    key = f"cmd/default/{fold_dir}/{stage}"
    upstream = {"train": str(run_dir / "tasks" / f"cmd/default/{fold_dir}/train")}
    return PlannedTask(
        key=key,
        model="cmd",
        variant="default",
        fold=fold,
        repeat=0,
        stage=stage,
        deps=deps,
        resources=Resources(cpus=1, gpus=0, mem_mb=200, time_min=5),
        fingerprint=f"fp-{key}-{command}",
        task_dir=run_dir / "tasks" / key,
        recipe=TaskRecipe(
            run_dir=run_dir,
            kind="command",
            command=command,
            upstream=upstream if stage != "train" else {},
        ),
    )


def three_folds(
    run_dir: Path, train: str = "echo model > {out}/model.txt", fail_fold: int | None = None
) -> dict[str, PlannedTask]:
    tasks: dict[str, PlannedTask] = {}
    predicts = []
    for fold in range(3):
        cmd = "exit 3" if fold == fail_fold else train
        t = command_task(run_dir, fold, "train", cmd)
        p = command_task(run_dir, fold, "predict", "test -f {out}/model.txt", (t.key,))
        tasks.update({t.key: t, p.key: p})
        predicts.append(p.key)
    r = command_task(run_dir, -1, "refit", "true", tuple(predicts))
    tasks[r.key] = r
    return tasks


def make_spec(tmp_path: Path, extra: str = "") -> tuple[Path, Path]:
    root = tmp_path / "it's a run"  # shell-hostile on purpose
    root.mkdir()
    spec = root / "foldrun.toml"
    spec.write_text(f'name = "e2e"\n[slurm]\npoll_max_s = 1.0\nmax_concurrent = 2\n{extra}\n')
    return spec, root / "runs" / "e2e"


def test_run_wait_resume(cluster: None, tmp_path: Path, counted_sbatch: Path) -> None:
    spec, run_dir = make_spec(tmp_path)
    tasks = three_folds(run_dir)
    result = run_planned(spec, run_dir, tasks, RunOptions(backend="slurm", wait=True))
    assert result.exit_code == 0, (result.failures, result.messages)
    assert result.counts["done"] == 7
    calls = counted_sbatch.read_text().splitlines()
    assert len(calls) == 3  # train, predict, refit: one array each
    assert "--dependency=aftercorr:" in calls[1] and "--dependency=afterok:" in calls[2]
    for task in tasks.values():
        assert (task.task_dir / "DONE").read_text().strip() == task.fingerprint
    assert (run_dir / "tasks/cmd/default/fold_02/train/model.txt").exists()
    audit = (run_dir / "audit.log").read_text()
    assert audit.count("| submitted |") == 7 and audit.count("| finished") == 7
    # a rerun submits nothing
    again = run_planned(spec, run_dir, tasks, RunOptions(backend="slurm", wait=True))
    assert again.to_run == [] and again.exit_code == 0
    assert len(counted_sbatch.read_text().splitlines()) == 3


def test_failed_task_is_reported_with_its_reason(cluster: None, tmp_path: Path) -> None:
    spec, run_dir = make_spec(tmp_path)
    tasks = three_folds(run_dir, fail_fold=1)
    result = run_planned(spec, run_dir, tasks, RunOptions(backend="slurm", wait=True))
    assert result.exit_code == 1
    failed = {f.key: f for f in result.failures}
    assert "cmd/default/fold_01/train" in failed
    assert "not run" in failed["cmd/default/fold_01/predict"].reason
    assert result.counts["done"] == 4  # folds 0 and 2: train + predict
    ctx = RunContext(spec_path=spec, run_dir=run_dir, run_id="")
    details = SlurmBackend().scheduler_details(ctx)
    assert details["cmd/default/fold_01/train"].state is TaskState.FAILED
    assert "NonZeroExitCode" in details["cmd/default/fold_01/train"].reason


def test_a_failed_fold_stops_only_its_own_variant(cluster: None, tmp_path: Path) -> None:
    """Refits wait on the train array with afterany; each checks its own parents."""
    spec, run_dir = make_spec(tmp_path)
    tasks: dict[str, PlannedTask] = {}
    for variant in ("a", "b"):
        trains = []
        for fold in range(2):
            cmd = "exit 5" if (variant, fold) == ("b", 1) else "true"
            t = replace(
                command_task(run_dir, fold, "train", cmd),
                key=f"cmd/{variant}/fold_{fold:02d}/train",
                variant=variant,
                task_dir=run_dir / f"tasks/cmd/{variant}/fold_{fold:02d}/train",
            )
            tasks[t.key] = t
            trains.append(t.key)
        r = replace(
            command_task(run_dir, -1, "refit", "true", tuple(trains)),
            key=f"cmd/{variant}/all/refit",
            variant=variant,
            task_dir=run_dir / f"tasks/cmd/{variant}/all/refit",
        )
        tasks[r.key] = r
    result = run_planned(spec, run_dir, tasks, RunOptions(backend="slurm", wait=True))
    assert result.exit_code == 1
    assert (run_dir / "tasks/cmd/a/all/refit/DONE").exists()
    failed = {f.key: f.reason for f in result.failures}
    assert set(failed) == {"cmd/b/fold_01/train", "cmd/b/all/refit"}
    assert failed["cmd/b/all/refit"] == "not run: an upstream task failed"
    audit = (run_dir / "audit.log").read_text()
    assert "| all | cmd/b | refit | failed | an upstream task failed (cmd/b/fold_01/train)" in audit


def test_gpus_and_stage_partition_reach_the_job(cluster: None, tmp_path: Path) -> None:
    spec, run_dir = make_spec(tmp_path, 'partition = "debug"\npartitions = { train = "cpu" }')
    command = 'echo "$SLURM_JOB_PARTITION $CUDA_VISIBLE_DEVICES" > {out}/where.txt'
    task = command_task(run_dir, 0, "train", command)
    task = replace(task, resources=replace(task.resources, gpus=1))
    result = run_planned(spec, run_dir, {task.key: task}, RunOptions(backend="slurm", wait=True))
    assert result.exit_code == 0, result.failures
    partition, gpus = (task.task_dir / "where.txt").read_text().split()
    assert partition == "cpu"
    assert len(gpus.split(",")) == 1  # one of the cluster's GPUs, as SLURM numbers it


def test_submit_return_then_cancel(cluster: None, tmp_path: Path) -> None:
    spec, run_dir = make_spec(tmp_path)
    tasks = three_folds(run_dir, train="sleep 120")
    result = run_planned(spec, run_dir, tasks, RunOptions(backend="slurm", wait=False))
    assert result.counts["pending"] == 7
    ctx = RunContext(spec_path=spec, run_dir=run_dir, run_id="")
    backend = SlurmBackend()
    states = backend.scheduler_states(ctx)
    assert set(states) == set(tasks)
    assert set(states.values()) <= {TaskState.PENDING, TaskState.RUNNING}
    # a rerun while everything is queued submits nothing new
    jobs_before = len(load_jobs(run_dir))
    run_planned(spec, run_dir, tasks, RunOptions(backend="slurm", wait=False))
    assert len(load_jobs(run_dir)) == jobs_before
    done = subprocess.run(
        [sys.executable, "-m", "foldrun", "cancel", str(spec)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "cancelled 7 queued or running task(s)" in done.stdout
    time.sleep(1)
    assert not {s for s in backend.scheduler_states(ctx).values()} & {
        TaskState.PENDING,
        TaskState.RUNNING,
    }


REQUEUE_ME = (
    'if [ "${{SLURM_RESTART_COUNT:-0}}" = 0 ]; then '
    'echo saved > "$FOLDRUN_CHECKPOINT_DIR/state"; '
    'scancel --batch --signal=USR2 "${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}"; sleep 60; '
    'else test "$(cat "$FOLDRUN_CHECKPOINT_DIR/state")" = saved; fi'
)


def test_requeue_keeps_the_checkpoint_dir(cluster: None, tmp_path: Path) -> None:
    spec, run_dir = make_spec(tmp_path, "max_requeues = 1")
    task = command_task(run_dir, 0, "train", REQUEUE_ME)
    result = run_planned(spec, run_dir, {task.key: task}, RunOptions(backend="slurm", wait=True))
    assert result.exit_code == 0, (result.failures, (run_dir / "audit.log").read_text())
    audit = (run_dir / "audit.log").read_text()
    assert "| requeued | restart 1 of 1" in audit
    assert (RunLayout(run_dir).state_dir / "checkpoints" / task.key / "state").exists()


def test_time_limit_requeues_then_runs_out(cluster: None, tmp_path: Path) -> None:
    """The real `--signal=B:USR2@50` of a 1-minute job: requeued once, then failed."""
    spec, run_dir = make_spec(tmp_path, "max_requeues = 1\nsignal_before_s = 50")
    trace = tmp_path / "trace"
    command = "echo ${{SLURM_RESTART_COUNT:-0}} >> " + str(trace) + "; sleep 100"
    task = command_task(run_dir, 0, "train", command)
    task = replace(task, resources=replace(task.resources, time_min=1))
    result = run_planned(spec, run_dir, {task.key: task}, RunOptions(backend="slurm", wait=True))
    assert result.exit_code == 1
    assert trace.read_text().split() == ["0", "1"]  # ran twice: requeued once
    ctx = RunContext(spec_path=spec, run_dir=run_dir, run_id="")
    details = SlurmBackend().scheduler_details(ctx)
    assert details[task.key].reason == "out of requeues (1)"
    audit = (run_dir / "audit.log").read_text()
    assert "| requeued | restart 1 of 1" in audit and "| failed | out of requeues (1)" in audit
