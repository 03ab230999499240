"""Modules that lie beside foldrun.toml import at run time, as they do at `foldrun check`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.run.helpers import cancer_table

ENTRY = """
import pandas as pd


def run_fold(ctx):
    share = float((ctx.train[ctx.target] == 1).mean())
    return pd.DataFrame({"id": ctx.test[ctx.id], "proba_0": 1 - share, "proba_1": share})
"""


@pytest.mark.slow
def test_entry_module_beside_the_spec_runs_from_another_folder(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    cancer_table().to_csv(project / "samples.csv", index=False)
    (project / "my_lab_model.py").write_text(ENTRY)
    (project / "foldrun.toml").write_text(
        'name = "beside"\n[data]\ntable = "samples.csv"\nid = "id"\ntarget = "target"\n'
        'task = "classification"\n[split]\nfolds = 2\nseed = 0\n'
        '[models.mine]\nentry = "my_lab_model:run_fold"\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    spec = str(project / "foldrun.toml")
    check = subprocess.run(
        ["foldrun", "check", spec], cwd=elsewhere, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    run = subprocess.run(
        ["foldrun", "run", spec, "--stages", "train", "predict", "evaluate"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    done = sorted(p.parent.name for p in (project / "runs/beside/tasks").rglob("DONE"))
    assert done == ["evaluate"] * 2 + ["predict"] * 2 + ["train"] * 2
