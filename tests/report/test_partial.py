"""A partial variant (fewer folds done than the split has) is marked in the JSON and in every
plot, also when every variant is partial (nothing to compare the fold counts with)."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.axes import Axes

from foldrun.report import build, figure_pool
from tests.fixtures.synthetic_run import RunShape, write_run


def test_every_variant_partial_is_marked_in_json_and_plots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tuple(f"{m}/default/fold_02/{s}" for m in ("logreg", "rf")
                    for s in ("train", "predict", "evaluate"))  # fmt: skip
    shape = RunShape(grid={}, n_folds=3, holdout=0, refit=False, missing=missing)
    run = write_run(tmp_path / "run", shape)
    ticks: list[str] = []
    real = Axes.set_xticklabels

    def spy(self, labels, *args, **kwargs):  # records what the per-fold plot says
        ticks.extend(str(t) for t in labels)
        return real(self, labels, *args, **kwargs)

    monkeypatch.setattr(Axes, "set_xticklabels", spy)
    monkeypatch.setattr(figure_pool, "WORKERS", 1)  # drawn here, where the spy is
    report = build.build_report(run)
    models = report.summary["models"]
    assert [(m["model"], m["folds"], m["partial"]) for m in models] == [
        ("rf", "2/3", True), ("logreg", "2/3", True)]  # fmt: skip
    variants = report.summary["variants"]
    assert all(v["partial"] for v in variants)
    assert "rf (PARTIAL 2/3)" in ticks and "logreg (PARTIAL 2/3)" in ticks
    assert "No model is complete" in report.index.read_text()


def test_partial_variant_marked_in_hyperparameter_plots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # rf's 2x2 grid; one of its variants lacks a fold
    shape = RunShape(n_folds=3, holdout=0, refit=False, missing=("rf/n100-m4/fold_01/evaluate",))
    run = write_run(tmp_path / "run", shape)
    titles: list[str] = []
    real = Axes.set_title

    def spy(self, label, *args, **kwargs):
        titles.append(str(label))
        return real(self, label, *args, **kwargs)

    monkeypatch.setattr(Axes, "set_title", spy)
    monkeypatch.setattr(figure_pool, "WORKERS", 1)  # drawn here, where the spy is
    build.build_report(run)
    grid_titles = [t for t in titles if t.startswith("rf: mean test")]
    assert grid_titles and all("PARTIAL" in t for t in grid_titles), titles
