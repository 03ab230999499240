"""The report keeps drawn plots and bootstrap intervals under results/.plots, keyed on a hash
of their inputs: a report from the cache must be byte for byte the report drawn afresh, and a
changed task folder must change what depends on it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from foldrun.report import build_report, figure_cache, figure_pool, figures_grids, reuse


def _files(folder: Path) -> dict[str, bytes]:
    # the reuse record holds the files' stamps, not report content (report/reuse.py)
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())
             if p.is_file() and p.name != reuse.RECORD}  # fmt: skip
    # the folder's marker lists the record only when one was written: never for a build
    # within 2 s of its inputs (a fast machine), so its line is not report content either
    marker = ".foldrun-report"
    if marker in files:
        files[marker] = files[marker].replace(f"{reuse.RECORD}\n".encode(), b"")
    return files


def _fresh(run_dir: Path, out: Path) -> dict[str, bytes]:
    """The report drawn with no cache at all."""
    shutil.rmtree(run_dir / "results" / figure_cache.CACHE, ignore_errors=True)
    build_report(run_dir, out)
    return _files(out)


def test_unchanged_run_gives_a_byte_identical_report(run_dir: Path, tmp_path: Path) -> None:
    fresh = _fresh(run_dir, tmp_path / "a")
    cache = run_dir / "results" / figure_cache.CACHE
    kept = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    assert any(name.endswith(".png") for name in kept) and any(n.endswith(".json") for n in kept)
    # every file of the report is in the cache, those drawn in a forked worker too
    drawn = {p.read_bytes() for p in (tmp_path / "a").glob("*.png")}
    assert drawn and drawn <= {p.read_bytes() for p in cache.glob("*.png")}
    build_report(run_dir, tmp_path / "b")
    again = _files(tmp_path / "b")
    assert again["cv_summary.json"] == fresh["cv_summary.json"]
    assert again == fresh  # index.html (embedded images), every PNG, fold_summary.csv
    # nothing was drawn or bootstrapped again: the cache is as the first report left it
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == kept


def test_changed_task_folder_changes_the_report(run_dir: Path, tmp_path: Path) -> None:
    before = _fresh(run_dir, tmp_path / "a")
    # logreg's fold 0 predictions change (its scores reversed): its pooled metric, interval
    # and plots must follow
    path = run_dir / "tasks/logreg/default/fold_00/evaluate/predictions.parquet"
    preds = pd.read_parquet(path)
    probas = [c for c in preds.columns if c.startswith("proba_")]
    preds[probas] = preds[probas].to_numpy()[:, ::-1]
    preds["pred"] = np.asarray([c.removeprefix("proba_") for c in probas])[
        preds[probas].to_numpy().argmax(1)
    ]
    preds.to_parquet(path, index=False)
    build_report(run_dir, tmp_path / "b")  # with the cache of the first report
    cached = _files(tmp_path / "b")
    assert cached["cv_summary.json"] != before["cv_summary.json"]
    assert cached["roc.png"] != before["roc.png"]
    assert cached == _fresh(run_dir, tmp_path / "c")  # just what a report without cache says


def test_cache_holds_only_the_last_reports_entries(run_dir: Path, tmp_path: Path) -> None:
    build_report(run_dir, tmp_path / "a")
    cache = run_dir / "results" / figure_cache.CACHE
    first = {p.name for p in cache.iterdir()}
    (cache / f"{'0' * 64}.png").write_bytes(b"old")  # an entry no report uses any more
    (cache / f"{'1' * 64}.123.tmp").write_bytes(b"half")  # left by a killed report
    build_report(run_dir, tmp_path / "b")
    assert {p.name for p in cache.iterdir()} == first


def test_figures_drawn_in_worker_processes_are_the_ones_drawn_here(
    run_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    """Figures not kept are drawn in forked workers (one per CPU) and here: the report is
    the same bytes as one drawn wholly in this process."""
    monkeypatch.setattr(figure_pool, "WORKERS", 1)
    alone = _fresh(run_dir, tmp_path / "a")
    monkeypatch.setattr(figure_pool, "WORKERS", 3)
    assert _fresh(run_dir, tmp_path / "b") == alone


def test_draw_many_keeps_what_it_draws_and_reads_it_back(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(figure_pool, "WORKERS", 2)
    # grid_1d: a matplotlib figure, whose bytes must not depend on the process drawing it
    means = pd.DataFrame({"a": [1, 2, 3, 4], "mean": [0.5, 0.6, 0.7, 0.8], "ci_low": 0.4,
                          "ci_high": 0.9})  # fmt: skip
    calls = [(f"m{i}", "a", means.assign(mean=means["mean"] / (i + 1), ci_low=0.1), "auc")
             for i in range(3)]  # fmt: skip
    here = [figures_grids.grid_1d(*c) for c in calls]  # no cache: drawn one by one, here
    with figure_cache.cache(tmp_path):
        drawn = figure_pool.draw_many(figures_grids.grid_1d, calls)
    assert drawn == here and len(set(drawn)) == 3
    kept = tmp_path / figure_cache.CACHE
    assert sorted(p.read_bytes() for p in kept.glob("*.png")) == sorted(here)
    with figure_cache.cache(tmp_path):  # read back, not drawn: the workers would not be needed
        monkeypatch.setattr(figure_pool, "_draw_one", None)
        assert figure_pool.draw_many(figures_grids.grid_1d, calls) == here


def test_an_svg_figure_is_kept_as_svg(tmp_path: Path) -> None:
    means = pd.DataFrame({"a": [1, 1, 2, 2], "b": [3, 4, 3, 4], "mean": [0.5, 0.6, 0.7, 0.8]})
    calls = [(f"m{i}", "a", "b", means.assign(mean=means["mean"] / (i + 1)), "auc")
             for i in range(2)]  # fmt: skip
    with figure_cache.cache(tmp_path):
        drawn = figure_pool.draw_many(figures_grids.grid_2d, calls)
    kept = sorted(p.read_bytes() for p in (tmp_path / figure_cache.CACHE).glob("*.svg"))
    assert kept == sorted(drawn) and all(d.startswith(b"<svg") for d in drawn)
    with figure_cache.cache(tmp_path):
        assert figure_pool.draw_many(figures_grids.grid_2d, calls) == drawn  # read back
    assert sorted(p.read_bytes() for p in (tmp_path / figure_cache.CACHE).glob("*.svg")) == kept


def test_figures_are_drawn_here_when_no_worker_can_start(monkeypatch) -> None:
    import multiprocessing

    def no_fork(method: str) -> None:
        raise ValueError(f"cannot find context for {method!r}")  # as on Windows

    means = pd.DataFrame({"a": [1, 2], "mean": [0.5, 0.6], "ci_low": 0.4, "ci_high": 0.9})
    calls = [(f"m{i}", "a", means, "auc") for i in range(3)]
    here = [figures_grids.grid_1d(*c) for c in calls]
    monkeypatch.setattr(figure_pool, "WORKERS", 2)
    monkeypatch.setattr(multiprocessing, "get_context", no_fork)
    assert figure_pool.draw_many(figures_grids.grid_1d, calls) == here


def test_analysis_is_kept_and_read_back_as_computed(run_dir: Path, tmp_path: Path) -> None:
    """Summaries, ranking and comparison are kept as Parquet (no pickle) beside the plots
    and read back equal, dtypes and all, to those computed afresh."""
    from foldrun.report import analysis
    from foldrun.results import load_results

    build_report(run_dir, tmp_path / "a")
    cache = run_dir / "results" / figure_cache.CACHE
    assert {p.name.split(".", 1)[1] for p in cache.glob("*.parquet")} == {
        "summary.parquet", "ranking.parquet", "pairs.parquet"}  # fmt: skip
    results = load_results(run_dir)
    fresh = analysis.analyze(results)  # no cache: computed
    with figure_cache.cache(run_dir / "results"):
        kept = analysis.analyze(results)
    for name in ("summary", "ranking", "pairs"):
        a, b = getattr(fresh, name), getattr(kept, name)
        assert a.equals(b) and list(a.dtypes) == list(b.dtypes), name
    assert (kept.missing, kept.ratio) == (fresh.missing, fresh.ratio)
    assert kept.missing  # the fixture's run is partial: its missing tasks are kept too


def test_damaged_cache_entries_are_drawn_again(run_dir: Path, tmp_path: Path) -> None:
    """Issue 22 item 9: zero-length, truncated or 100-byte entries in results/.plots made
    the report crash ('NoneType' has no read_bytes) or copy a broken PNG into the report
    with exit 0. An entry that does not read whole is a miss: drawn again, replaced."""
    fresh = _fresh(run_dir, tmp_path / "a")
    cache = run_dir / "results" / figure_cache.CACHE
    whole = {p.name: p.read_bytes() for p in cache.iterdir()}
    cuts = {"empty": lambda b: b"", "half": lambda b: b[: len(b) // 2], "100": lambda b: b[:100]}
    for name, cut in cuts.items():
        for path in cache.iterdir():
            path.write_bytes(cut(path.read_bytes()))
        build_report(run_dir, tmp_path / name)
        assert _files(tmp_path / name) == fresh, name  # every PNG whole, the page the same
        assert {p.name: p.read_bytes() for p in cache.iterdir()} == whole  # replaced


def test_a_plot_that_did_not_apply_is_kept_apart_from_an_empty_file(tmp_path: Path) -> None:
    with figure_cache.cache(tmp_path):
        figure_cache.store("k", b"")
        assert figure_cache.lookup("k") == b""  # kept as "no figure"
        (tmp_path / figure_cache.CACHE / "k.png").write_bytes(b"")
        assert figure_cache.lookup("k") is None  # an empty file is damaged: drawn again
