"""MLflow export against real stores (sqlite and file), read back with MlflowClient."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from foldrun.cli import cli
from tests.fixtures.synthetic_run import RunShape, write_run

mlflow = pytest.importorskip("mlflow", reason="mlflow is not installed")
pytestmark = pytest.mark.mlflow

SHAPE = RunShape(models={"logreg": 0.8, "rf": 0.5}, grid={"rf": {"max_depth": [4, 8]}}, n_folds=3)
N_PARENTS = 3  # logreg/default, rf/m4, rf/m8
N_CHILDREN = N_PARENTS * (SHAPE.n_folds + 1)  # folds + refit


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One sqlite store per module: MLflow's migrations take seconds."""
    return f"sqlite:///{tmp_path_factory.mktemp('store')}/mlflow.db"


def _runs(uri: str, experiment: str) -> list:
    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    return client.search_runs([exp.experiment_id], max_results=1000)


def _export(root: Path, uri: str, experiment: str):
    from foldrun.track.mlflow import export_run

    return export_run(root, tracking_uri=uri, experiment=experiment)


def test_export_structure_and_no_duplicates(tmp_path: Path, store: str) -> None:
    root = write_run(tmp_path / "run", SHAPE)
    report = _export(root, store, "structure")
    assert report.ok and report.created == N_PARENTS + N_CHILDREN
    runs = _runs(store, "structure")
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert (len(parents), len(children)) == (N_PARENTS, N_CHILDREN)
    parent_ids = {r.info.run_id: r for r in parents}
    for child in children:
        parent = parent_ids[child.data.tags["mlflow.parentRunId"]]
        assert (parent.data.tags["model"], parent.data.tags["variant"]) == (
            child.data.tags["model"],
            child.data.tags["variant"],
        )
    client = mlflow.MlflowClient(tracking_uri=store)
    fold = next(r for r in children if r.data.tags["foldrun.key"] == "rf/m4/fold_01")
    assert fold.data.tags["fold"] == "1" and fold.data.tags["stage"] == "train,predict,evaluate"
    assert fold.data.tags["foldrun.version"]
    assert fold.data.params["max_depth"] == "4"
    history = client.get_metric_history(fold.info.run_id, "train_loss")
    assert sorted(m.step for m in history) == list(range(SHAPE.curves))
    evaluate = root / "tasks/rf/m4/fold_01/evaluate"
    expected = json.loads((evaluate / "metrics.json").read_text())
    assert fold.data.metrics["test/roc_auc"] == pytest.approx(expected["test/roc_auc"])
    arts = {a.path for a in client.list_artifacts(fold.info.run_id, "evaluate")}
    assert "evaluate/predictions.parquet" in arts
    # parent: mean and interval of the folds
    parent = parent_ids[fold.data.tags["mlflow.parentRunId"]]
    values = [
        json.loads((root / f"tasks/rf/m4/fold_0{f}/evaluate/metrics.json").read_text())[
            "test/roc_auc"
        ]
        for f in range(SHAPE.n_folds)
    ]
    assert parent.data.metrics["test/roc_auc"] == pytest.approx(sum(values) / len(values))
    assert parent.data.metrics["test/roc_auc_ci_low"] <= parent.data.metrics["test/roc_auc"]
    assert parent.data.metrics["n_folds"] == SHAPE.n_folds
    stored = json.loads((root / "tasks/rf/m4/fold_01" / "mlflow.json").read_text())
    assert stored["run_id"] == fold.info.run_id
    # a second export changes nothing
    again = _export(root, store, "structure")
    assert again.ok and again.created == 0 and again.unchanged == N_PARENTS + N_CHILDREN
    assert len(_runs(store, "structure")) == N_PARENTS + N_CHILDREN
    assert len(client.get_metric_history(fold.info.run_id, "train_loss")) == SHAPE.curves


def test_resume_adds_folds_without_duplicates(tmp_path: Path, store: str) -> None:
    full = write_run(tmp_path / "full", SHAPE)
    root = tmp_path / "run"
    shutil.copytree(full, root)
    for fold_dir in root.glob("tasks/*/*/fold_02"):
        shutil.rmtree(fold_dir)
    first = _export(root, store, "resume")
    assert first.created == N_PARENTS + N_PARENTS * SHAPE.n_folds  # 2 folds + refit each
    ids = {r.data.tags["foldrun.key"]: r.info.run_id for r in _runs(store, "resume")}
    for fold_dir in full.glob("tasks/*/*/fold_02"):
        shutil.copytree(fold_dir, root / fold_dir.relative_to(full))
    second = _export(root, store, "resume")
    assert second.ok and second.created == N_PARENTS and second.updated == N_PARENTS
    runs = _runs(store, "resume")
    assert len(runs) == N_PARENTS + N_CHILDREN
    keys = [r.data.tags["foldrun.key"] for r in runs]
    assert len(set(keys)) == len(keys)
    assert all(
        ids[r.data.tags["foldrun.key"]] == r.info.run_id
        for r in runs
        if r.data.tags["foldrun.key"] in ids
    )
    parent = next(r for r in runs if r.data.tags["foldrun.key"] == "logreg/default")
    assert parent.data.metrics["n_folds"] == SHAPE.n_folds


def test_rerun_stage_replaces_child(tmp_path: Path, store: str) -> None:
    root = write_run(tmp_path / "run", SHAPE)
    _export(root, store, "rerun")
    res = root / "tasks/logreg/default/fold_00/train/resources.json"
    obj = json.loads(res.read_text())
    obj["ended"] = "2026-04-01T00:00:00+00:00"
    res.write_text(json.dumps(obj))
    report = _export(root, store, "rerun")
    assert report.ok and report.created == 1
    runs = _runs(store, "rerun")
    assert len(runs) == N_PARENTS + N_CHILDREN


def test_file_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    root = write_run(tmp_path / "run", SHAPE)
    uri = (tmp_path / "mlruns").as_uri()
    assert _export(root, uri, "files").ok
    assert _export(root, uri, "files").unchanged == N_PARENTS + N_CHILDREN
    runs = _runs(uri, "files")
    assert len(runs) == N_PARENTS + N_CHILDREN
    assert sum("mlflow.parentRunId" in r.data.tags for r in runs) == N_CHILDREN


def test_unreachable_server(tmp_path: Path) -> None:
    root = write_run(tmp_path / "run", SHAPE)
    before = sorted(p.name for p in (root / "tasks/rf/m4/fold_00/train").iterdir())
    result = CliRunner().invoke(
        cli, ["track", str(root), "--tracking-uri", "http://127.0.0.1:9", "--experiment", "x"]
    )
    assert result.exit_code == 1, result.output
    assert "not exported to http://127.0.0.1:9" in result.output
    assert sorted(p.name for p in (root / "tasks/rf/m4/fold_00/train").iterdir()) == before
    assert not (root / "tasks/rf/m4/fold_00/mlflow.json").exists()


@pytest.mark.slow
def test_console_script_and_spec(tmp_path: Path) -> None:
    root = write_run(tmp_path / "runs" / "demo", SHAPE)
    spec = tmp_path / "foldrun.toml"
    spec.write_text(
        'name = "demo"\n[data]\ntable = "t.csv"\n[models.m]\nentry = "os:getcwd"\n'
        '[mlflow]\ntracking_uri = "sqlite:///store/m.db"\n'
    )
    exe = str(Path(sys.executable).parent / "foldrun")
    # a spec that does not load is refused: the disk is never exported as its run
    refused = subprocess.run([exe, "track", str(spec)], capture_output=True, text=True)
    assert refused.returncode == 2 and "models.m.entry" in refused.stderr, refused.stderr
    assert not (tmp_path / "store").exists()
    uri = f"sqlite:///{tmp_path}/store/m.db"
    done = subprocess.run([exe, "track", str(root), "--tracking-uri", uri],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "created" in done.stdout and (tmp_path / "store" / "m.db").is_file()
    assert (root / "tasks/logreg/default/mlflow.json").is_file()
    bad = subprocess.run([exe, "track", str(root)], capture_output=True, text=True)
    assert bad.returncode == 2 and "[mlflow]" in bad.stderr


def test_require_mlflow_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from foldrun.errors import TrackError
    from foldrun.track.mlflow import require_mlflow

    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(TrackError, match=r'pip install "foldrun\[mlflow\]"'):
        require_mlflow()


def test_maybe_export_after_run_never_raises(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from foldrun.spec.mlflow import MlflowSpec
    from foldrun.track.mlflow import maybe_export_after_run

    assert maybe_export_after_run(SimpleNamespace(mlflow=None), tmp_path) is None
    off = SimpleNamespace(mlflow=MlflowSpec(after_run=False), path=tmp_path / "x.toml")
    assert maybe_export_after_run(off, tmp_path) is None
    broken = SimpleNamespace(mlflow=MlflowSpec(), path=tmp_path / "missing.toml")
    message = maybe_export_after_run(broken, tmp_path)
    assert message is not None and "foldrun track" in message


def test_long_epoch_logs_are_exported_per_metric_and_phase(tmp_path: Path, store: str) -> None:
    """Seed 003's `phase`/`metric`/`value` lines were dropped by the export without a
    word (issue 22); now `train/loss` and `val/loss` are curves, and a line that cannot be
    read is counted in the export's line."""
    shape = RunShape(models={"logreg": 0.8}, n_folds=2)
    root = write_run(tmp_path / "run", shape)
    train = root / "tasks/logreg/default/fold_01/train"
    lines = [{"step": s, "epoch": s, "phase": p, "metric": "loss", "value": 1 / s}
             for s in (1, 2, 3) for p in ("train", "val")]  # fmt: skip
    (train / "metrics.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in lines) + '{"phase": "val", "metric": "loss"}\n')
    report = _export(root, store, "long-curves")
    assert report.ok and report.unreadable_curve_lines == 1
    assert "1 line(s) of the training logs could not be read: left out" in report.line()
    client = mlflow.MlflowClient(tracking_uri=store)
    fold = next(r for r in _runs(store, "long-curves")
                if r.data.tags.get("foldrun.key") == "logreg/default/fold_01")  # fmt: skip
    for name in ("train/loss", "val/loss"):
        history = client.get_metric_history(fold.info.run_id, name)
        assert sorted((m.step, m.value) for m in history) == [(1, 1.0), (2, 0.5), (3, 1 / 3)]


def test_export_takes_done_and_fold_dirs_from_the_task_folders(tmp_path: Path) -> None:
    """core/state decides what is done (a DONE beside a metrics.json cut short is corrupt,
    never exported), and the fold dir is the folder's own (core/taskid.py), not a repeat
    count guessed from the repeats seen (a run of repeat 0 alone named no repeat)."""
    from foldrun.track.mlflow import find_units

    run = write_run(tmp_path / "run", RunShape(models={"m": 0.5}, grid={}, n_folds=2,
                                               n_repeats=2, holdout=0, refit=False))  # fmt: skip
    shutil.rmtree(run / "tasks/m/default/repeat_01")  # only repeat 0 done so far
    (run / "tasks/m/default/repeat_00/fold_01/evaluate/metrics.json").write_text('{"test/a": 1')
    units = {u.fold_dir: u for u in find_units(run)}
    assert sorted(units) == ["repeat_00/fold_00", "repeat_00/fold_01"]
    assert "evaluate" in units["repeat_00/fold_00"].stages
    assert sorted(units["repeat_00/fold_01"].stages) == ["predict", "train"]
