"""An unchanged report is kept (report/reuse.py): `foldrun report` of a run whose inputs are
as the last report recorded returns that report without building it again; anything that
changes what the report says (a task edited, rerun or added, a file the report read, the
report folder itself) builds it again, never shows a stale number."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from foldrun.report import build, build_report, reuse
from tests.reliability.helpers import invoke, project


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The report folders built (not kept) from here on; inputs are never too recent."""
    monkeypatch.setattr(reuse, "RACY_NS", 0)
    made: list[Path] = []
    real = build._cached_write

    def spy(results, folder, *told):  # type: ignore[no-untyped-def]
        made.append(folder)
        return real(results, folder, *told)

    monkeypatch.setattr(build, "_cached_write", spy)
    return made


def _summary(run_dir: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((run_dir / "report" / "cv_summary.json").read_text())


def _stamp(path: Path) -> tuple[int, int, int, int]:
    """What a write changes (the access time changes when the report is read)."""
    st = path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def _mean(summary: dict, model: str) -> float:  # type: ignore[type-arg]
    return next(m["mean"] for m in summary["models"] if m["model"] == model)


def test_an_unchanged_run_keeps_its_report(run_dir: Path, builds: list[Path]) -> None:
    first = build_report(run_dir)
    files = {p.name: _stamp(p) for p in first.path.iterdir()}
    again = build_report(run_dir)
    assert len(builds) == 1  # the second was not built
    assert again.path == first.path and again.index == first.index
    assert {p.name: _stamp(p) for p in again.path.iterdir()} == files  # not written either
    assert again.summary == _summary(run_dir)  # what cv_summary.json holds
    ranked = [(m["model"], m["variant"], m["mean"]) for m in again.summary["models"]]
    assert ranked == [(m["model"], m["variant"], m["mean"]) for m in first.summary["models"]]
    assert [p.name for p in again.plots] == [p.name for p in first.plots]
    assert again.problems == [] and all(p.is_file() for p in again.plots)
    # the record is listed in the marker: the folder stays foldrun's, replaced next time
    assert reuse.RECORD in (first.path / ".foldrun-report").read_text().splitlines()


def test_a_build_reads_the_provenance_for_its_key_and_shows_that_one(
    run_dir: Path, builds: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every task's packages.json is read by the key before the build and after it (an edit
    meanwhile is not recorded); the report shows the first, not a third read of them."""
    calls = []
    real = reuse.provenance

    def counted(results):  # type: ignore[no-untyped-def]
        calls.append(results)
        return real(results)

    monkeypatch.setattr(reuse, "provenance", counted)
    monkeypatch.setattr(build, "provenance", counted)
    report = build_report(run_dir)
    assert len(builds) == 1 and len(calls) == 2
    assert report.summary["provenance"] == _summary(run_dir)["provenance"] == real(calls[0])


def test_an_edited_metrics_json_builds_the_report_again(run_dir: Path, builds: list[Path]) -> None:
    before = _mean(build_report(run_dir).summary, "logreg")
    path = run_dir / "tasks/logreg/default/fold_00/evaluate/metrics.json"
    scores = json.loads(path.read_text())
    scores["test/roc_auc"] = 0.0123
    path.write_text(json.dumps(scores))
    after = build_report(run_dir)
    assert len(builds) == 2
    assert _mean(after.summary, "logreg") != pytest.approx(before)
    assert _mean(_summary(run_dir), "logreg") == pytest.approx(_mean(after.summary, "logreg"))


def test_a_new_task_builds_the_report_again(run_dir: Path, builds: list[Path]) -> None:
    variant = run_dir / "tasks/rf/n100-m4"
    total = build_report(run_dir).summary["tasks"]["total"]  # type: ignore[index]
    shutil.copytree(variant / "fold_00/evaluate", variant / "fold_01/evaluate")  # was missing
    after = build_report(run_dir)
    assert len(builds) == 2
    assert after.summary["tasks"]["total"] == total + 1  # type: ignore[index]


def test_a_file_the_report_read_or_wrote_changed_builds_it_again(
    run_dir: Path, builds: list[Path]
) -> None:
    report = build_report(run_dir)
    read = json.loads((report.path / reuse.RECORD).read_text())["reads"]
    params = next(p for p in read if p.endswith("params.json"))  # shown in the tables
    Path(params).write_text(Path(params).read_text())  # same bytes, a new stamp
    build_report(run_dir)
    assert len(builds) == 2
    (report.path / "roc.png").unlink()  # the report folder itself
    build_report(run_dir)
    assert len(builds) == 3 and (report.path / "roc.png").is_file()
    (report.path / "index.html").write_text("edited")
    build_report(run_dir)
    assert len(builds) == 4 and "edited" not in (report.path / "index.html").read_text()
    build_report(run_dir)
    assert len(builds) == 4  # and kept again once built


def test_recent_inputs_are_not_recorded(
    run_dir: Path, builds: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task folder changed within RACY_NS may change again unseen: built each time."""
    monkeypatch.setattr(reuse, "RACY_NS", 10**18)
    build_report(run_dir)
    assert not (run_dir / "report" / reuse.RECORD).exists()
    build_report(run_dir)
    assert len(builds) == 2


def test_another_out_folder_or_a_failed_plot_is_built(
    run_dir: Path, builds: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_report(run_dir)
    build_report(run_dir, tmp_path / "elsewhere")
    assert len(builds) == 2
    from foldrun.report import figure_pool, figures_scores

    monkeypatch.setattr(figure_pool, "WORKERS", 1)  # drawn here, where the failure is
    monkeypatch.setattr(figures_scores, "metric_per_fold", lambda *a: 1 / 0)
    shutil.rmtree(run_dir / "report")
    failed = build_report(run_dir)
    assert failed.problems and not (failed.path / reuse.RECORD).exists()
    build_report(run_dir)
    assert len(builds) == 4  # tried again


def test_a_forced_rerun_builds_the_report_again(tmp_path: Path, builds: list[Path]) -> None:
    spec = project(tmp_path / "p", folds=3, grid=1)
    assert invoke("run", str(spec)).returncode == 0
    first = invoke("report", str(spec))
    assert first.returncode == 0, first.stderr
    assert invoke("report", str(spec)).stdout == first.stdout  # kept: the same lines
    assert len(builds) == 1
    rows = (spec.parent / "runs/toy/report/fold_summary.csv").read_text()
    model = spec.parent / "model.py"  # new code, fold 0 run again (test_force_rerun.py)
    model.write_text(model.read_text().replace("* 7.31) % 1", "* 3.17 + 0.2) % 1"))
    assert invoke("run", str(spec), "--force", "--folds", "0").returncode == 0
    again = invoke("report", str(spec))
    assert again.returncode == 0 and again.stdout != first.stdout  # its new numbers
    assert len(builds) == 2
    assert (spec.parent / "runs/toy/report/fold_summary.csv").read_text() != rows
