"""SlurmBackend against fake sbatch/squeue/sacct/scancel scripts on PATH."""

from __future__ import annotations

from pathlib import Path

import pytest

from foldrun.core.task import Resources, TaskState
from foldrun.errors import SchedulerError, SpecError
from foldrun.run.backends import get_backend
from foldrun.run.backends.base import RunContext
from foldrun.run.backends.slurm import SlurmBackend, load_jobs, slurm_run_id

from .conftest import FakeSlurm, cv_tasks


def context(tmp_path: Path, slurm: str = "", **kwargs: object) -> RunContext:
    spec = tmp_path / "foldrun.toml"
    spec.write_text(f'name = "t"\n[slurm]\npoll_max_s = 0.2\n{slurm}\n')
    run_dir = tmp_path / "runs" / "t"
    run_dir.mkdir(parents=True, exist_ok=True)
    return RunContext(spec_path=spec, run_dir=run_dir, run_id="ignored", **kwargs)  # type: ignore[arg-type]


def dependency(call: str) -> str:
    return next((a.split("=", 1)[1] for a in call.split() if a.startswith("--dependency=")), "")


def test_registered_under_slurm() -> None:
    assert isinstance(get_backend("slurm"), SlurmBackend)


def test_one_sbatch_per_stage_chained_by_aftercorr(fake_slurm: FakeSlurm, tmp_path: Path) -> None:
    ctx = context(tmp_path, wait=False)
    tasks = cv_tasks(ctx.run_dir, folds=3)
    result = SlurmBackend().execute(tasks, ctx)
    calls = fake_slurm.calls("sbatch")
    assert len(calls) == 4
    assert [dependency(c) for c in calls] == [
        "",
        "aftercorr:1000",
        "aftercorr:1001",
        "afterok:1002",
    ]
    assert set(result.states.values()) == {TaskState.PENDING}
    jobs = load_jobs(ctx.run_dir)
    assert [s.job_id for s in jobs] == ["1000", "1001", "1002", "1003"]
    train = jobs[0]
    assert Path(train.array_file).read_text().splitlines() == list(train.keys)
    script = Path(train.script).read_text()
    assert f"--job-name=foldrun-{slurm_run_id(ctx.run_dir)}-train" in script
    assert "--array=0-2\n" in script
    audit = (ctx.run_dir / "audit.log").read_text()
    assert audit.count("| submitted | job 1000_") == 3


def test_sbatch_calls_bounded_by_stages_times_classes(
    fake_slurm: FakeSlurm, tmp_path: Path
) -> None:
    ctx = context(
        tmp_path,
        'max_concurrent = 4\npartition = "gpu"\npartitions = { evaluate = "cpu" }',
        wait=False,
    )
    gpu = Resources(cpus=4, gpus=1, mem_mb=16000, time_min=300)
    tasks = []
    for model in ("a", "b", "c"):
        tasks += cv_tasks(
            ctx.run_dir, folds=5, model=model, resources=gpu if model == "a" else None
        )
    SlurmBackend().execute(tasks, ctx)
    calls = fake_slurm.calls("sbatch")
    classes = {(t.stage, t.resources.class_key()) for t in tasks}
    assert len(calls) == len(classes) <= 4 * 2
    scripts = [Path(c.split()[-1]).read_text() for c in calls]
    assert all("--array=" in s and s.count("%4\n") == 1 for s in scripts)
    evaluate = next(s for s in scripts if "-evaluate\n" in s)
    assert "--partition=cpu" in evaluate
    assert all("--partition=gpu" in s for s in scripts if s is not evaluate)
    assert sum("--gres=gpu:1" in s for s in scripts) == 3  # train, predict, refit of model a


def test_signal_is_never_longer_than_the_time_limit(fake_slurm: FakeSlurm, tmp_path: Path) -> None:
    ctx = context(tmp_path, "signal_before_s = 600", wait=False)
    short = Resources(time_min=5)
    tasks = cv_tasks(ctx.run_dir, folds=1, model="short", resources=short)
    SlurmBackend().execute(tasks[:1], ctx)
    script = Path(load_jobs(ctx.run_dir)[0].script).read_text()
    assert "--signal=B:USR2@150\n" in script and "--time=00:05:00" in script


def test_dry_run_writes_scripts_and_submits_nothing(
    fake_slurm: FakeSlurm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = context(tmp_path, dry_run=True)
    SlurmBackend().execute(cv_tasks(ctx.run_dir, folds=2), ctx)
    assert fake_slurm.calls("sbatch") == [] and fake_slurm.calls("squeue") == []
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 4
    assert printed[1].startswith("JOB_1=$(sbatch --parsable --dependency=aftercorr:${JOB_0} ")
    assert sorted(p.name for p in (ctx.run_dir / "slurm").glob("*.sbatch")) == [
        "evaluate-c1-g0-m4096-t60.sbatch",
        "predict-c1-g0-m4096-t60.sbatch",
        "refit-c1-g0-m4096-t60.sbatch",
        "train-c1-g0-m4096-t60.sbatch",
    ]
    assert not (ctx.run_dir / ".foldrun" / "slurm_jobs.json").exists()


def test_rerun_skips_tasks_already_queued(fake_slurm: FakeSlurm, tmp_path: Path) -> None:
    ctx = context(tmp_path, wait=False)
    tasks = cv_tasks(ctx.run_dir, folds=3)
    backend = SlurmBackend()
    backend.execute(tasks, ctx)
    name = f"foldrun-{slurm_run_id(ctx.run_dir)}"
    # the whole run is still queued: a rerun submits nothing
    fake_slurm.answer(
        "squeue",
        f"""
        1000_[1-2]|PENDING|JobArrayTaskLimit|{name}-train
        1000_0|RUNNING|None|{name}-train
        1001_[0-2]|PENDING|Dependency|{name}-predict
        1002_[0-2]|PENDING|Dependency|{name}-evaluate
        1003_0|PENDING|Dependency|{name}-refit
    """,
    )
    backend.execute(tasks, ctx)
    assert len(fake_slurm.calls("sbatch")) == 4
    assert len(fake_slurm.calls("squeue")) == 1  # one query for the whole run
    # train fold 0 failed, its predict waits forever: only that branch is resubmitted
    fake_slurm.answer(
        "squeue",
        f"""
        1000_0|FAILED|NonZeroExitCode|{name}-train
        1000_1|COMPLETED|None|{name}-train
        1000_2|COMPLETED|None|{name}-train
        1001_0|PENDING|DependencyNeverSatisfied|{name}-predict
        1001_[1-2]|PENDING|Dependency|{name}-predict
        1002_[0-2]|PENDING|Dependency|{name}-evaluate
        1003_0|PENDING|Dependency|{name}-refit
    """,
    )
    retry = [
        t for t in tasks if t.key.endswith("fold_00/train") or t.key.endswith("fold_00/predict")
    ]
    backend.execute(retry, ctx)
    calls = fake_slurm.calls("sbatch")
    assert len(calls) == 6
    assert fake_slurm.calls("scancel") == ["1001_0"]
    assert dependency(calls[-1]) == "aftercorr:1004"
    # the queued array still reads its own file: the new one gets another name
    jobs = load_jobs(ctx.run_dir)
    assert jobs[-1].array_file != jobs[1].array_file
    assert Path(jobs[1].array_file).read_text().count("\n") == 3


def test_wait_polls_until_nothing_is_left(fake_slurm: FakeSlurm, tmp_path: Path) -> None:
    ctx = context(tmp_path, wait=True)
    tasks = cv_tasks(ctx.run_dir, folds=2)
    done = tasks[0]  # pretend the worker committed one task
    done.task_dir.mkdir(parents=True)
    (done.task_dir / "DONE").write_text(done.fingerprint + "\n")
    result = SlurmBackend().execute(tasks, ctx)
    assert result.states[done.key] is TaskState.DONE
    assert sum(s is TaskState.FAILED for s in result.states.values()) == len(tasks) - 1
    assert len(fake_slurm.calls("squeue")) == 1


def test_wait_feeds_the_live_display(fake_slurm: FakeSlurm, tmp_path: Path) -> None:
    ctx = context(tmp_path, wait=True)
    tasks = cv_tasks(ctx.run_dir, folds=1)
    events: list[tuple[str, str]] = []
    backend = SlurmBackend(listener=lambda event, key: events.append((event, key)))
    name = f"foldrun-{slurm_run_id(ctx.run_dir)}"
    # the first poll is the resume check of a second execute; the run starts fresh here
    fake_slurm.answer_once("squeue", f"1000_0|RUNNING|None|{name}-train\n")
    first = tasks[0]
    first.task_dir.mkdir(parents=True)
    (first.task_dir / "DONE").write_text(first.fingerprint)
    backend.execute(tasks, ctx)
    assert events[0] == ("started", first.key)
    assert ("done", first.key) in events
    assert sorted(e for e, k in events if k != first.key) == ["failed"] * (len(tasks) - 1)
    assert len(fake_slurm.calls("squeue")) == 2


def test_status_merges_squeue_sacct_and_events(fake_slurm: FakeSlurm, tmp_path: Path) -> None:
    ctx = context(tmp_path, wait=False)
    tasks = cv_tasks(ctx.run_dir, folds=3)
    backend = SlurmBackend()
    backend.execute(tasks, ctx)
    name = f"foldrun-{slurm_run_id(ctx.run_dir)}"
    fake_slurm.answer(
        "squeue",
        f"""
        1000_0|RUNNING|None|{name}-train
        1000_1|FAILED|NonZeroExitCode|{name}-train
        1001_[0-2]|PENDING|Dependency|{name}-predict
    """,
    )
    fake_slurm.answer(
        "sacct",
        f"""
        1000_2|{name}-train|TIMEOUT|0:0
        1002_0|{name}-evaluate|CANCELLED by 0|0:15
    """,
    )
    (ctx.run_dir / ".foldrun" / "slurm_events.tsv").write_text(
        f"2026-01-01T00:00:00\t{tasks[6].key}\t1000_2\tfailed\tout of requeues (3)\n"
    )
    details = backend.scheduler_details(ctx)
    assert details["m/default/fold_00/train"].state is TaskState.RUNNING
    assert details["m/default/fold_01/train"].reason == "FAILED (NonZeroExitCode)"
    assert details["m/default/fold_02/train"].reason == "out of requeues (3)"
    assert details["m/default/fold_02/predict"].state is TaskState.PENDING
    assert details["m/default/fold_00/evaluate"].state is TaskState.FAILED
    assert backend.scheduler_states(ctx)["m/default/fold_00/train"] is TaskState.RUNNING
    assert len(fake_slurm.calls("squeue")) == 2 and len(fake_slurm.calls("sacct")) == 2
    assert "-j 1000,1002,1003" in fake_slurm.calls("sacct")[0]


def test_status_without_a_scheduler_shows_folders_only(
    fake_slurm: FakeSlurm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = context(tmp_path, wait=False)
    backend = SlurmBackend()
    backend.execute(cv_tasks(ctx.run_dir, folds=1), ctx)
    fake_slurm.fail("squeue", "slurm_load_jobs error: Unable to contact slurm controller\n")
    assert backend.scheduler_states(ctx) == {}
    warning = capsys.readouterr().err
    assert warning.startswith("foldrun: warning: squeue ") and "Unable to contact" in warning
    with pytest.raises(SchedulerError):
        backend.scheduler_details(ctx)


def test_sacct_without_accounting_falls_back_to_the_completion_log(
    fake_slurm: FakeSlurm, tmp_path: Path
) -> None:
    ctx = context(tmp_path, wait=False)
    backend = SlurmBackend()
    backend.execute(cv_tasks(ctx.run_dir, folds=1), ctx)
    fake_slurm.fail("sacct", "Slurm accounting storage is disabled\n")
    assert backend.scheduler_details(ctx) == {}
    # the fallback is the same call with -c; it fails too here, and status still answers
    assert len(fake_slurm.calls("sacct")) == 2 and " -c " in f" {fake_slurm.calls('sacct')[1]} "


def test_cancel_scancels_the_queued_elements(fake_slurm: FakeSlurm, tmp_path: Path) -> None:
    ctx = context(tmp_path, wait=False)
    backend = SlurmBackend()
    assert backend.cancel(ctx) == 0
    backend.execute(cv_tasks(ctx.run_dir, folds=3), ctx)
    name = f"foldrun-{slurm_run_id(ctx.run_dir)}"
    fake_slurm.answer(
        "squeue",
        f"""
        1000_0|COMPLETED|None|{name}-train
        1000_[1-2]|PENDING|JobArrayTaskLimit|{name}-train
        1001_0|RUNNING|None|{name}-predict
    """,
    )
    assert backend.cancel(ctx) == 3
    assert fake_slurm.calls("scancel") == ["1000_1 1000_2 1001_0"]
    assert (ctx.run_dir / "audit.log").read_text().count("| cancelled |") == 3


def test_rejected_sbatch_is_one_line_with_command_code_and_stderr(
    fake_slurm: FakeSlurm, tmp_path: Path
) -> None:
    ctx = context(tmp_path, 'partition = "nope"', wait=False)
    fake_slurm.fail(
        "sbatch",
        (Path(__file__).parents[2] / "fixtures/slurm/sbatch_bad_partition.stderr").read_text(),
    )
    with pytest.raises(SchedulerError) as caught:
        SlurmBackend().execute(cv_tasks(ctx.run_dir, folds=1), ctx)
    line = caught.value.one_line()
    assert "\n" not in line
    assert line.startswith("sbatch --parsable ")
    assert "exited with code 1" in line and "invalid partition specified: nope" in line


def test_missing_sbatch_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    ctx = context(tmp_path, wait=False)
    with pytest.raises(SchedulerError, match="'sbatch' is not on PATH"):
        SlurmBackend().execute(cv_tasks(ctx.run_dir, folds=1), ctx)


def test_unknown_slurm_option_lists_the_valid_ones(fake_slurm: FakeSlurm, tmp_path: Path) -> None:
    ctx = context(tmp_path, 'partion = "gpu"', wait=False)
    with pytest.raises(SpecError) as caught:
        SlurmBackend().execute(cv_tasks(ctx.run_dir, folds=1), ctx)
    assert "partion" in caught.value.one_line() and "max_concurrent" in caught.value.one_line()
    assert fake_slurm.calls("sbatch") == []
