from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from foldrun.core import state
from foldrun.run import worker
from foldrun.run.worker import execute_planned
from tests.run.helpers import cancer_table, chain, task, write_split

FEATURES = ["mean_radius", "mean_texture", "mean_smoothness", "worst_area", "worst_concavity"]


def _logreg_meta() -> dict[str, object]:
    return {
        "kind": "estimator",
        "estimator": "sklearn.linear_model:LogisticRegression",
        "preprocess": ("sklearn.preprocessing:StandardScaler",),
        "params": {"C": 0.5, "max_iter": 5000},
        "data": {"id": "id", "target": "target", "group": None, "features": FEATURES},
    }


def test_estimator_scores_equal_sklearn_cross_validate(tmp_path: Path) -> None:
    table = cancer_table()
    pairs = write_split(tmp_path, table, folds=3)
    scores = {"accuracy": [], "roc_auc": []}
    for fold in range(3):
        for t in chain(tmp_path, "logreg", fold, **_logreg_meta()):
            assert execute_planned(t) == 0, (t.task_dir.parent / f"{t.stage}.failed").exists()
        metrics = json.loads(
            (
                tmp_path / "tasks/logreg/default" / f"fold_{fold:02d}" / "evaluate/metrics.json"
            ).read_text()
        )
        scores["accuracy"].append(metrics["test/accuracy"])
        scores["roc_auc"].append(metrics["test/roc_auc"])
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=5000))
    oracle = cross_validate(
        model, table[FEATURES], table["target"], cv=pairs, scoring=["accuracy", "roc_auc"]
    )
    assert scores["accuracy"] == list(oracle["test_accuracy"])
    assert scores["roc_auc"] == list(oracle["test_roc_auc"])


def test_task_folder_has_every_file(tmp_path: Path) -> None:
    write_split(tmp_path, cancer_table(), folds=3)
    train, predict, evaluate = chain(tmp_path, "logreg", 0, **_logreg_meta())
    for t in (train, predict, evaluate):
        assert execute_planned(t) == 0
    folder = train.task_dir
    assert {"cmd.txt", "train.log", "resources.json", "params.json", "DONE", "model.joblib"} <= {
        p.name for p in folder.iterdir()
    }
    assert state.read_fingerprint(folder) == train.fingerprint
    res = json.loads((folder / "resources.json").read_text())
    assert res["exit_code"] == 0 and res["wall_s"] >= 0 and res["peak_mb"] > 0
    assert json.loads((folder / "params.json").read_text()) == {"C": 0.5, "max_iter": 5000}
    assert (folder / "train.log").read_text().startswith("$ train: sklearn.preprocessing")
    preds = pd.read_parquet(evaluate.task_dir / "predictions.parquet")
    assert {"id", "subset", "pred", "proba_0", "proba_1", "y_true"} <= set(preds.columns)
    assert np.allclose(preds["proba_0"] + preds["proba_1"], 1)
    audit = (tmp_path / "audit.log").read_text().splitlines()
    assert audit[0].endswith("| fold_00 | logreg/default | train | started")
    # a second execution of a done task is skipped
    assert execute_planned(train) == 0
    assert (tmp_path / "audit.log").read_text().splitlines()[-1].endswith("skipped | already done")


def test_failed_estimator_keeps_log_and_no_done(tmp_path: Path) -> None:
    write_split(tmp_path, cancer_table(), folds=3)
    meta = {**_logreg_meta(), "params": {"C": -1.0}}
    train = task(tmp_path, "logreg", "train", **meta)
    assert execute_planned(train) == 1
    assert not train.task_dir.exists()
    failed = state.failed_dir(train.task_dir)
    assert not (failed / "DONE").exists()
    assert "Error" in (failed / "train.log").read_text()
    assert state.disk_state(train.task_dir, train.fingerprint).value == "failed"
    # a later success replaces the failure
    ok = task(tmp_path, "logreg", "train", **_logreg_meta())
    assert execute_planned(ok) == 0 and not failed.exists()


@pytest.mark.parametrize("with_val", [False])
def test_stale_fingerprint_detected(tmp_path: Path, with_val: bool) -> None:
    write_split(tmp_path, cancer_table(), folds=3)
    first = task(tmp_path, "logreg", "train", **_logreg_meta())
    assert execute_planned(first) == 0
    changed = task(tmp_path, "logreg", "train", **{**_logreg_meta(), "params": {"C": 2.0}})
    assert state.disk_state(changed.task_dir, changed.fingerprint).value == "stale"
    assert execute_planned(changed) == 0  # the worker itself reruns it (the runner guards)
    assert state.read_fingerprint(changed.task_dir) == changed.fingerprint


def test_entry_model_train_predict_evaluate(tmp_path: Path) -> None:
    write_split(tmp_path, cancer_table(), folds=3)
    meta = {
        "kind": "entry",
        "entry": "tests.run.fold_entry:run_fold",
        "params": {"a": 1},
        "data": {"id": "id", "target": "target", "group": None, "features": FEATURES},
    }
    for t in chain(tmp_path, "ent", 0, **meta):
        assert execute_planned(t) == 0, t.task_dir.parent / f"{t.stage}.failed/train.log"
    folder = tmp_path / "tasks/ent/default/fold_00"
    logged = json.loads((folder / "train/metrics.jsonl").read_text().splitlines()[0])
    assert logged["name"] == "rows" and logged["value"] > 100 and logged["step"] == 0
    preds = pd.read_parquet(folder / "evaluate/predictions.parquet")
    test_ids = pd.read_csv(tmp_path / "split/fold_00/test.csv")["id"]
    assert sorted(preds["id"]) == sorted(test_ids) and set(preds["subset"]) == {"test"}
    metrics = json.loads((folder / "evaluate/metrics.json").read_text())
    assert metrics["test/roc_auc"] == 0.5  # a constant score ranks nothing


def test_estimator_refit_scores_the_holdout(tmp_path: Path) -> None:
    table = cancer_table()
    holdout, rest = table.iloc[::5], table.drop(index=table.index[::5])
    split = tmp_path / "split"
    (split / "all").mkdir(parents=True)
    rest.to_csv(split / "all/train.csv", index=False)
    holdout.to_csv(split / "holdout.csv", index=False)
    meta = {
        **_logreg_meta(),
        "inputs": {
            "train": str(split / "all/train.csv"),
            "val": None,
            "test": None,
            "holdout": str(split / "holdout.csv"),
        },
    }
    refit = task(tmp_path, "logreg", "refit", fold=-1, **meta)
    assert execute_planned(refit) == 0
    metrics = json.loads((refit.task_dir / "metrics.json").read_text())
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=5000))
    model.fit(rest[FEATURES], rest["target"])
    assert metrics["holdout/accuracy"] == model.score(holdout[FEATURES], holdout["target"])
    assert (refit.task_dir / "model.joblib").exists()


def test_disk_full_names_the_folder_only_when_nearly_full(tmp_path, monkeypatch) -> None:
    assert worker.disk_full(tmp_path) == ""  # this disk has room
    real = os.statvfs(tmp_path)

    class Full:
        f_frsize = real.f_frsize
        f_bavail = (worker.FULL_DISK_BYTES // real.f_frsize) - 1

    monkeypatch.setattr(worker.os, "statvfs", lambda path: Full)
    reason = worker.disk_full(tmp_path / "task")
    assert str(tmp_path) in reason and "full" in reason and "rerun" in reason
