"""MLflow export of a spec with `[datasets]`: every dataset's runs, tagged with it, in a
real sqlite store; two datasets never share a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.helpers import invoke as cli  # main() in this process
from tests.run.test_datasets import DATASETS, SPEC, _project

mlflow = pytest.importorskip("mlflow", reason="mlflow is not installed")
pytestmark = pytest.mark.mlflow


def test_each_dataset_is_exported_with_its_tag(tmp_path: Path) -> None:
    spec = _project(tmp_path)
    spec.write_text(SPEC + '[mlflow]\ntracking_uri = "sqlite:///store/m.db"\n')
    done = cli("run", str(spec), "--models", "lr")
    assert done.returncode == 0, done.stderr
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/store/m.db")
    exp = client.get_experiment_by_name("many")
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert sorted(r.data.tags["dataset"] for r in parents) == sorted(DATASETS)
    # per dataset: one run per fold and the refit, under its own parent
    by_parent = {r.info.run_id: r.data.tags["dataset"] for r in parents}
    for name, n_folds in DATASETS.items():
        own = [c for c in children if by_parent[c.data.tags["mlflow.parentRunId"]] == name]
        assert len(own) == n_folds + 1
        assert {c.data.tags["foldrun.dataset"] for c in own} == {name}
        keys = {c.data.tags["foldrun.key"] for c in own}
        assert f"{name}/lr/default/fold_00" in keys and f"{name}/lr/default/all" in keys
        assert (tmp_path / f"runs/many/tasks/{name}/lr/default/mlflow.json").is_file()
    again = cli("track", str(spec))
    assert again.returncode == 0, again.stderr
    assert len(client.search_runs([exp.experiment_id], max_results=1000)) == len(runs)
