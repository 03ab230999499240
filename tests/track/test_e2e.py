"""End to end: a real run (the session's `foldrun demo`), then `foldrun track` into a sqlite
store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from foldrun.cli import cli
from tests.reliability.helpers import invoke  # in-process: each process took 1-2 s

mlflow = pytest.importorskip("mlflow", reason="mlflow is not installed")
pytestmark = [pytest.mark.mlflow, pytest.mark.slow]


def test_demo_run_tracked_once(demo_run: Path, tmp_path: Path) -> None:
    shutil.copytree(demo_run, tmp_path / "demo", symlinks=True)  # the session's `foldrun demo`
    spec = tmp_path / "demo" / "foldrun.toml"
    spec.write_text(
        spec.read_text() + '\n[mlflow]\ntracking_uri = "sqlite:///mlflow.db"\nexperiment = "demo"\n'
    )
    tasks = spec.parent / "runs"
    done = sorted(tasks.rglob("DONE"))
    for _ in range(2):
        result = CliRunner().invoke(cli, ["track", str(spec)])
        assert result.exit_code == 0, result.output
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{spec.parent}/mlflow.db")
    exp = client.get_experiment_by_name("demo")
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    fold_units = {d.parent.parent for d in done}  # one child run per fold folder (and `all`)
    variants = {u.parent for u in fold_units}
    assert len(runs) == len(fold_units) + len(variants)
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(children) == len(fold_units)
    assert all(
        any(k.startswith("test/") for k in r.data.metrics)
        for r in children
        if r.data.tags["fold"] != "-1"
    )
    by_key = {r.data.tags["foldrun.key"]: r for r in runs}
    logreg = by_key["logreg/default/fold_00"]
    assert logreg.data.tags["foldrun.model_kind"] == "estimator"
    names = {a.path for a in client.list_artifacts(logreg.info.run_id, "train")}
    assert "train/model.joblib" in names  # the fitted model the estimator adapter saved
    centroid = by_key["centroid/default/fold_00"]
    assert centroid.data.tags["foldrun.model_kind"] == "command"
    names = {a.path for a in client.list_artifacts(centroid.info.run_id, "train")}
    assert "train/centroids.json" in names  # what the command's train wrote into {out}
    trees = next(r for k, r in by_key.items() if k.startswith("trees/") and k.count("/") == 1)
    assert {"n_estimators", "max_depth", "n_jobs"} <= set(trees.data.params)
    status = CliRunner().invoke(cli, ["status", str(spec)])
    assert status.exit_code == 0, status.output  # mlflow.json files do not disturb the run folder


def test_run_exports_to_mlflow_when_the_spec_has_it(tmp_path: Path) -> None:
    from tests.run.helpers import toy_project

    spec = toy_project(tmp_path, folds=2, grid=1)
    spec.write_text(
        spec.read_text() + '\n[mlflow]\ntracking_uri = "sqlite:///mlflow.db"\nexperiment = "toy"\n'
    )
    run = invoke("run", str(spec))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "mlflow" in run.stdout
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{spec.parent}/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name("toy").experiment_id])
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(runs) - len(children) == 1  # one model x variant
    assert sorted(r.data.tags["fold"] for r in children) == ["0", "1"]
