"""Real specs through the real console script: SLURM gives the local backend's results."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = [pytest.mark.slurm, pytest.mark.slow]
FOLDRUN = str(Path(sys.executable).parent / "foldrun")

SPEC = """
name = "e2e"
[data]
table = "samples.csv"
id = "id"
target = "label"
[split]
from = "split"
[models.cmd]
train = "echo ok > {{out}}/model.txt"
predict = "{{python}} {{script}} {{test}} {{predictions}}"
params = {{ python = "{python}", script = "{script}" }}
[slurm]
max_concurrent = 4
poll_max_s = 1
"""
PREDICT = """import sys
import pandas as pd
test = pd.read_csv(sys.argv[1])
score = (test["a"] > 0).astype(float)
pd.DataFrame({"id": test["id"], "score": score}).to_csv(sys.argv[2], index=False)
"""


def make_project(root: Path) -> Path:
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    frame.insert(0, "id", range(60))
    frame["label"] = (frame["a"] + rng.normal(scale=0.5, size=60) > 0).astype(int)
    frame.to_csv(root / "samples.csv", index=False)
    for fold in range(3):  # a hand-made split folder (fold_k: ids with id % 3 == k)
        folder = root / "split" / f"fold_{fold:02d}"
        folder.mkdir(parents=True)
        frame[frame["id"] % 3 != fold].to_csv(folder / "train.csv", index=False)
        frame[frame["id"] % 3 == fold].to_csv(folder / "test.csv", index=False)
    (root / "predict.py").write_text(PREDICT)
    spec = root / "foldrun.toml"
    spec.write_text(SPEC.format(python=sys.executable, script=root / "predict.py"))
    return spec


def foldrun(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FOLDRUN, *args], cwd=cwd, capture_output=True, text=True, timeout=240)


def outputs(run_dir: Path) -> dict[str, bytes]:
    """Every metrics.json and predictions file of the run, by path inside tasks/."""
    found = {}
    for path in sorted((run_dir / "tasks").rglob("*")):
        if path.name in ("metrics.json", "predictions.parquet"):
            found[str(path.relative_to(run_dir))] = path.read_bytes()
    return found


def test_demo_on_slurm_equals_local_bit_for_bit(cluster: None, tmp_path: Path) -> None:
    """The bundled demo (an estimator and a command model; 2 folds to keep CI short)."""
    from foldrun.cli.demo import copy_example

    subset = ["--models", "logreg", "centroid", "--folds", "0", "1"]
    local_spec = copy_example(tmp_path / "local")
    slurm_spec = copy_example(tmp_path / "demo on slurm")
    local = foldrun("run", str(local_spec), *subset, cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    done = foldrun("run", str(slurm_spec), "--backend", "slurm", "--wait", *subset, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    local_out = outputs(local_spec.parent / "runs/breast-cancer")
    slurm_out = outputs(slurm_spec.parent / "runs/breast-cancer")
    assert len(local_out) >= 2 * 2 * 3  # 2 models x 2 folds: predictions x2, metrics (+ own)
    assert slurm_out.keys() == local_out.keys()
    for name, data in local_out.items():
        assert slurm_out[name] == data, name
    assert list((slurm_spec.parent / "runs/breast-cancer/slurm/logs").glob("*.out"))
    # a rerun submits nothing
    again = foldrun("run", str(slurm_spec), "--backend", "slurm", *subset, cwd=tmp_path)
    assert again.returncode == 0 and "0 task(s) run" in again.stdout, again.stdout


def test_dry_run_scripts_submitted_by_hand(cluster: None, tmp_path: Path) -> None:
    spec = make_project(tmp_path / "by hand")
    dry = foldrun("run", str(spec), "--backend", "slurm", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    commands = [line for line in dry.stdout.splitlines() if line.startswith("JOB_")]
    assert len(commands) == 3  # train, predict, evaluate (a command model without refit)
    run_dir = spec.parent / "runs/e2e"
    assert not (run_dir / "tasks").exists()  # nothing ran
    subprocess.run(["bash", "-e", "-c", "\n".join(commands)], check=True, timeout=30)
    deadline = time.monotonic() + 120
    while len(list(run_dir.rglob("DONE"))) < 9 and time.monotonic() < deadline:
        time.sleep(1)
    assert len(list(run_dir.rglob("DONE"))) == 9
    status = foldrun("run", str(spec), "--backend", "slurm", cwd=tmp_path)
    assert "0 task(s) run" in status.stdout
    shutil.rmtree(run_dir / "slurm" / "logs", ignore_errors=True)
