"""The results are made from the spec as it is now (results/source.py): a spec that does not
load or plan is refused (exit 2, the planning error), a task folder the plan no longer holds
is never shown, a stale one never ranked, and one run given twice is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.reliability.helpers import main_in_process

SPEC = """name = "cur"
[data]
table = "samples.csv"
id = "id"
target = "label"
features = ["a", "b"]
task = "classification"
[split]
folds = 3
seed = 0
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
params = { C = 1.0 }
grid = { max_iter = [100, 200] }
[models.nb]
estimator = "sklearn.naive_bayes:GaussianNB"
"""
FILTERED = SPEC.replace('name = "cur"', 'name = "cur"\n[datasets.siteA]\nfilter = "site == \'A\'"')


def _table(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 2))
    y = (x[:, 0] + 0.7 * rng.normal(size=n) > 0).astype(int)
    return pd.DataFrame({"id": [f"{i:03d}" for i in range(n)],
                         "site": np.where(np.arange(n) % 2, "A", "B"),
                         "a": x[:, 0], "b": x[:, 1], "label": y})  # fmt: skip


def _finished(root: Path, spec: str) -> Path:
    """A finished run of `spec` (made once per module, in-process)."""
    import foldrun.api as fr

    root.mkdir(parents=True)
    _table().to_csv(root / "samples.csv", index=False)
    (root / "foldrun.toml").write_text(spec)
    done = fr.Project.load(root / "foldrun.toml").run(jobs=2)
    assert done.ok and done.counts["done"] == 30, done
    return root


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _finished(tmp_path_factory.mktemp("source") / "p", SPEC)


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "p")) / "foldrun.toml"


_foldrun = main_in_process  # (exit code, stdout, stderr) of foldrun in this process


def _edit(spec: Path, old: str, new: str) -> None:
    text = spec.read_text()
    assert old in text
    spec.write_text(text.replace(old, new))


def _refused(capsys, spec: Path, *words: str) -> None:
    results = spec.parent / "runs/cur/results"
    before = sorted(results.rglob("*")) if results.exists() else []
    code, out, err = _foldrun(capsys, "report", str(spec))
    assert code == 2, (out, err)
    line = err.strip()
    assert "\n" not in line and line.startswith("foldrun: error:"), err
    assert all(w in line for w in words), line
    assert not (spec.parent / "runs/cur/report").exists()  # nothing written
    assert (sorted(results.rglob("*")) if results.exists() else []) == before


def test_a_typo_key_after_a_changed_c_is_refused_not_reported_from_disk(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(project, "C = 1.0", "C = 0.01")
    project.write_text(project.read_text() + "typo = 1\n")
    _refused(capsys, project, "typo", "unknown key")


def test_an_edited_table_cell_is_refused(project: Path, capsys) -> None:
    _edit(project, "C = 1.0", "C = 0.01")
    table = pd.read_csv(project.parent / "samples.csv", dtype={"id": str})
    table.loc[7, "a"] = 9.5
    table.to_csv(project.parent / "samples.csv", index=False)
    _refused(capsys, project, "data table changed")


def test_changed_folds_are_refused(project: Path, capsys) -> None:
    _edit(project, "C = 1.0", "C = 0.01")
    _edit(project, "folds = 3", "folds = 4")
    _refused(capsys, project, "split", "changed")


def test_an_edited_dataset_filter_is_refused(tmp_path: Path, capsys) -> None:
    spec = _finished(tmp_path / "f", FILTERED) / "foldrun.toml"
    _edit(spec, "C = 1.0", "C = 0.01")
    _edit(spec, "site == 'A'", "site == 'B'")
    _refused(capsys, spec, "filter changed")
    code, _, err = _foldrun(capsys, "query", str(spec), "SELECT * FROM metrics")
    assert code == 2 and "filter changed" in err


def test_a_changed_c_is_stale_never_ranked_pooled_or_counted_done(project: Path, capsys) -> None:
    from foldrun.api import Project

    _edit(project, "C = 1.0", "C = 0.01")
    results = Project.load(project).results()
    states = {m: set(p["state"]) for m, p in results.tasks.groupby("model")}
    assert states == {"lr": {"stale"}, "nb": {"done"}}
    assert set(results.current_metrics["model"]) == {"nb"}  # pooled rows included
    assert set(results.summary()["model"]) == {"nb"}
    code, out, err = _foldrun(capsys, "report", str(project))
    assert code == 0, err
    assert "tasks done: 10/30" in out and "lr/" not in out
    summary = json.loads((project.parent / "runs/cur/report/cv_summary.json").read_text())
    assert [m["model"] for m in summary["models"]] == ["nb"]
    assert summary["tasks"]["stale"] == 20 and not summary["complete"]


def test_a_removed_model_is_not_shown(project: Path, capsys) -> None:
    from foldrun.api import Project

    project.write_text(project.read_text().split("[models.nb]")[0])
    results = Project.load(project).results()
    for table in (results.tasks, results.metrics, results.predictions):
        assert set(table["model"]) == {"lr"}
    assert len(results.tasks) == 20
    code, out, err = _foldrun(capsys, "report", str(project))
    assert code == 0, err
    assert "tasks done: 20/20" in out and "nb/" not in out and "partial" not in out
    report = project.parent / "runs/cur/report"
    assert json.loads((report / "cv_summary.json").read_text())["not_in_spec"] == ["nb/default"]
    assert "Not in the spec (left out of every table, never ranked): nb/default." in (
        report / "index.html").read_text()  # fmt: skip
    code, out, _ = _foldrun(capsys, "query", str(project),
                            "SELECT DISTINCT model FROM tasks ORDER BY model", "--format", "csv")
    assert code == 0 and "nb" not in out and "lr" in out


def test_a_removed_grid_value_is_not_shown(project: Path, capsys) -> None:
    _edit(project, "[100, 200]", "[100]")
    code, out, err = _foldrun(capsys, "report", str(project))
    assert code == 0, err
    assert "tasks done: 20/20" in out and "mi200" not in out
    summary = json.loads((project.parent / "runs/cur/report/cv_summary.json").read_text())
    assert {(m["model"], m["variant"]) for m in summary["models"]} == {
        ("lr", "mi100"), ("nb", "default")}  # fmt: skip
    assert summary["tasks"]["total"] == 20 and summary["complete"]


def test_the_plan_follows_a_spec_put_back(project: Path, capsys) -> None:
    """Results cached under an edited spec come back whole when it is put back."""
    from foldrun.api import Project

    text = project.read_text()
    project.write_text(text.split("[models.nb]")[0])
    assert len(Project.load(project).results().tasks) == 20
    project.write_text(text)
    results = Project.load(project).results()
    assert len(results.tasks) == 30 and set(results.tasks["state"]) == {"done"}
    assert set(results.summary()["model"]) == {"lr", "nb"}


def _four_ways(spec: Path) -> list[str]:
    run = spec.parent / "runs/cur"
    return [str(spec), str(run), str(run.relative_to(Path.cwd())) if run.is_relative_to(
        Path.cwd()) else str(run) + "/", str(spec.parent / "runs" / ".." / "runs/cur")]  # fmt: skip


def test_report_and_query_refuse_one_run_given_twice(project: Path, capsys, tmp_path) -> None:
    ways = _four_ways(project)
    code, _, err = _foldrun(capsys, "report", *ways, "--out", str(tmp_path / "across"))
    assert code == 2 and "same run folder" in err and "\n" not in err.strip(), err
    assert not (tmp_path / "across").exists()
    for pair in ([ways[0], ways[1]], [ways[1], ways[3]]):
        code, _, err = _foldrun(capsys, "query", *pair, "SELECT count(*) FROM tasks")
        assert code == 2 and "same run folder" in err, err
