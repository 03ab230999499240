"""Precision, recall and F1 per class, macro and weighted, from foldrun's evaluate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

import foldrun
from foldrun.report import build
from foldrun.results import fast
from foldrun.results.metrics import compute_metrics
from tests.fixtures.synthetic_run import RunShape, write_run


def _preds(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.choice(["007", "b", "c"], size=60)
    p = rng.dirichlet([1, 1, 1], size=60)
    pred = np.where(rng.random(60) < 0.7, y, np.array(["007", "b", "c"])[p.argmax(1)])
    return pd.DataFrame({"id": range(60), "y_true": y, "pred": pred,
                         "proba_007": p[:, 0], "proba_b": p[:, 1], "proba_c": p[:, 2]})  # fmt: skip


def test_per_class_and_averaged_scores_match_sklearn() -> None:
    df = _preds()
    got = compute_metrics(df, "classification")
    classes = ["007", "b", "c"]
    prec, rec, f1, _ = skm.precision_recall_fscore_support(
        df.y_true, df.pred, labels=classes, zero_division=0
    )
    for j, c in enumerate(classes):  # ids and labels are text: 007 stays 007
        assert got[f"precision_{c}"] == pytest.approx(prec[j])
        assert got[f"recall_{c}"] == pytest.approx(rec[j])
        assert got[f"f1_{c}"] == pytest.approx(f1[j])
    assert got["macro_precision"] == pytest.approx(prec.mean())
    assert got["macro_recall"] == pytest.approx(rec.mean())
    weighted = skm.f1_score(df.y_true, df.pred, average="weighted", zero_division=0)
    assert got["weighted_f1"] == pytest.approx(weighted)
    fast_got = fast.fast_metrics(df, "classification")  # the pooled path: the same keys
    assert set(fast_got) == set(got)
    assert [fast_got[k] for k in sorted(got)] == pytest.approx([got[k] for k in sorted(got)])


def test_per_class_metrics_reach_json_but_not_the_ranking_tables(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", RunShape(grid={}, n_folds=3, holdout=0, refit=False))
    res = foldrun.load_results(run)
    test = set(res.summary("test")["metric"])
    assert {"precision_benign", "recall_malignant", "f1_benign", "weighted_f1"} <= test
    report = build.build_report(run)
    names = {m["metric"] for m in report.summary["metrics"]}
    assert "precision_malignant" in names  # every number in cv_summary.json
    html = report.index.read_text()
    ranking_tables = html.split("Every metric of the selected variants")[1].split("</table>")[0]
    assert "precision_benign" not in ranking_tables and "macro_precision" in ranking_tables
    assert "Per class" in html and "recall_malignant" not in ranking_tables
