"""The sbatch text is a pure function of its arguments, pinned by golden files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from foldrun.errors import SchedulerError
from foldrun.run.backends.slurm.script import array_range, format_time, render_script

from .conftest import FIXTURES

GOLDEN = FIXTURES / "golden"
RUN = Path("/data/runs/breast-cancer")

CASES = {
    "train_gpu": dict(
        job_name="foldrun-breast-cancer-1a2b3c-train",
        n_tasks=5,
        array_file=RUN / "slurm/train-c4-g1-m32768-t1440.tasks",
        spec_path=Path("/data/foldrun.toml"),
        run_dir=RUN,
        python="/opt/venv/bin/python",
        log_stem=RUN / "slurm/logs/train-c4-g1-m32768-t1440",
        time_min=1440,
        mem_mb=32768,
        cpus=4,
        gpus=1,
        max_concurrent=10,
        partition="gpu",
        account="mylab",
        qos="normal",
        signal_before_s=120,
        max_requeues=2,
        extra=["--constraint=a100", "--exclusive"],
        plan_file=RUN / ".foldrun/plan.pickle",
    ),
    "evaluate_minimal": dict(
        job_name="foldrun-x-0a0a0a-evaluate",
        n_tasks=1,
        array_file=RUN / "slurm/evaluate-c1-g0-m4096-t60.tasks",
        spec_path=Path("/data/foldrun.toml"),
        run_dir=RUN,
        python="python3",
        log_stem=RUN / "slurm/logs/evaluate-c1-g0-m4096-t60",
        time_min=60,
        mem_mb=4096,
        cpus=1,
    ),
    "refit_checked": dict(
        job_name="foldrun-breast-cancer-1a2b3c-refit",
        n_tasks=6,
        array_file=RUN / "slurm/refit-c1-g0-m4096-t60.tasks",
        spec_path=Path("/data/foldrun.toml"),
        run_dir=RUN,
        python="/opt/venv/bin/python",
        log_stem=RUN / "slurm/logs/refit-c1-g0-m4096-t60",
        time_min=60,
        mem_mb=4096,
        cpus=1,
        plan_file=RUN / "slurm/refit-c1-g0-m4096-t60.plan.pickle",
        deps_file=RUN / "slurm/refit-c1-g0-m4096-t60.deps",
    ),
    "hostile_paths": dict(
        job_name="foldrun-a_b-123456-predict",
        n_tasks=3,
        array_file=Path("/tmp/a'; echo foo/my runs/slurm/predict.tasks"),
        spec_path=Path("/tmp/a'; echo foo/spec $(x).toml"),
        run_dir=Path("/tmp/a'; echo foo/my runs"),
        python="/opt/my env/bin/python",
        log_stem=Path("/tmp/a'; echo foo/my runs/slurm/logs/predict"),
        time_min=3 * 24 * 60 + 5,
        mem_mb=1000,
        cpus=1,
        partition="cpu",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_script_matches_golden_file(name: str) -> None:
    text = render_script(**CASES[name])
    golden = GOLDEN / f"{name}.sbatch"
    if os.environ.get("FOLDRUN_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


@pytest.mark.parametrize("name", sorted(CASES))
def test_script_is_valid_bash(name: str) -> None:
    done = subprocess.run(["bash", "-n"], input=render_script(**CASES[name]), text=True)
    assert done.returncode == 0


def test_same_arguments_give_the_same_text() -> None:
    assert render_script(**CASES["train_gpu"]) == render_script(**CASES["train_gpu"])


def test_hostile_paths_stay_data(tmp_path: Path) -> None:
    """A path like `a'; echo foo` reaches the worker verbatim and runs nothing."""
    run_dir = tmp_path / "a'; echo foo" / "my runs"
    (run_dir / "slurm").mkdir(parents=True)
    array_file = run_dir / "slurm" / "x.tasks"
    array_file.write_text("m/v/fold_00/train\nm/v/fold_01/train\n")
    argv_file = tmp_path / "argv"
    fake_python = tmp_path / "py thon"
    fake_python.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{argv_file}"\n')
    fake_python.chmod(0o755)
    spec = run_dir / "spec $(touch pwned).toml"
    text = render_script(
        **{
            **CASES["hostile_paths"],
            "array_file": array_file,
            "spec_path": spec,
            "run_dir": run_dir,
            "python": str(fake_python),
        }
    )
    env = {**os.environ, "SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_JOB_ID": "77"}
    done = subprocess.run(["bash", "-c", text], env=env, cwd=tmp_path, capture_output=True)
    assert done.returncode == 0, done.stderr
    argv = argv_file.read_text().splitlines()
    worker = ["-P", "-m", "foldrun.run.worker"]  # -P: not the submit folder on the path
    assert argv == [*worker, "--spec", str(spec), "--task", "m/v/fold_01/train"]
    assert not (tmp_path / "pwned").exists()
    assert (run_dir / ".foldrun/checkpoints/m/v/fold_01/train").is_dir()


def test_directive_with_a_double_quote_is_refused() -> None:
    with pytest.raises(SchedulerError, match="double quote"):
        render_script(**{**CASES["evaluate_minimal"], "log_stem": Path('/tmp/a"b/log')})


@pytest.mark.parametrize(
    ("minutes", "text"), [(60, "01:00:00"), (90, "01:30:00"), (1440, "1-00:00:00"), (5, "00:05:00")]
)
def test_format_time(minutes: int, text: str) -> None:
    assert format_time(minutes) == text


def test_array_range() -> None:
    assert array_range(1, None) == "0-0"
    assert array_range(1000, 10) == "0-999%10"
    with pytest.raises(ValueError):
        array_range(0, None)


@pytest.mark.parametrize("parent_done", [True, False])
def test_parents_are_checked_before_the_worker(tmp_path: Path, parent_done: bool) -> None:
    run_dir = tmp_path / "run dir"
    (run_dir / ".foldrun").mkdir(parents=True)
    (run_dir / "a.tasks").write_text("m/v/all/refit\n")
    (run_dir / "a.deps").write_text("m/v/fold_00/evaluate\tfp0\tm/v/fold_01/evaluate\tfp1\n")
    for fold, fingerprint in ((0, "fp0"), (1, "fp1" if parent_done else "old")):
        done = run_dir / f"tasks/m/v/fold_{fold:02d}/evaluate/DONE"
        done.parent.mkdir(parents=True)
        done.write_text(fingerprint + "\n")
        (done.parent / "metrics.json").write_text("{}")  # an evaluate's output, whole
    marker = tmp_path / "worker ran"
    fake_python = tmp_path / "python"  # the worker is faked; foldrun.core answers for real
    fake_python.write_text(f'#!/bin/sh\ncase "$3" in foldrun.core.*) exec "{sys.executable}" '
                           f'"$@";; esac\ntouch "{marker}"\n')  # fmt: skip
    fake_python.chmod(0o755)
    text = render_script(
        **{
            **CASES["refit_checked"],
            "array_file": run_dir / "a.tasks",
            "run_dir": run_dir,
            "deps_file": run_dir / "a.deps",
            "python": str(fake_python),
            "plan_file": None,
        }
    )
    env = {**os.environ, "SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_JOB_ID": "9"}
    done = subprocess.run(["bash", "-c", text], env=env, capture_output=True, text=True)
    assert marker.exists() is parent_done
    assert done.returncode == (0 if parent_done else 1), done.stderr
    if not parent_done:
        events = (run_dir / ".foldrun/slurm_events.tsv").read_text().split("\t")
        assert events[1:] == [
            "m/v/all/refit",
            "9_0",
            "failed",
            "an upstream task failed (m/v/fold_01/evaluate)\n",
        ]
        assert (
            "| all | m/v | refit | failed | an upstream task failed"
            in (run_dir / "audit.log").read_text()
        )


@pytest.mark.parametrize("corrupt", [False, True])
def test_a_dataset_task_is_recorded_with_its_key_and_a_corrupt_parent_is_not_done(
    tmp_path: Path, corrupt: bool
) -> None:
    """record() writes the audit line from the key as foldrun.core.audit does (a dataset's
    key lost its requeue reasons: read_audit dropped the line), and a parent whose DONE
    holds the fingerprint but whose metrics.json is cut short is not done (core/state)."""
    from foldrun.results.collect import read_audit

    run_dir = tmp_path / "run"
    (run_dir / ".foldrun").mkdir(parents=True)
    (run_dir / "a.tasks").write_text("d/m/v/all/refit\n")
    (run_dir / "a.deps").write_text("d/m/v/fold_00/evaluate\tfp0\n")
    parent = run_dir / "tasks/d/m/v/fold_00/evaluate"
    parent.mkdir(parents=True)
    (parent / "DONE").write_text("fp0\n")
    (parent / "metrics.json").write_text('{"test/auc": 0.5' + ("" if corrupt else "}"))
    marker = tmp_path / "worker ran"
    fake_python = tmp_path / "python"
    fake_python.write_text(f'#!/bin/sh\ncase "$3" in foldrun.core.*) exec "{sys.executable}" '
                           f'"$@";; esac\ntouch "{marker}"\n')  # fmt: skip
    fake_python.chmod(0o755)
    text = render_script(**{**CASES["refit_checked"], "array_file": run_dir / "a.tasks",
                            "run_dir": run_dir, "deps_file": run_dir / "a.deps",
                            "python": str(fake_python), "plan_file": None})  # fmt: skip
    from foldrun.core.state import NOT_DONE_EXIT

    assert f'"$CHECKED" -eq {NOT_DONE_EXIT} ]' in text  # the script's literal is state's
    env = {**os.environ, "SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_JOB_ID": "9"}
    done = subprocess.run(["bash", "-c", text], env=env, capture_output=True, text=True)
    assert marker.exists() is not corrupt
    assert done.returncode == (1 if corrupt else 0), done.stderr
    if corrupt:
        assert read_audit(run_dir / "audit.log", "d") == {("m", "v", -1, 0, "refit"): "failed"}
        line = (run_dir / "audit.log").read_text()
        assert "| all | d/m/v | refit | failed | an upstream task failed (d/m/v/fold_00" in line
