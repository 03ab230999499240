"""A report built on several CPUs (pooled metrics, bootstrap intervals and figure files on
forked workers) is byte for byte the report built in one process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import foldrun.core.forked as forked
from foldrun.report import build_report, figure_pool
from tests.fixtures.synthetic_run import RunShape, write_run


def test_report_on_many_cpus_equals_report_on_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 17 models x 2 repeats: 34 pooled groups and 17 intervals, enough to be spread
    models = {f"m{i:02d}": 0.5 + 0.02 * i for i in range(17)}
    run = write_run(tmp_path / "run", RunShape(models=models, grid={}, n_samples=120,
                                               n_folds=3, n_repeats=2, holdout=0))  # fmt: skip
    outs = []
    for n in (1, 2):
        shutil.rmtree(run / "results", ignore_errors=True)  # everything computed again
        monkeypatch.setattr(forked, "cpus", lambda n=n: n)
        monkeypatch.setattr(figure_pool, "WORKERS", n)
        outs.append(build_report(run, tmp_path / f"out{n}").path)
    for name in ("cv_summary.json", "fold_summary.csv", "index.html"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    assert sorted(p.name for p in outs[0].glob("*.png")) == sorted(
        p.name for p in outs[1].glob("*.png"))  # fmt: skip
