"""Nested selection attacked as a user would: a stage grid (`[models.x.stages.predict]
grid`) gives variants `<train variant>+<predict variant>`; only those are chosen among (the
train-only variant has no score of its own and must not hold the choice back)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from tests.reliability.helpers import invoke

# predict scores the informative column times t: t = -1 turns the ranking upside down
MODEL = """
import sys
import pandas as pd
stage, test, predictions, t = sys.argv[1:5]
if stage == "predict":
    rows = pd.read_csv(test, dtype={"id": str})
    score = rows["x1"] * float(t)
    pd.DataFrame({"id": rows["id"], "score": score}).to_csv(predictions, index=False)
"""

SPEC = """name = "nest"
[data]
table = "samples.csv"
id = "id"
target = "y"
task = "classification"
[split]
folds = 3
inner = 2
seed = 1
[models.m]
train = "python model.py train - - 1"
predict = "python model.py predict {test} {predictions} {t}"
[models.m.stages.predict]
grid = { t = [0.5, -1] }
"""


def make(root: Path, spec: str = SPEC) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    n = 120
    x1 = rng.normal(size=n)
    pd.DataFrame({
        "id": [f"{i:03d}" for i in range(n)],
        "x1": x1.round(4),
        "y": (x1 + 0.5 * rng.normal(size=n) > 0).astype(int),
    }).to_csv(root / "samples.csv", index=False)  # fmt: skip
    (root / "model.py").write_text(MODEL)
    (root / "foldrun.toml").write_text(spec)
    return root / "foldrun.toml"


def test_a_stage_grid_is_chosen_among_its_final_variants(tmp_path: Path) -> None:
    spec = make(tmp_path)
    done = invoke("run", str(spec), "--jobs", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = invoke("report", str(spec), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    summary = json.loads((tmp_path / "runs/nest/report/cv_summary.json").read_text())
    [model] = summary["models"]
    nested = model["nested"]
    assert nested["complete"] and nested["n"] == 3
    assert nested["variants"] == 2
    assert {c["variant"] for c in nested["chosen"]} == {"default+t0.5"}
    outer = pd.read_parquet(tmp_path / "runs/nest/results/metrics.parquet")
    outer = outer[(outer["variant"] == "default+t0.5") & (outer["metric"] == "roc_auc")
                  & (outer["subset"] == "test")]  # fmt: skip
    assert nested["mean"] == outer.set_index("fold")["value"].loc[[0, 1, 2]].mean()
