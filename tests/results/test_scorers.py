"""User scorers: `[report] scorers = { mcc = "sklearn.metrics:matthews_corrcoef" }`, called
with y_true and the predictions for every kind of model, with a direction."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from foldrun.results.metrics import compute_metrics
from tests.reliability.helpers import invoke, project

SCORERS = """
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
[report]
scorers = { mcc = "sklearn.metrics:matthews_corrcoef", wrong = "mymetrics:wrong" }
lower_is_better = ["wrong"]
primary_metric = "wrong"
"""
MYMETRICS = "def wrong(y_true, pred):\n    return float((y_true != pred).mean())\n"


def test_scorers_of_each_task_kind() -> None:
    df = pd.DataFrame({"id": ["1", "2", "3", "4"], "y_true": [0, 1, 1, 0], "pred": [0, 1, 0, 0]})
    refs = {"mcc": "sklearn.metrics:matthews_corrcoef"}
    got = compute_metrics(df, "classification", refs)
    assert got["mcc"] == pytest.approx(skm.matthews_corrcoef(df.y_true, df.pred))
    reg = pd.DataFrame({"id": ["1", "2", "3"], "y_true": [1.0, 2.0, 4.0], "pred": [1.5, 2, 3]})
    got = compute_metrics(reg, "regression", {"medae": "sklearn.metrics:median_absolute_error"})
    assert got["medae"] == pytest.approx(0.5)
    multi = pd.DataFrame({"id": ["1", "2"], "y_true_a": [1, 0], "y_true_b": [1, 1],
                          "proba_a": [0.9, 0.2], "proba_b": [0.4, 0.8]})  # fmt: skip
    got = compute_metrics(multi, "multilabel", {"h": "sklearn.metrics:hamming_loss"})
    assert got["h"] == pytest.approx(skm.hamming_loss(np.array([[1, 1], [0, 1]]),
                                                      np.array([[1, 0], [0, 1]])))  # fmt: skip


def test_scorers_reach_evaluate_and_lower_is_better_is_minimised(tmp_path: Path) -> None:
    spec = project(tmp_path / "p", folds=3, grid=2, extra=SCORERS)
    (spec.parent / "mymetrics.py").write_text(MYMETRICS)
    done = invoke("run", str(spec))
    assert done.returncode == 0, done.stderr
    run = spec.parent / "runs/toy"
    for model in ("toy/k0", "lr/default"):  # a command model and an estimator model
        folder = run / f"tasks/{model}/fold_01/evaluate"
        metrics = json.loads((folder / "metrics.json").read_text())
        preds = pd.read_parquet(folder / "predictions.parquet")
        y, pred = preds["y_true"].astype(str), preds["pred"].astype(str)
        assert metrics["test/mcc"] == pytest.approx(skm.matthews_corrcoef(y, pred))
        assert metrics["test/wrong"] == pytest.approx(float((y != pred).mean()))
    done = invoke("report", str(spec))
    assert done.returncode == 0, done.stderr
    summary = json.loads((run / "report/cv_summary.json").read_text())
    assert summary["primary_metric"] == "wrong" and summary["greater_is_better"] is False
    means = [m["mean"] for m in summary["models"]]
    assert means == sorted(means)  # the smallest error ranks first


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        ("sklearn.metrics:no_such_scorer", "has no 'no_such_scorer'"),
        ("sklearn.no_such_module:f", "cannot import 'sklearn.no_such_module'"),
        ("matthews_corrcoef", "module:function"),
        ("json:__doc__", "not a function"),
    ],
)
def test_bad_scorer_is_one_line_at_check_and_run(tmp_path: Path, ref: str, why: str) -> None:
    spec = project(
        tmp_path / "p", folds=3, grid=1, extra=f'[report]\nscorers = {{ mcc = "{ref}" }}\n'
    )
    for command in ("check", "run"):
        done = invoke(command, str(spec))
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        lines = [line for line in done.stderr.splitlines() if "report.scorers.mcc" in line]
        assert len(lines) == 1 and why in lines[0], done.stderr
    assert not (spec.parent / "runs").exists()  # nothing written
