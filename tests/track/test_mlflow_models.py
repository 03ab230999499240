"""MLflow export, issue 14: model files as artifacts, model tags, params on the parent run,
batches within MLflow's limits, quiet output. Real sqlite stores, read back with MlflowClient."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.synthetic_run import RunShape, write_run

mlflow = pytest.importorskip("mlflow", reason="mlflow is not installed")
pytestmark = pytest.mark.mlflow

SHAPE = RunShape(models={"logreg": 0.8, "rf": 0.5}, grid={"rf": {"max_depth": [4, 8]}}, n_folds=2)
SPEC = """name = "demo"
[data]
table = "t.csv"
[models.logreg]
estimator = "sklearn.linear_model:LogisticRegression"
params = { C = 0.5 }
[models.rf]
train = "python train.py --out {out}"
predict = "python predict.py --model {out}/model.pt"
grid = { max_depth = [4, 8] }
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One sqlite store per module: MLflow's migrations take seconds."""
    return f"sqlite:///{tmp_path_factory.mktemp('store')}/mlflow.db"


def _runs(uri: str, experiment: str) -> dict[str, object]:
    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    return {r.data.tags["foldrun.key"]: r for r in client.search_runs([exp.experiment_id])}


def _project(tmp_path: Path) -> Path:
    """A spec beside runs/demo, a synthetic run whose train/refit tasks wrote model files."""
    root = write_run(tmp_path / "runs" / "demo", SHAPE)
    for train in [*root.glob("tasks/*/*/*/train"), *root.glob("tasks/*/*/all/refit")]:
        (train / "model.joblib").write_bytes(b"joblib" * 100)
        (train / "ckpt").mkdir()
        (train / "ckpt" / "epoch_3.pt").write_bytes(b"torch" * 10)
        (train / ".hidden").write_text("not a model")
    for stage in ("train", "predict", "refit"):  # the line foldrun writes for an estimator
        for path in root.glob(f"tasks/logreg/*/*/{stage}"):
            (path / "cmd.txt").write_text(
                f"{stage}: sklearn.linear_model:LogisticRegression params={{'C': 0.5}}\n")
    spec = tmp_path / "foldrun.toml"
    spec.write_text(SPEC)
    return spec


def _artifacts(client, run_id: str, path: str = "") -> set[str]:
    """Every artifact file of a run, recursively."""
    out = set()
    for item in client.list_artifacts(run_id, path):
        out |= _artifacts(client, run_id, item.path) if item.is_dir else {item.path}
    return out


def test_model_files_tags_and_parent_params(tmp_path: Path, store: str) -> None:
    from foldrun.track.mlflow import export_run

    # the run folder: this spec (an estimator without [data] target) no longer loads, and the
    # export never takes the disk as the run of a spec that does not load (issue 22)
    report = export_run(_project(tmp_path).parent / "runs/demo", tracking_uri=store,
                        experiment="models")  # fmt: skip
    assert report.ok, report.line()
    runs = _runs(store, "models")
    client = mlflow.MlflowClient(tracking_uri=store)
    fold = runs["rf/m4/fold_01"]
    arts = _artifacts(client, fold.info.run_id)
    assert {"train/model.joblib", "train/ckpt/epoch_3.pt"} <= arts
    # foldrun's own files are not model files; plots and logs keep their places
    assert not any(a.endswith(("DONE", "resources.json", "cmd.txt", ".hidden")) for a in arts)
    assert "train/params.json" not in arts and "evaluate/predictions.parquet" in arts
    refit = runs["rf/m4/all"]
    assert "refit/model.joblib" in _artifacts(client, refit.info.run_id)
    kinds = {"rf/m4": "command", "rf/m4/fold_01": "command",
             "logreg/default": "estimator", "logreg/default/fold_00": "estimator"}  # fmt: skip
    for key, kind in kinds.items():
        tags = runs[key].data.tags
        assert tags["foldrun.model_kind"] == kind, key
        assert (tags["foldrun.model"], tags["foldrun.variant"]) == tuple(key.split("/")[:2])
    assert runs["logreg/default"].data.tags["foldrun.estimator"] == (
        "sklearn.linear_model:LogisticRegression"
    )
    assert "foldrun.dataset" not in runs["rf/m4"].data.tags  # no [datasets]: no dataset tag
    # the parent carries the variant's params (model params + grid values)
    assert runs["rf/m4"].data.params == {"max_depth": "4"}
    assert runs["rf/m8"].data.params == {"max_depth": "8"}
    again = export_run(tmp_path / "runs/demo", tracking_uri=store, experiment="models")
    assert again.ok and again.created == again.updated == 0
    assert len(_runs(store, "models")) == len(runs)


def test_model_files_over_the_cap_are_named_once(
    tmp_path: Path, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from foldrun.track import mlflow as track

    spec = _project(tmp_path)
    big = spec.parent / "runs/demo/tasks/rf/m8/fold_00/train/huge.ckpt"
    big.write_bytes(os.urandom(3 * 1024 * 1024))
    monkeypatch.setattr(track, "MODEL_FILES_MAX_MB", 2)
    report = track.export_run(spec.parent / "runs/demo", tracking_uri=store, experiment="cap")
    assert report.ok, report.line()
    line = report.line()
    assert line.count("huge.ckpt") == 1 and "2 MB" in line and "\n" not in line
    client = mlflow.MlflowClient(tracking_uri=store)
    fold = _runs(store, "cap")["rf/m8/fold_00"]
    arts = _artifacts(client, fold.info.run_id)
    assert "train/model.joblib" in arts and "train/huge.ckpt" not in arts


def test_long_curves_and_many_params_fit_mlflow_batches(tmp_path: Path, store: str) -> None:
    """Batches within MLflow's limits: at most 1,000 entries in all, 100 params, 100 tags."""
    from foldrun.track.mlflow import export_run

    root = write_run(tmp_path / "run", RunShape(models={"logreg": 0.8}, grid={}, n_folds=2))
    train = root / "tasks/logreg/default/fold_00/train"
    points = [{"name": "loss", "value": 1 / (i + 1), "step": i} for i in range(2500)]
    (train / "metrics.jsonl").write_text("".join(json.dumps(p) + "\n" for p in points))
    (train / "params.json").write_text(json.dumps({f"p{i:03d}": i for i in range(250)}))
    report = export_run(root, tracking_uri=store, experiment="limits")
    assert report.ok, report.failed
    client = mlflow.MlflowClient(tracking_uri=store)
    fold = _runs(store, "limits")["logreg/default/fold_00"]
    assert len(client.get_metric_history(fold.info.run_id, "loss")) == 2500
    assert len(fold.data.params) == 250
    assert len(_runs(store, "limits")["logreg/default"].data.params) == 250


def test_dataset_tag_when_the_task_has_one() -> None:
    """Datasets (issue 13) are not in the run layout yet; the tag code takes one when given."""
    from foldrun.track.mlflow import Unit, run_tags

    tags = run_tags(Unit("rf", "m4", "fold_00", 0, 0, dataset="cancer"), {"rf": {}})
    assert tags["foldrun.dataset"] == "cancer"
    assert "foldrun.dataset" not in run_tags(Unit("rf", "m4", "fold_00", 0, 0), {})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_export_to_a_server_prints_one_line(tmp_path: Path) -> None:
    """A tracking server: no 'View run' line per run (MLflow prints two per terminated run)."""
    bin_dir = Path(sys.executable).parent
    port = _free_port()
    server = subprocess.Popen(
        [str(bin_dir / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{tmp_path}/server.db",
         "--default-artifact-root", str(tmp_path / "art"), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "no server"
                time.sleep(0.5)
        root = write_run(tmp_path / "run", RunShape(models={"logreg": 0.8}, grid={}, n_folds=2))
        uri = f"http://127.0.0.1:{port}"
        args = [str(bin_dir / "foldrun"), "track", str(root), "--tracking-uri", uri]
        done = subprocess.run([*args, "--experiment", "srv"], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "View run" not in done.stdout + done.stderr
        assert done.stdout.count("\n") == 1 and "4 runs created" in done.stdout
    finally:  # the server and its workers at once (a SIGTERM took 20-30 s to shut it down)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
