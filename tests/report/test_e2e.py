"""End to end on a real run: `foldrun demo` runs the bundled example, then report and query."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.reliability.helpers import invoke  # in-process: each process took 1-2 s

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(demo_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's finished `foldrun demo` (the tests write reports into it)."""
    return Path(shutil.copytree(demo_run, tmp_path_factory.mktemp("demo") / "d", symlinks=True))


def _fold_scores(run: Path, model: str, variant: str) -> list[float]:
    paths = sorted(run.glob(f"tasks/{model}/{variant}/fold_*/evaluate/metrics.json"))
    return [json.loads(p.read_text())["test/roc_auc"] for p in paths]


def test_report_on_real_run(demo: Path, tmp_path: Path) -> None:
    spec = demo / "foldrun.toml"
    done = invoke("report", str(spec), "--out", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "r/cv_summary.json").read_text())
    run = Path(summary["run"])
    assert summary["complete"] is True and summary["missing"] == []
    assert summary["tasks"]["total"] == summary["tasks"]["done"] > 0
    for row in summary["models"]:
        scores = _fold_scores(run, row["model"], row["variant"])
        assert row["n"] == len(scores) == 5
        assert row["mean"] == pytest.approx(sum(scores) / len(scores))
    assert summary["provenance"]["spec_sha256"]
    assert {"metric_per_fold.png", "roc.png", "heatmap_grid.png"} <= set(summary["plots"])
    rows = pd.read_csv(tmp_path / "r/fold_summary.csv")
    assert len(rows) == summary["tasks"]["total"] and rows["path"].map(
        lambda p: Path(p).is_dir()).all()  # fmt: skip


def test_query_on_real_run(demo: Path) -> None:
    sql = ("SELECT model, count(*) AS n FROM predictions WHERE subset = 'test' AND fold >= 0 "
           "AND variant = 'default' GROUP BY model ORDER BY model")  # fmt: skip
    done = invoke("query", str(demo / "foldrun.toml"), sql, "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    n_samples = len(pd.read_csv(demo / "samples.csv"))
    assert rows and all(r["n"] == n_samples for r in rows)  # every sample once out of fold


def test_partial_real_run_names_the_pending_task(demo: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(demo, tmp_path / "copy", symlinks=True))
    spec = copy / "foldrun.toml"
    run = next((copy / "runs").iterdir())
    shutil.rmtree(run / "tasks/logreg/default/fold_03/evaluate")
    from foldrun.report import build_report

    report = build_report(spec)
    assert "logreg/default/fold_03/evaluate (pending)" in report.summary["missing"]
    logreg = next(m for m in report.summary["models"] if m["model"] == "logreg")
    assert logreg["n"] == 4
