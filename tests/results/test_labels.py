"""Class labels compare as one class whatever dtype a predictions file was read with."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import foldrun
from foldrun.report.figures_predictions import _confusion
from tests.fixtures.synthetic_run import RunShape, write_run


def _retype(run: Path, model: str, fold: int, pred: str | None) -> pd.DataFrame:
    """y_true as int64, `pred` as int64 / float64 (None: only proba_* columns)."""
    path = run / f"tasks/{model}/default/fold_0{fold}/evaluate/predictions.parquet"
    df = pd.read_parquet(path)
    df["y_true"] = df["y_true"].astype("int64")
    if pred is None:
        df = df.drop(columns="pred")
    else:
        df["pred"] = df["pred"].astype("int64").astype(pred)
    df.to_parquet(path, index=False)
    return df


def test_int_and_float_predictions_are_one_set_of_classes(tmp_path: Path) -> None:
    shape = RunShape(models={"logreg": 0.5, "deep": 0.5}, grid={}, classes=("0", "1"),
                     n_folds=2, holdout=0, refit=False, curves=0)  # fmt: skip
    run = write_run(tmp_path / "run", shape)
    folds = [_retype(run, "logreg", 0, "int64"), _retype(run, "logreg", 1, "float64")]
    for fold in (0, 1):
        _retype(run, "deep", fold, None)  # an entry model that returned only proba_*
    both = pd.concat(folds)
    expected = float(np.mean(both["y_true"].to_numpy() == both["pred"].to_numpy()))
    assert expected > 0.6  # the synthetic model is good: 0.0 would be the bug

    res = foldrun.load_results(run)
    pooled = res.metrics[(res.metrics.subset == "pooled") & (res.metrics.model == "logreg")]
    got = pooled.set_index("metric")["value"]
    assert got["accuracy"] == pytest.approx(expected)
    assert got["balanced_accuracy"] > 0.6 and got["macro_f1"] > 0.6
    low, high = res.pooled_interval("logreg", "default", "accuracy")
    assert low <= expected <= high

    p = res.predictions
    part = p[(p.model == "logreg") & (p.subset == "test")].dropna(axis=1, how="all")
    fig, ax = plt.subplots()
    _confusion(ax, part, "logreg")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1"]  # not 0, 0.0, 1, 1.0
    plt.close(fig)


def test_labels_as_text() -> None:
    from foldrun.results.metrics import as_labels

    assert list(as_labels(pd.Series([1, 0]))) == ["1", "0"]
    assert list(as_labels(pd.Series([1.0, 0.0, np.nan])))[:2] == ["1", "0"]
    assert list(as_labels(pd.Series([1.5, 2.0]))) == ["1.5", "2"]
    assert list(as_labels(pd.Series(["007", "7"]))) == ["007", "7"]  # ids and labels are text
    assert list(as_labels(pd.Series([1, 2.0, "b"], dtype=object))) == ["1", "2", "b"]
