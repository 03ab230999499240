"""Synthetic run folders for the results tests (written once, copied per test)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fixtures.synthetic_run import RunShape, write_run


@pytest.fixture(scope="session")
def run_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two models (rf with a 2x2 grid), 5 folds, 2 repeats, refit with holdout, partial."""
    shape = RunShape(
        n_repeats=2,
        missing=("rf/n100-m4/repeat_00/fold_01/evaluate",),
        failed=("logreg/default/repeat_01/fold_02/train",),
    )
    return write_run(tmp_path_factory.mktemp("template") / "run", shape)


@pytest.fixture
def run_dir(run_template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run_template, tmp_path / "run"))
