"""Fake scheduler commands on PATH (never fake foldrun's own classes) and task builders."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from foldrun.core.task import PlannedTask, Resources, TaskRecipe

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "slurm"

# sbatch: logs its argv (one call per line) and prints the next job id, like --parsable
_SBATCH = """#!/bin/sh
dir=$(dirname "$0")
if [ -f "$dir/sbatch.fail" ]; then cat "$dir/sbatch.fail" >&2; exit 1; fi
n=$(cat "$dir/next_id" 2>/dev/null || echo 1000)
echo $((n + 1)) > "$dir/next_id"
printf '%s\\n' "$*" >> "$dir/sbatch.calls"
echo "$n"
"""
# squeue/sacct: print the prepared output file; scancel: log argv
_PRINT = """#!/bin/sh
dir=$(dirname "$0")
printf '%s\\n' "$*" >> "$dir/{name}.calls"
if [ -f "$dir/{name}.fail" ]; then cat "$dir/{name}.fail" >&2; exit 1; fi
cat "$dir/{name}.out" 2>/dev/null
if [ -f "$dir/{name}.once" ]; then rm -f "$dir/{name}.out"; fi
exit 0
"""


@dataclass
class FakeSlurm:
    bin: Path

    def calls(self, name: str) -> list[str]:
        path = self.bin / f"{name}.calls"
        return path.read_text().splitlines() if path.exists() else []

    def answer(self, name: str, text: str) -> None:
        (self.bin / f"{name}.out").write_text(textwrap.dedent(text).lstrip())

    def answer_once(self, name: str, text: str) -> None:
        """The next call prints `text`; later calls print nothing."""
        self.answer(name, text)
        (self.bin / f"{name}.once").touch()

    def fail(self, name: str, stderr: str) -> None:
        (self.bin / f"{name}.fail").write_text(stderr)


@pytest.fixture
def fake_slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSlurm:
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    scripts = {"sbatch": _SBATCH}
    scripts.update({name: _PRINT.format(name=name) for name in ("squeue", "sacct", "scancel")})
    for name, text in scripts.items():
        path = bin_dir / name
        path.write_text(text)
        path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return FakeSlurm(bin_dir)


def make_task(
    run_dir: Path,
    model: str,
    variant: str,
    fold: int,
    stage: str,
    deps: tuple[str, ...] = (),
    resources: Resources | None = None,
) -> PlannedTask:
    fold_dir = "all" if fold < 0 else f"fold_{fold:02d}"
    key = f"{model}/{variant}/{fold_dir}/{stage}"
    return PlannedTask(
        key=key,
        model=model,
        variant=variant,
        fold=fold,
        repeat=0,
        stage=stage,
        deps=deps,
        resources=resources or Resources(),
        fingerprint=f"fp-{key}",
        task_dir=run_dir / "tasks" / key,
        recipe=TaskRecipe(run_dir=run_dir),
    )


def cv_tasks(
    run_dir: Path,
    folds: int = 3,
    model: str = "m",
    variant: str = "default",
    resources: Resources | None = None,
) -> list[PlannedTask]:
    """train -> predict -> evaluate per fold, then a refit after every evaluate."""
    tasks: list[PlannedTask] = []
    evaluates = []
    for fold in range(folds):
        train = make_task(run_dir, model, variant, fold, "train", (), resources)
        predict = make_task(run_dir, model, variant, fold, "predict", (train.key,), resources)
        evaluate = make_task(run_dir, model, variant, fold, "evaluate", (predict.key,))
        tasks += [train, predict, evaluate]
        evaluates.append(evaluate.key)
    tasks.append(make_task(run_dir, model, variant, -1, "refit", tuple(evaluates), resources))
    return tasks


def _cluster_answers() -> str | None:
    """None when a cluster answers, else why not."""
    if shutil.which("sinfo") is None:
        return "no SLURM client commands on PATH"
    try:
        done = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"scontrol ping failed: {err}"
    if done.returncode != 0 or "UP" not in done.stdout:
        return f"no slurmctld answers: {' '.join((done.stdout + done.stderr).split())}"
    return None


@pytest.fixture(scope="module")
def cluster() -> None:
    why = _cluster_answers()
    if why is None:
        return
    if os.environ.get("FOLDRUN_REQUIRE_SLURM") == "1":
        pytest.fail(f"FOLDRUN_REQUIRE_SLURM=1 but {why}; run scripts/start-local-slurm.sh")
    pytest.skip(f"{why} (start one with scripts/start-local-slurm.sh)")
