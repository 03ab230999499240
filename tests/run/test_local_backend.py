from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from foldrun.core import state
from foldrun.core.task import PlannedTask
from foldrun.errors import PlanError, RunError
from foldrun.run.options import RunOptions
from foldrun.run.runner import run_planned
from tests.run.helpers import task

# a command that counts its own executions: the side effect that tells a rerun apart
COUNT = "echo {model}-{fold}-{stage_name} >> {counter}"


def _counted(
    run_dir: Path,
    name: str,
    fold: int,
    stage: str = "train",
    deps: tuple[str, ...] = (),
    extra: str = "",
    **kw: object,
) -> PlannedTask:
    counter = run_dir / "counter.txt"
    cmd = COUNT + extra
    return task(
        run_dir,
        name,
        stage,
        fold,
        deps=deps,
        command=cmd,
        params={"counter": str(counter), "stage_name": stage},
        **kw,
    )


def _counts(run_dir: Path) -> dict[str, int]:
    path = run_dir / "counter.txt"
    lines = path.read_text().split() if path.exists() else []
    return {line: lines.count(line) for line in lines}


def _plan(tasks: list[PlannedTask]) -> dict[str, PlannedTask]:
    return {t.key: t for t in tasks}


def _run(run_dir: Path, tasks: list[PlannedTask], **kw: object):  # RunResult
    kw.setdefault("gpus", ())
    return run_planned(run_dir / "foldrun.toml", run_dir, _plan(tasks), RunOptions(**kw))


def test_runs_all_then_resumes_without_redoing(tmp_path: Path) -> None:
    tasks = []
    for fold in range(4):
        train = _counted(tmp_path, "m", fold)
        tasks += [train, _counted(tmp_path, "m", fold, "predict", deps=(train.key,))]
    result = _run(tmp_path, tasks, jobs=2)
    assert result.exit_code == 0 and result.counts["done"] == 8
    assert set(_counts(tmp_path).values()) == {1} and len(_counts(tmp_path)) == 8
    again = _run(tmp_path, tasks, jobs=2)
    assert again.to_run == [] and again.already_done == 8
    assert set(_counts(tmp_path).values()) == {1}
    for t in tasks:
        assert state.read_fingerprint(t.task_dir) == t.fingerprint
        assert (t.task_dir / "cmd.txt").read_text().startswith("echo m-")
        res = json.loads((t.task_dir / "resources.json").read_text())
        assert res["exit_code"] == 0 and res["gpus"] == []


def test_failure_does_not_stop_others_and_reports_log(tmp_path: Path) -> None:
    bad = _counted(tmp_path, "bad", 0, extra="; echo boom-message >&2; exit 3")
    after_bad = _counted(tmp_path, "bad", 0, "predict", deps=(bad.key,))
    good = [_counted(tmp_path, "good", f) for f in range(3)]
    result = _run(tmp_path, [bad, after_bad, *good], jobs=2)
    assert result.exit_code == 1
    assert result.counts["done"] == 3 and result.counts["failed"] == 2
    first = next(f for f in result.failures if f.key == bad.key)
    assert first.log is not None and first.log.name == "train.log"
    assert any("boom-message" in line for line in first.tail)
    skipped = next(f for f in result.failures if f.key == after_bad.key)
    assert "upstream" in skipped.reason
    assert "bad-0-predict" not in _counts(tmp_path)
    assert not bad.task_dir.exists() and state.failed_dir(bad.task_dir).is_dir()


def test_retries_rerun_a_flaky_task(tmp_path: Path) -> None:
    # fails the first time (no marker yet), succeeds on the retry
    flaky = _counted(
        tmp_path, "flaky", 0, extra="; test -e {counter}.seen || (touch {counter}.seen; exit 1)"
    )
    assert _run(tmp_path, [flaky], retries=0).exit_code == 1
    os.unlink(str(tmp_path / "counter.txt.seen"))
    result = _run(tmp_path, [flaky], retries=2)
    assert result.exit_code == 0 and state.read_fingerprint(flaky.task_dir) == flaky.fingerprint
    assert "requeued" in (tmp_path / "audit.log").read_text()


def test_stale_refused_without_force(tmp_path: Path) -> None:
    first = [_counted(tmp_path, "m", f) for f in range(2)]
    assert _run(tmp_path, first).exit_code == 0
    changed = [_counted(tmp_path, "m", f, extra=" # v2") for f in range(2)]
    with pytest.raises(RunError, match=r"2 done task\(s\).*m/default \(2\).*--force"):
        _run(tmp_path, changed)
    result = _run(tmp_path, changed, force=True)
    assert result.exit_code == 0 and len(result.to_run) == 2
    assert set(_counts(tmp_path).values()) == {2}


def test_subset_selection_pulls_in_undone_dependencies(tmp_path: Path) -> None:
    tasks = []
    for name in ("a", "b"):
        for fold in range(2):
            train = _counted(tmp_path, name, fold)
            tasks += [train, _counted(tmp_path, name, fold, "predict", deps=(train.key,))]
    result = _run(tmp_path, tasks, models=["a"], folds=[1], stages=["predict"])
    assert result.to_run == ["a/default/fold_01/train", "a/default/fold_01/predict"]
    assert set(_counts(tmp_path)) == {"a-1-train", "a-1-predict"}
    with pytest.raises(RunError, match="no model 'zzz'"):
        _run(tmp_path, tasks, models=["zzz"])


def test_task_larger_than_machine_is_a_plan_error(tmp_path: Path) -> None:
    # cpus are a request: more than --jobs runs alone with --jobs (tests/run/backends/
    # test_local_fit.py); a GPU that is not there is an error unless gpus_optional
    with pytest.raises(PlanError, match="needs 1 GPU"):
        _run(tmp_path, [_counted(tmp_path, "m", 0, gpus=1)], jobs=2)


def test_dry_run_runs_nothing(tmp_path: Path) -> None:
    result = _run(tmp_path, [_counted(tmp_path, "m", 0)], dry_run=True)
    assert result.to_run == ["m/default/fold_00/train"] and _counts(tmp_path) == {}


@pytest.mark.parametrize(
    "hostile", ["'; touch INJECTED #", "a\nb; touch INJECTED", "$(touch INJECTED)"]
)
def test_values_reach_program_as_one_argument(tmp_path: Path, hostile: str) -> None:
    out = tmp_path / "argv.json"
    script = "import json, sys; json.dump(sys.argv[1:], open(sys.argv[1], 'w'))"
    t = task(
        tmp_path,
        "m",
        "train",
        command=f"python -c {script!r} {{dest}} {{p}} {{model}}",
        params={"dest": str(out), "p": hostile},
    )
    assert _run(tmp_path, [t]).exit_code == 0
    argv = json.loads(out.read_text())
    assert argv == [str(out), hostile, "m"]
    assert not list(tmp_path.rglob("INJECTED"))


def test_gpus_are_never_shared(tmp_path: Path) -> None:
    record = tmp_path / "gpus.txt"
    tasks = [
        task(
            tmp_path,
            "g",
            "train",
            f,
            gpus=1,
            command='echo "$CUDA_VISIBLE_DEVICES $(date +%s%N) start" >> {rec}; sleep 0.3; '
            'echo "$CUDA_VISIBLE_DEVICES $(date +%s%N) end" >> {rec}',
            params={"rec": str(record)},
        )
        for f in range(4)
    ]
    assert _run(tmp_path, tasks, jobs=4, gpus=(0, 1)).exit_code == 0
    events = sorted(
        (int(t), g, e) for g, t, e in (ln.split() for ln in record.read_text().splitlines())
    )
    busy: set[str] = set()
    for _, gpu, kind in events:
        if kind == "start":
            assert gpu not in busy and gpu in {"0", "1"}
            busy.add(gpu)
        else:
            busy.discard(gpu)
    seen = {json.loads((t.task_dir / "resources.json").read_text())["gpus"][0] for t in tasks}
    assert seen == {0, 1}


def test_killed_worker_leaves_no_done_and_is_rerun(tmp_path: Path) -> None:
    # the command kills its own worker process (kill -9 of the task mid-run)
    marker = tmp_path / "killed-once"
    t = task(
        tmp_path,
        "k",
        "train",
        command="test -e {m} || (touch {m}; kill -9 $PPID; sleep 1)",
        params={"m": str(marker)},
    )
    result = _run(tmp_path, [t])
    assert result.exit_code == 1 and not (t.task_dir / "DONE").exists()
    # failed as the run said (was: `pending` in status, the dead worker's mark left): the
    # attempt kept as train.failed with the signal, as a task the worker saw fail
    assert state.disk_state(t.task_dir, t.fingerprint).value == "failed"
    assert state.attempt_pid(t.task_dir) is None
    assert "killed by SIGKILL" in (state.failed_dir(t.task_dir) / "train.log").read_text()
    again = _run(tmp_path, [t])
    assert again.exit_code == 0 and state.read_fingerprint(t.task_dir) == t.fingerprint
    assert state.attempt_pid(t.task_dir) is None and not state.tmp_dirs(t.task_dir)


def test_worker_module_entry_point(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.run.helpers import save_plan

    t = _counted(tmp_path, "cli", 0)
    plan = save_plan(tmp_path, [t])
    argv = [
        sys.executable,
        "-m",
        "foldrun.run.worker",
        "--spec",
        str(tmp_path / "x.toml"),
        "--task",
        t.key,
        "--plan",
        str(plan),
    ]
    assert subprocess.run(argv, check=False).returncode == 0
    assert subprocess.run(argv, check=False).returncode == 0  # skipped: already done
    assert _counts(tmp_path) == {"cli-0-train": 1}
    bad = subprocess.run(
        [*argv[:-3], "no/such/fold_00/train", "--plan", str(plan)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "no task 'no/such/fold_00/train'" in bad.stderr
