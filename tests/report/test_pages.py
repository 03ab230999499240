"""Honest incompleteness (issue 22 item 3): a metric undefined on a done fold is NaN with its
reason and never makes a complete run partial; headline, inventory, cv_summary and the
terminal agree; no interval around an undefined pooled metric; no phantom refit; an
external-only run is not 'no model to rank'."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.fixtures.synthetic_run import RunShape, write_run
from tests.reliability.helpers import main_in_process

# 30 rows, 2 positives, plain k-fold: one of the 3 test parts holds no positive
SPEC = """name = "rare"
[data]
table = "samples.csv"
id = "id"
target = "label"
features = ["a", "b"]
task = "classification"
[split]
folds = 3
seed = 0
strategy = "kfold"
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
[models.nb]
estimator = "sklearn.naive_bayes:GaussianNB"
"""


_foldrun = main_in_process  # (exit code, stdout, stderr) of foldrun in this process


@pytest.fixture(scope="module")
def rare(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import foldrun.api as fr

    root = tmp_path_factory.mktemp("rare")
    rng = np.random.default_rng(0)
    y = np.zeros(30, int)
    y[[3, 17]] = 1
    pd.DataFrame({"id": [f"{i:03d}" for i in range(30)], "a": rng.normal(size=30) + y,
                  "b": rng.normal(size=30), "label": y}).to_csv(root / "samples.csv",
                                                                index=False)  # fmt: skip
    (root / "foldrun.toml").write_text(SPEC)
    assert fr.Project.load(root / "foldrun.toml").run(jobs=2).ok
    return root / "foldrun.toml"


def test_an_undefined_fold_metric_is_nan_with_its_reason_never_partial(rare: Path, capsys) -> None:
    code, out, err = _foldrun(capsys, "report", str(rare))
    assert code == 0, err
    folder = rare.parent / "runs/rare/report"
    summary = json.loads((folder / "cv_summary.json").read_text())
    assert summary["complete"] and summary["missing"] == []
    metrics = pd.read_parquet(rare.parent / "runs/rare/results/metrics.parquet")
    auc = metrics[(metrics.subset == "test") & (metrics.metric == "roc_auc")]
    nan_folds = sorted(set(auc.loc[auc["value"].isna(), "fold"]))
    assert len(nan_folds) == 1  # the fold without a positive
    for row in summary["models"]:
        assert row["n"] == 2 and row["undefined"] == 1 and not row["partial"]
        assert row["folds"] == "2/3, 1 undefined"
        assert row["undefined_folds"] == [f"fold {nan_folds[0]}: one class in the test part"]
    page = (folder / "index.html").read_text()
    assert "Run complete: all 20 tasks are done" in page
    assert "No model is complete" not in page and "Partial" not in page
    # headline and inventory both say why the models have fewer scores than done folds
    assert page.count("one class in the test part") >= 2 * 2
    assert "partial run" not in out
    assert "one class in the test part" in out  # the terminal says it too


def test_a_metric_undefined_on_every_fold_is_said_with_why_not_no_scores_yet(
    tmp_path: Path, capsys
) -> None:
    """roc_auc with one class in every test part (a fold column: 0, 1, 0, 1) is NaN on
    every fold: the run, the report and its page said "no test scores yet" / "No
    finished evaluate task yet" of a run whose every task was done."""
    import foldrun.api as fr

    rng = np.random.default_rng(0)
    fold = np.repeat([0, 1, 2, 3], 10)
    pd.DataFrame({"id": [f"s{i:03d}" for i in range(40)], "a": rng.normal(size=40),
                  "b": rng.normal(size=40), "label": fold % 2, "f": fold}).to_csv(
        tmp_path / "samples.csv", index=False)  # fmt: skip
    spec = tmp_path / "foldrun.toml"
    spec.write_text(SPEC.replace("folds = 3\nseed = 0\nstrategy = \"kfold\"",
                                 'fold_column = "f"').replace("rare", "every"))  # fmt: skip
    assert fr.Project.load(spec).run(jobs=2).ok
    code, out, err = _foldrun(capsys, "report", str(spec))
    assert code == 0, err
    why = "roc_auc is undefined (NaN) on every done test fold"
    assert "no test scores" not in out and why in out, out
    assert "lr/default: one class in the test part on all 4 folds" in out
    folder = tmp_path / "runs/every/report"
    summary = json.loads((folder / "cv_summary.json").read_text())
    assert summary["models"] == [] and summary["complete"]
    assert {(u["model"], u["why"]) for u in summary["unscored"]} == {
        ("lr", "one class in the test part on all 4 folds"),
        ("nb", "one class in the test part on all 4 folds")}  # fmt: skip
    page = (folder / "index.html").read_text()
    assert "No finished evaluate task" not in page and "no finished evaluate task" not in page
    assert page.count(why) >= 2 and "Run complete: all 26 tasks are done" in page


def test_the_across_report_marks_no_model_partial_for_an_undefined_fold(
    rare: Path, tmp_path: Path, capsys
) -> None:
    other = Path(shutil.copytree(rare.parent, tmp_path / "other"))
    (other / "foldrun.toml").write_text(SPEC.replace('"rare"', '"other"'))
    shutil.move(other / "runs/rare", other / "runs/other")
    code, _, err = _foldrun(capsys, "report", str(rare), str(other / "foldrun.toml"),
                            "--out", str(tmp_path / "across"))  # fmt: skip
    assert code == 0, err
    summary = json.loads((tmp_path / "across/cv_summary.json").read_text())
    assert summary["partial"] == {}


def test_no_interval_around_an_undefined_pooled_metric(tmp_path: Path) -> None:
    """A class missing from one fold's training rows leaves that fold's probabilities NaN:
    the pooled AUC is undefined, and the bootstrap must not rank NaN into an interval."""
    from foldrun.report import build_report

    run = write_run(tmp_path / "run", RunShape(models={"lr": 0.8, "rf": 0.5}, grid={},
                                               n_folds=3, holdout=0, refit=False))  # fmt: skip
    path = run / "tasks/lr/default/fold_01/evaluate/predictions.parquet"
    preds = pd.read_parquet(path)
    preds["proba_malignant"] = np.nan  # the fold model never saw the class
    preds.to_parquet(path, index=False)
    summary = build_report(run).summary
    rows = {row["model"]: row for row in summary["models"]}  # type: ignore[union-attr]
    assert rows["lr"]["pooled_ci_low"] is None and rows["lr"]["pooled_ci_high"] is None
    assert rows["rf"]["pooled_ci_low"] < rows["rf"]["pooled"] < rows["rf"]["pooled_ci_high"]


def test_a_complete_run_folder_with_a_model_without_refit_is_complete(
    tmp_path: Path, capsys
) -> None:
    """`foldrun report RUN_FOLDER` (no spec, no plan): a command model that plans no refit
    is not missing one."""
    shape = RunShape(models={"cmd": 0.8, "lr": 0.5}, grid={}, n_folds=3, holdout=0,
                     missing=("cmd/default/all/refit",))  # fmt: skip
    run = write_run(tmp_path / "run", shape)
    shutil.rmtree(run / "tasks/cmd/default/all", ignore_errors=True)
    code, out, err = _foldrun(capsys, "report", str(run))
    assert code == 0, err
    summary = json.loads((run / "report/cv_summary.json").read_text())
    assert summary["complete"] and summary["missing"] == [], summary["missing"]
    assert "partial" not in out.lower()


def test_an_external_only_run_is_not_said_to_have_no_model_to_rank(tmp_path: Path) -> None:
    from foldrun.report import build_report

    run = write_run(tmp_path / "run", RunShape(models={"lr": 0.8}, grid={}, n_folds=3,
                                               holdout=0, refit=False))  # fmt: skip
    folders = sorted((run / "tasks/lr/default").glob("fold_*/evaluate"))
    external = pd.read_parquet(folders[0] / "predictions.parquet").assign(subset="external:ext")
    for folder in folders:  # every fold model predicted the same external rows
        external.to_parquet(folder / "predictions.parquet", index=False)
        scores = json.loads((folder / "metrics.json").read_text())
        renamed = {f"external:ext/{k.split('/', 1)[1]}": v for k, v in scores.items()}
        (folder / "metrics.json").write_text(json.dumps(renamed))
    page = build_report(run).index.read_text()
    assert "Run complete" in page
    assert "no model to rank" not in page and "external sets only" in page
