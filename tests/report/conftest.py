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
