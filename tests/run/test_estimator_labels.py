"""Estimators that take integer classes only (XGBoost, LightGBM) get label codes from
foldrun and predict the class names (issue 22 item 8): predictions files and metrics keep
the original classes. IntegerClassesOnly raises XGBoost's error on other labels."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate

from foldrun.run.worker import execute_planned
from tests.run.helpers import cancer_table, chain, write_split

FEATURES = ["mean_radius", "mean_texture", "worst_area"]
STAND_IN = "tests.run.integer_classes:IntegerClassesOnly"


def _meta(estimator: str) -> dict[str, object]:
    return {
        "kind": "estimator",
        "estimator": estimator,
        "params": {"C": 0.5},
        "data": {"id": "id", "target": "target", "group": None, "features": FEATURES},
    }


def test_string_labels_reach_an_integer_only_estimator_as_codes(tmp_path: Path) -> None:
    table = cancer_table()
    table["target"] = table["target"].map({0: "fake", 1: "real"})
    pairs = write_split(tmp_path, table, folds=3)
    aucs = []
    for fold in range(3):
        for t in chain(tmp_path, "xgb", fold, **_meta(STAND_IN)):
            assert execute_planned(t) == 0, (t.task_dir.parent / f"{t.stage}.failed/train.log")
        folder = tmp_path / f"tasks/xgb/default/fold_{fold:02d}"
        preds = pd.read_parquet(folder / "evaluate/predictions.parquet")
        assert {"proba_fake", "proba_real"} <= set(preds.columns)
        assert set(preds["pred"]) <= {"fake", "real"} and set(preds["y_true"]) == {"fake", "real"}
        aucs.append(json.loads((folder / "evaluate/metrics.json").read_text())["test/roc_auc"])
    # the same scores as scikit-learn's LogisticRegression, which takes the names itself
    oracle = cross_validate(LogisticRegression(C=0.5, max_iter=5000), table[FEATURES],
                            table["target"], cv=pairs, scoring="roc_auc")  # fmt: skip
    assert aucs == pytest.approx(list(oracle["test_score"]))


def test_labels_one_and_two_are_encoded_and_decoded(tmp_path: Path) -> None:
    table = cancer_table()
    table["target"] += 1  # 1 and 2: integers, yet not XGBoost's 0..k-1
    write_split(tmp_path, table, folds=3)
    for t in chain(tmp_path, "xgb", 0, **_meta(STAND_IN)):
        assert execute_planned(t) == 0
    preds = pd.read_parquet(tmp_path / "tasks/xgb/default/fold_00/evaluate/predictions.parquet")
    assert {"proba_1", "proba_2"} <= set(preds.columns) and set(preds["pred"]) <= {1, 2}


def test_an_error_that_is_not_about_labels_stays_the_estimators_own(tmp_path: Path) -> None:
    table = cancer_table()
    table["target"] = table["target"].map({0: "fake", 1: "real"})
    write_split(tmp_path, table, folds=3)
    meta = {**_meta("sklearn.linear_model:LogisticRegression"), "params": {"C": -1.0}}
    train = chain(tmp_path, "lr", 0, **meta)[0]
    assert execute_planned(train) == 1
    log = (train.task_dir.parent / "train.failed/train.log").read_text()
    assert "C" in log and "takes integer classes only" not in log
