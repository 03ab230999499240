"""Synthetic run folders for the report tests (written once per session, copied per test)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fixtures.synthetic_run import RunShape, write_run

HOSTILE = "<img src=x onerror=alert(1)>&\"m'"  # no "/": it is a folder name


@pytest.fixture(scope="session")
def report_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three models (one with a hostile name), rf's 2x2 grid, 5 folds, holdout, partial."""
    shape = RunShape(
        models={"logreg": 0.8, "rf": 0.4, HOSTILE: 1.2},
        missing=("rf/n100-m4/fold_01/evaluate", "logreg/default/all/refit"),
        failed=("logreg/default/fold_02/train",),
    )
    return write_run(tmp_path_factory.mktemp("template") / "run", shape)


@pytest.fixture
def run_dir(report_template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(report_template, tmp_path / "run"))


def wide_shape() -> RunShape:
    """21 models as a researcher's sweep has them: two baselines, a 1-parameter grid (svm),
    a 2-parameter grid with numeric values (mlp: 32 must sort after 8), a partial variant
    (gbm: 4 of 5 folds, and the least noise, so it would rank first), a failed task and
    task-written PNGs."""
    models = {f"model_{name}": 0.55 + 0.03 * i for i, name in enumerate(
        ["xgb", "lgbm", "catboost", "knn", "nb", "lda", "qda", "ridge", "lasso", "tree",
         "extra", "ada", "sgd", "bag"])}  # fmt: skip
    models |= {"baseline_prior": 3.0, "baseline_stratified": 2.5, "svm": 0.6, "mlp": 0.5,
               "gbm": 0.3, "logreg": 0.62, "rf": 0.58}  # fmt: skip
    gbm_fold4 = tuple(f"gbm/default/fold_04/{s}" for s in ("train", "predict", "evaluate"))
    return RunShape(
        models=models,
        grid={
            "svm": {"C": [0.01, 0.1, 1, 10, 100]},
            "mlp": {"hidden": [8, 16, 32, 64], "lr": [0.001, 0.01, 0.1]},
        },
        n_samples=200,
        missing=gbm_fold4,
        failed=("model_knn/default/fold_03/train",),
        task_images={"mlp": 2, "rf": 9},
    )


@pytest.fixture(scope="session")
def wide_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("wide") / "run", wide_shape())


@pytest.fixture(scope="session")
def wide_report(wide_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """index.html of the 21-model run (built once: the layout tests only read it)."""
    from foldrun.report import build_report

    run = Path(shutil.copytree(wide_template, tmp_path_factory.mktemp("wide-run") / "run"))
    return build_report(run).index
