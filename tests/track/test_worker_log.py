"""foldrun.log inside an in-process (entry) task reaches the committed task folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.datasets import load_breast_cancer

ENTRY = """
import foldrun


def run_fold(ctx):
    for i in range(7):
        foldrun.log("loss", 1.0 / (i + 1), step=i)  # buffered: fewer than a flush's worth
    foldrun.log_params(seen_rows=len(ctx.train))
    if ctx.test is None:
        return None
    majority = ctx.train[ctx.target].mode()[0]
    return ctx.test[[ctx.id]].assign(pred=majority)
"""


@pytest.mark.slow
def test_entry_task_log_lands_in_task_folder(tmp_path: Path) -> None:
    frame = load_breast_cancer(as_frame=True).frame.iloc[:90, :4]
    frame.columns = ["a", "b", "c", "d"]
    frame.insert(0, "id", [f"s{i}" for i in range(len(frame))])
    frame["label"] = load_breast_cancer().target[:90]
    frame.to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "logmod.py").write_text(ENTRY)
    spec = tmp_path / "foldrun.toml"
    spec.write_text(
        'name = "t"\n[data]\ntable = "t.csv"\nid = "id"\ntarget = "label"\n'
        '[split]\nfolds = 2\nseed = 0\n[models.m]\nentry = "logmod:run_fold"\n'
    )
    exe = str(Path(sys.executable).parent / "foldrun")
    done = subprocess.run([exe, "run", str(spec)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    train = tmp_path / "runs/t/tasks/m/default/fold_00/train"
    lines = [json.loads(x) for x in (train / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == list(range(7))
    assert json.loads((train / "params_logged.json").read_text())["seen_rows"] > 0
