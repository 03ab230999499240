"""A task runs only on the manifests its fingerprint was built from: one rewritten during
the run fails that task with a one-line reason, and nothing made from it counts as done."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from foldrun.core.files import file_sha256
from foldrun.core.task import PlannedTask, Resources, TaskRecipe
from foldrun.run.worker import changed_inputs
from tests.reliability.helpers import foldrun, project

# fold 0's train rewrites fold 1's train manifest (once), as another process might
TAMPER = (
    "if [ {fold} = 0 ] && [ ! -e tampered ]; then touch tampered; "
    "tail -n 1 runs/toy/split/fold_01/train.csv >> runs/toy/split/fold_01/train.csv; fi; "
)


@pytest.mark.slow
def test_manifest_rewritten_during_the_run_fails_the_task(tmp_path: Path) -> None:
    spec = project(tmp_path, folds=3, grid=1, prefix=TAMPER)
    run = foldrun("run", str(spec), "--stages", "train", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert (tmp_path / "tampered").exists()
    reason = "split/fold_01/train.csv changed since the plan"
    assert reason in run.stderr
    tasks = tmp_path / "runs/toy/tasks/toy/k0"
    assert (tasks / "fold_00/train/DONE").exists() and (tasks / "fold_02/train/DONE").exists()
    assert not (tasks / "fold_01/train").exists()
    assert reason in (tasks / "fold_01/train.failed/train.log").read_text()
    audit = (tmp_path / "runs/toy/audit.log").read_text()
    assert f"fold_01 | toy/k0 | train | failed | {reason}" in audit
    # the task did not run: the model script never saw the rewritten manifest
    assert "toy/k0/1/train" not in (tmp_path / "counter.txt").read_text()


def test_checking_a_task_s_manifests_is_cheap(tmp_path: Path) -> None:
    # the worker hashes a task's manifests once before it runs: ~0.1 ms for 4 files of 80 kB
    paths = {}
    for name in ("train", "val", "test", "holdout"):
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text("id,x1,x2,target\n" + "s001,0.1,0.2,1\n" * 5000)
    recipe = TaskRecipe(
        run_dir=tmp_path,
        inputs={k: str(p) for k, p in paths.items()},
        input_sha256={k: file_sha256(p) for k, p in paths.items()},
    )
    task = PlannedTask("m/v/fold_00/train", "m", "v", 0, 0, "train", (), Resources(), "f",
                       tmp_path / "t", recipe)  # fmt: skip
    start = time.perf_counter()
    for _ in range(50):
        assert changed_inputs(task) == ""
    assert (time.perf_counter() - start) / 50 < 0.01
    paths["val"].write_text("id\n")
    assert changed_inputs(task).startswith("val.csv changed since the plan: sha256 ")
