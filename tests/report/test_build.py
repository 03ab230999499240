from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from foldrun.report import build_report, pages, reuse
from tests.fixtures.synthetic_run import RunShape, write_run
from tests.report.conftest import HOSTILE


def test_report_files(run_dir: Path) -> None:
    report = build_report(run_dir)
    assert report.path == run_dir / "report"
    names = {p.name for p in report.path.iterdir()}
    assert {"index.html", "fold_summary.csv", "cv_summary.json"} <= names
    for plot in ["metric_per_fold", "roc", "pr", "confusion", "prediction_distribution",
                 "training_curves"]:  # fmt: skip
        assert f"{plot}.png" in names
        assert (report.path / f"{plot}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "heatmap_grid.png" in names  # rf has a 2-parameter grid
    assert report.problems == []
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".report")]


def test_fold_summary_one_row_per_task(run_dir: Path) -> None:
    report = build_report(run_dir)
    rows = pd.read_csv(report.path / "fold_summary.csv")
    tasks = pd.read_parquet(run_dir / "results/tasks.parquet")
    assert len(rows) == len(tasks)
    assert {"path", "state", "wall_s", "started", "test/roc_auc", "best_epoch"} <= set(rows)
    assert set(rows.state) == {"done", "failed"}
    evaluate = rows[(rows.stage == "evaluate") & (rows.model == "rf")]
    assert evaluate["test/roc_auc"].notna().all()


def test_summary_statistics_and_separation(run_dir: Path) -> None:
    report = build_report(run_dir)
    summary = json.loads((report.path / "cv_summary.json").read_text())
    assert summary["primary_metric"] == "roc_auc" and summary["greater_is_better"] is True
    assert [m["rank"] for m in summary["models"]] == [1, 2, 3]
    assert summary["models"][0]["model"] == "rf"  # least noise
    rf = summary["models"][0]
    assert rf["optimistic"] is True and rf["n_variants"] == 4
    # the mean is over test folds only, never the holdout or pooled values
    rows = pd.read_csv(report.path / "fold_summary.csv")
    sel = rows[(rows.model == "rf") & (rows.variant == rf["variant"]) & (rows.stage == "evaluate")]
    assert rf["mean"] == pytest.approx(sel["test/roc_auc"].mean())
    assert rf["pooled_ci_low"] < rf["pooled"] < rf["pooled_ci_high"]
    assert {h["model"] for h in summary["holdout"]} == {"rf", HOSTILE}  # logreg refit missing
    assert summary["complete"] is False
    assert "logreg/default/all/refit (missing)" in summary["missing"]
    assert "logreg/default/fold_02/train (failed)" in summary["missing"]
    pairs = summary["comparison"]["pairs"]
    assert len(pairs) == 3 and summary["comparison"]["p_adjust"] == "holm"
    assert all(p["p_holm"] >= p["p"] for p in pairs)
    assert summary["provenance"]["foldrun_version"]


def test_html_is_self_contained_and_escaped(run_dir: Path) -> None:
    html = build_report(run_dir).index.read_text()
    assert HOSTILE not in html and "<img src=x" not in html and "<script" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;&amp;&quot;m&#x27;" in html
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    images = re.findall(r'src="data:image/png;base64,', html)
    assert len(images) >= 6
    for text in ["Partial run", "Comparison", "Holm", "Refit and holdout", "Split balance",
                 "Provenance", "Optimistic"]:  # fmt: skip
        assert text in html


def test_empty_run_never_crashes(tmp_path: Path) -> None:
    (tmp_path / "run" / "tasks").mkdir(parents=True)
    report = build_report(tmp_path / "run")
    html = report.index.read_text()
    assert "nothing to summarize" in html
    assert report.summary["models"] == [] and report.summary["tasks"] == {"total": 0}


def test_run_with_only_train_tasks(tmp_path: Path) -> None:
    shape = RunShape(models={"m": 0.5}, grid={}, n_folds=3, refit=False)
    run = write_run(tmp_path / "run", shape)
    for evaluate in run.glob("tasks/m/default/fold_*/evaluate"):
        for f in evaluate.iterdir():
            f.unlink()
        evaluate.rmdir()
    report = build_report(run)
    assert len(report.summary["missing"]) == 3
    assert "training_curves.png" in report.summary["plots"]


def test_regression_and_out_folder(tmp_path: Path) -> None:
    shape = RunShape(task="regression", models={"ridge": 0.5, "knn": 0.9}, grid={}, n_folds=4)
    run = write_run(tmp_path / "run", shape)
    report = build_report(run, tmp_path / "elsewhere")
    assert report.path == tmp_path / "elsewhere"
    assert "predicted_vs_true.png" in report.summary["plots"]
    assert "roc.png" not in report.summary["plots"]
    assert report.summary["primary_metric"] == "rmse"
    assert report.summary["greater_is_better"] is False
    ranks = report.summary["models"]
    assert ranks[0]["mean"] <= ranks[1]["mean"]  # lower rmse ranks first


def test_failed_build_keeps_previous_report(run_dir: Path, monkeypatch) -> None:
    first = build_report(run_dir).index.read_text()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pages, "index_page", boom)
    monkeypatch.setattr(reuse, "reused", lambda *a: None)  # built again, not kept
    with pytest.raises(RuntimeError):
        build_report(run_dir)
    assert (run_dir / "report/index.html").read_text() == first
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".report")]


def test_provenance_from_git_repo(tmp_path: Path) -> None:
    write_run(tmp_path / "runs/x", RunShape(models={"m": 0.5}, grid={}, n_folds=3))
    spec = tmp_path / "foldrun.toml"
    spec.write_text('name = "x"\n')
    git = ["git", "-C", str(tmp_path), "-c", "user.email=a@b", "-c", "user.name=a"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "foldrun.toml"], check=True)
    subprocess.run([*git, "commit", "-qm", "spec"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    # the spec (no [data]: it does not load, so it cannot be reported) as the source's
    from foldrun.report import analysis
    from foldrun.results import load_results

    results = load_results(tmp_path / "runs/x")
    results.source.spec_path = spec
    prov = analysis.provenance(results)
    assert prov["git_commit"] == head.strip()
    import hashlib

    assert prov["spec_sha256"] == hashlib.sha256(spec.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("shape", "plots", "selected_on"),
    [
        (RunShape(task="multilabel", classes=("a", "b", "c"), n_folds=3), {"metric_per_fold"},
         "test"),
        (RunShape(val=True, n_folds=4), {"roc", "confusion"}, "val"),
        (RunShape(classes=("x", "y", "z"), n_folds=3, n_repeats=2), {"roc", "pr"}, "test"),
    ],
    ids=["multilabel", "val-selection", "multiclass-repeats"],
)  # fmt: skip
def test_task_kinds_and_selection(tmp_path: Path, shape: RunShape, plots, selected_on) -> None:
    report = build_report(write_run(tmp_path / "run", shape))
    assert report.problems == []
    assert {f"{p}.png" for p in plots} <= set(report.summary["plots"])
    rf = next(m for m in report.summary["models"] if m["model"] == "rf")
    assert rf["selected_on"] == selected_on
    assert rf["optimistic"] is (selected_on == "test")


def test_spec_whose_run_does_not_exist(tmp_path: Path) -> None:
    from foldrun.errors import ReportError

    spec = tmp_path / "foldrun.toml"
    (tmp_path / "t.csv").write_text("id,x,y\na,1,0\nb,2,1\nc,3,0\nd,4,1\n")
    spec.write_text('name = "never-ran"\n[data]\ntable = "t.csv"\nid = "id"\ntarget = "y"\n'
                    '[models.m]\nestimator = "sklearn.dummy:DummyClassifier"\n')
    with pytest.raises(ReportError, match="does not exist; run `foldrun run SPEC` first"):
        build_report(spec)
    assert not (tmp_path / "runs").exists()  # nothing written
