"""After `foldrun run --force` of one fold, the report uses that fold's new outputs only:
the other folds, done under the old settings (stale), are never pooled with it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from foldrun.report import build, figure_pool, figures_predictions, figures_scores
from foldrun.results.metrics import compute_metrics
from tests.reliability.helpers import invoke as foldrun  # main() in this process
from tests.reliability.helpers import project


def test_pooled_metric_interval_and_plot_points_use_the_rerun_fold_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = project(tmp_path / "p", folds=3, grid=1)
    assert foldrun("run", str(spec)).returncode == 0
    assert foldrun("report", str(spec)).returncode == 0
    model = spec.parent / "model.py"  # new code: every task is stale; rerun fold 0 only
    model.write_text(model.read_text().replace("* 7.31) % 1", "* 3.17 + 0.2) % 1"))
    forced = foldrun("run", str(spec), "--force", "--folds", "0")
    assert forced.returncode == 0, forced.stderr
    done = foldrun("report", str(spec))
    assert done.returncode == 0, done.stderr

    run = spec.parent / "runs/toy"
    fold0 = pd.read_parquet(run / "tasks/toy/k0/fold_00/evaluate/predictions.parquet")
    new_auc = compute_metrics(fold0[fold0.subset == "test"], "classification")["roc_auc"]
    metrics = pd.read_parquet(run / "results/metrics.parquet")
    pooled = metrics[(metrics.subset == "pooled") & (metrics.metric == "roc_auc")]
    assert pooled["value"].tolist() == pytest.approx([new_auc])
    summary = json.loads((run / "report/cv_summary.json").read_text())
    (row,) = summary["models"]
    assert row["pooled"] == pytest.approx(new_auc)
    # the interval: a bootstrap of fold 0's rows alone (the seeded resamples of 20 rows)
    from foldrun.results import stats

    low, high = stats.bootstrap_interval(
        fold0[fold0.subset == "test"].reset_index(drop=True), "classification", "roc_auc"
    )
    assert (row["pooled_ci_low"], row["pooled_ci_high"]) == pytest.approx((low, high))

    # the points of metric_per_fold.png and the rows of the out-of-fold plots
    seen: dict[str, object] = {}
    monkeypatch.setattr(figure_pool, "WORKERS", 1)  # drawn here, where the spies are
    real_points, real_curves = figures_scores.metric_per_fold, figures_predictions.curves
    monkeypatch.setattr(figures_scores, "metric_per_fold", lambda m, *a: seen.setdefault(
        "points", m) is None or real_points(m, *a))  # fmt: skip
    monkeypatch.setattr(figures_predictions, "curves", lambda oof, *a: seen.setdefault(
        "oof", oof) is None or real_curves(oof, *a))  # fmt: skip
    build.build_report(spec, tmp_path / "again")
    points = seen["points"]
    points = points[(points.metric == "roc_auc") & (points.subset == "test")]
    assert points["fold"].tolist() == [0]
    assert points["value"].tolist() == pytest.approx([new_auc])
    (oof,) = seen["oof"].values()
    assert sorted(oof["id"]) == sorted(fold0.loc[fold0.subset == "test", "id"])
    assert np.allclose(np.sort(oof["score"]), np.sort(fold0.loc[fold0.subset == "test", "score"]))
