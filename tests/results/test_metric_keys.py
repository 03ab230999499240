"""One metric key per (model, variant, fold): the evaluate stage's value wins over a task's
own key of the same name; a task's own key counts only when evaluate has no such metric."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import foldrun

FOLDS = 4


def _task(run: Path, fold: int, stage: str, metrics: dict[str, float]) -> Path:
    folder = run / f"tasks/m/v/fold_{fold:02d}/{stage}"
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    (folder / "DONE").write_text(f"fp-{fold}-{stage}\n")
    return folder


def _run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    for fold in range(FOLDS):
        _task(run, fold, "train", {"test/roc_auc": 0.99, "test/own": 2.0, "epochs": 3})
        _task(run, fold, "evaluate", {"test/roc_auc": 0.5 + fold / 100})
    return run


def _row(summary, metric: str):
    return summary[summary["metric"] == metric].iloc[0]


def test_evaluate_key_wins_and_n_is_the_number_of_folds(tmp_path: Path) -> None:
    res = foldrun.load_results(_run(tmp_path))
    summary = res.summary("test")
    auc = _row(summary, "roc_auc")
    assert auc["n"] == FOLDS
    assert auc["mean"] == sum(0.5 + f / 100 for f in range(FOLDS)) / FOLDS
    own = _row(summary, "own")
    assert own["n"] == FOLDS and own["mean"] == 2.0  # evaluate does not compute it
    m = res.metrics
    keys = m[["model", "variant", "fold", "repeat", "subset", "metric"]]
    assert not keys.duplicated().any()


def test_task_key_counts_again_when_evaluate_is_gone(tmp_path: Path) -> None:
    run = _run(tmp_path)
    foldrun.load_results(run)  # the cache, with fold 0's evaluate value
    shutil.rmtree(run / "tasks/m/v/fold_00/evaluate")
    m = foldrun.load_results(run).metrics
    row = m[(m["fold"] == 0) & (m["metric"] == "roc_auc") & (m["subset"] == "test")]
    assert list(row["stage"]) == ["train"] and list(row["value"]) == [0.99]


def test_one_class_predictions_give_nan_without_a_flood_of_warnings() -> None:
    """Issue 22 item 9: a one-class external set printed scikit-learn's warnings (only one
    class, y_pred holds classes not in y_true, no positive class) for every fold and
    metric on every report. The metric is NaN, which the report shows."""
    import math
    import warnings

    import pandas as pd

    from foldrun.results.metrics import compute_metrics

    df = pd.DataFrame({"id": ["a", "b", "c"], "y_true": ["0", "0", "0"],
                       "pred": ["0", "1", "0"], "proba_0": [0.9, 0.2, 0.7],
                       "proba_1": [0.1, 0.8, 0.3]})  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = compute_metrics(df, "classification")
    assert [str(w.message) for w in caught] == []
    assert math.isnan(out["roc_auc"]) and out["accuracy"] == 2 / 3
