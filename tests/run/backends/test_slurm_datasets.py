"""[datasets] on a real SLURM: every dataset's tasks go through sbatch under their own
keys, into their own folders, and the numbers equal a local run's. Two of the datasets
(a filtered one and one with its own table and split) and two folds by default: each task
is a job of its own, so every fold costs a few seconds of the one cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.reliability.helpers import invoke as foldrun  # in this process; the jobs are real
from tests.run.test_datasets import SPEC, _project

pytestmark = [pytest.mark.slurm, pytest.mark.slow]
SLURM = "[slurm]\nmax_concurrent = 8\npoll_max_s = 1\n"
AUC = ("SELECT dataset, model, fold, value FROM metrics WHERE subset = 'test' AND "
       "metric = 'roc_auc' AND fold >= 0 ORDER BY ALL")  # fmt: skip
FOLDS = {"siteA": 2, "other": 4}  # the datasets run here -> their folds


def _spec_text() -> str:
    """The datasets spec without the entry model and the plain dataset; its default split
    has two folds (siteA), `other` keeps its own four."""
    text = SPEC
    for cut, into in (('[models.ent]\nentry = "ent:run_fold"\n', ""),
                      ("[datasets.whole]\n", ""), ("folds = 3\n", "folds = 2\n")):
        assert cut in text, cut  # the shared spec changed: update this test's cuts
        text = text.replace(cut, into)
    return text


def _scores(spec: Path) -> pd.DataFrame:
    done = foldrun("query", str(spec), AUC, "--format", "json")
    assert done.returncode == 0, done.stderr
    return pd.DataFrame(json.loads(done.stdout))


def test_datasets_on_slurm_equal_a_local_run(cluster: None, tmp_path: Path) -> None:
    (tmp_path / "slurm").mkdir()
    (tmp_path / "local").mkdir()
    on_slurm = _project(tmp_path / "slurm")
    on_slurm.write_text(_spec_text() + SLURM)
    local = _project(tmp_path / "local")
    local.write_text(_spec_text())
    ran = foldrun("run", str(on_slurm), "--backend", "slurm", "--wait", timeout=900)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert foldrun("run", str(local), "--jobs", "2").returncode == 0
    status = json.loads(foldrun("status", str(on_slurm), "--format", "json").stdout)
    assert status["complete"] and {t["dataset"] for t in status["tasks"]} == set(FOLDS)
    assert {(t["dataset"], t["fold"]) for t in status["tasks"] if t["fold"] != "all"} == {
        (name, f"fold_{fold:02d}") for name, folds in FOLDS.items() for fold in range(folds)}
    # the job files name every dataset's tasks by their full keys
    jobs = b"\n".join(p.read_bytes() for p in (tmp_path / "slurm/runs/many/slurm").rglob("*")
                      if p.is_file())  # fmt: skip
    for name in FOLDS:
        assert f"{name}/lr/default/fold_00/train".encode() in jobs
        assert (tmp_path / f"slurm/runs/many/tasks/{name}/cmd/default/fold_00/train/DONE").is_file()
    text = (tmp_path / "slurm/runs/many/tasks/other/cmd/default/fold_03/train/dataset.txt")
    assert text.read_text() == "other other"
    pd.testing.assert_frame_equal(_scores(on_slurm), _scores(local))
