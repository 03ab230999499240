"""Metric and param names MLflow refuses (`recall@10`) are logged under a valid name, said
once in the report, instead of failing every export with a 'retry' that cannot help."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from foldrun.track.mlflow import mlflow_key
from tests.fixtures.synthetic_run import RunShape, write_run

mlflow = pytest.importorskip("mlflow", reason="mlflow is not installed")
pytestmark = pytest.mark.mlflow

SHAPE = RunShape(models={"logreg": 0.8}, n_folds=2, curves=2)


@pytest.mark.parametrize(
    ("name", "valid"),
    [("recall@10", "recall_10"), ("test/roc_auc", "test/roc_auc"), ("f1(macro)", "f1_macro_"),
     ("../up", "up"), ("a//b/", "a/b"), ("", "_"), ("x" * 300, "x" * 250)],
)  # fmt: skip
def test_mlflow_key(name: str, valid: str) -> None:
    assert mlflow_key(name) == valid


def _add_bad_names(root: Path) -> None:
    for metrics in root.glob("tasks/logreg/default/fold_*/evaluate/metrics.json"):
        values = json.loads(metrics.read_text())
        metrics.write_text(json.dumps({**values, "recall@10": 0.5, "test/p@k(5)": 0.25}))
    for train in root.glob("tasks/logreg/default/fold_*/train"):
        (train / "params_logged.json").write_text(json.dumps({"top@k": 3}))
        with (train / "metrics.jsonl").open("a") as fh:
            fh.write(json.dumps({"name": "loss@val", "value": 0.1, "step": 0, "time": 1.0}) + "\n")


def test_refused_names_are_mapped_and_reported(tmp_path: Path) -> None:
    from foldrun.track.mlflow import export_run

    root = write_run(tmp_path / "run", SHAPE)
    _add_bad_names(root)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    report = export_run(root, tracking_uri=uri, experiment="names")
    assert report.ok, report.failed
    assert report.renamed == {"recall@10": "recall_10", "test/p@k(5)": "test/p_k_5_",
                              "top@k": "top_k", "loss@val": "loss_val"}  # fmt: skip
    line = report.line()
    assert line.count("recall@10 -> recall_10") == 1 and "\n" not in line
    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("names")
    runs = client.search_runs([exp.experiment_id])
    fold = next(r for r in runs if r.data.tags["foldrun.key"] == "logreg/default/fold_00")
    assert fold.data.metrics["recall_10"] == 0.5
    assert fold.data.metrics["test/p_k_5_"] == 0.25
    assert fold.data.params["top_k"] == "3"
    assert [m.value for m in client.get_metric_history(fold.info.run_id, "loss_val")] == [0.1]
    parent = next(r for r in runs if r.data.tags["foldrun.key"] == "logreg/default")
    assert parent.data.metrics["recall_10"] == 0.5  # the mean over folds
    again = export_run(root, tracking_uri=uri, experiment="names")  # idempotent
    assert again.ok and again.created == 0
