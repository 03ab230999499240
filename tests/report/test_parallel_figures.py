"""A report whose figures are drawn on forked workers, attacked: a failure of the page's
other parts while the workers draw, and two reports built at once from threads of one
process (the Python API in a notebook or a web app)."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from foldrun.report import build, figure_cache, figure_pool, figures_scores
from foldrun.report.figure_drawing import cached_file
from tests.fixtures.synthetic_run import RunShape, write_run


def _small_run(path: Path, seed: int = 0) -> Path:
    return write_run(path, RunShape(grid={}, n_folds=3, holdout=0, curves=0, seed=seed))


def test_a_summary_that_fails_while_figures_are_drawn_leaves_no_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a failure of the page itself waited for the figure workers: one of the summary
    (or fold_summary.csv) left a worker drawing, alive after build_report had raised, and
    writing into the folder thrown away."""
    run = _small_run(tmp_path / "run")
    monkeypatch.setattr(figure_pool, "WORKERS", 2)
    before = build.build_report(run).index.read_bytes()
    parent, real = os.getpid(), figures_scores.metric_per_fold.__wrapped__

    def slow(*args: object) -> object:
        if os.getpid() != parent:  # a worker draws for a while
            time.sleep(1.5)
        return real(*args)

    def fails(*args: object) -> dict[str, object]:
        raise RuntimeError("summary failed")

    monkeypatch.setattr(figures_scores, "metric_per_fold", cached_file(slow))
    monkeypatch.setattr(build, "cv_summary", fails)
    monkeypatch.setattr(build.reuse, "reused", lambda *a: None)  # built again, not kept
    monkeypatch.setattr(figure_cache, "CACHE", ".plots-fresh")  # drawn, not read from the cache
    with pytest.raises(RuntimeError, match="summary failed"):
        build.build_report(run)
    assert multiprocessing.active_children() == []
    assert (run / "report/index.html").read_bytes() == before  # the previous report kept
    assert sorted(p.name for p in run.iterdir()) == [
        "audit.log", "report", "results", "split", "tasks"]  # fmt: skip


def test_two_reports_built_at_once_from_threads_delete_nothing_outside_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plot cache's folder was one per process: the report that ended first cleared
    it, and the other's clean-up then scanned the current directory (os.scandir(None)),
    deleting the user's *.png, *.json and *.parquet files there."""
    runs = [_small_run(tmp_path / f"run{i}", seed=i) for i in range(2)]
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    mine = ["figure.png", "data.json", "table.parquet", "notes.txt"]
    for name in mine:
        (cwd / name).write_text("the user's own")
    monkeypatch.chdir(cwd)
    errors: list[BaseException] = []

    def build_one(run: Path) -> None:
        try:
            build.build_report(run)
        except BaseException as err:  # reported below
            errors.append(err)

    for _ in range(2):  # the second time from the cache of the first
        threads = [threading.Thread(target=build_one, args=(run,)) for run in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sorted(p.name for p in cwd.iterdir()) == sorted(mine)
        for run in runs:
            assert (run / "report/index.html").is_file()
            assert any((run / "results" / figure_cache.CACHE).glob("*.png"))


def test_a_ctrl_c_while_the_figures_are_awaited_stays_a_ctrl_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C reaches the figure workers too: the wait for them raised KeyboardInterrupt in
    the page, and the page's `finally` waited again on the spent results: 'ValueError:
    zip() argument 2 is shorter than argument 1', a traceback and exit 1 instead of
    'foldrun: aborted'."""
    run = _small_run(tmp_path / "run")
    parent, real = os.getpid(), figures_scores.metric_per_fold.__wrapped__

    def interrupted(*args: object) -> object:
        if os.getpid() != parent:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(figure_pool, "WORKERS", 2)
    monkeypatch.setattr(figures_scores, "metric_per_fold", cached_file(interrupted))
    with pytest.raises(KeyboardInterrupt):
        build.build_report(run)
    assert multiprocessing.active_children() == []
    assert sorted(p.name for p in run.iterdir()) == [
        "audit.log", "results", "split", "tasks"]  # fmt: skip


def test_waiting_again_after_an_interrupted_wait_raises_it_again() -> None:
    from foldrun.core.forked import forked_start

    def work(i: int) -> int:
        if i == 1:
            raise KeyboardInterrupt
        return i

    wait = forked_start(work, 4, 2)
    for _ in range(2):
        with pytest.raises(KeyboardInterrupt):
            wait()
    ok = forked_start(lambda i: i * 2, 4, 2)
    assert ok() == ok() == [0, 2, 4, 6]  # the same results, not a spent iterator
