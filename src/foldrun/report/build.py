"""`build_report`: results -> report/ (fold_summary.csv, cv_summary.json, *.png, index.html).

The folder is built under a temporary name beside the target and renamed into place, so a
failed report leaves the previous one intact. It replaces only a report folder foldrun made
(foldrun.core.owned): never the run folder, a folder above it, or one holding other files.
A plot that fails is named in the report and skipped; a partial run is reported as far as
it goes.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from foldrun.core.cells import spreadsheet_safe
from foldrun.core.forked import forked_map, forked_start
from foldrun.core.owned import Kind, check_replaceable, staging, writing
from foldrun.errors import ReportError
from foldrun.layout import RunLayout
from foldrun.report import figure_cache, figure_pool, reuse
from foldrun.report.provenance import provenance
from foldrun.results.curves import has_curves
from foldrun.results.load import load_results
from foldrun.results.source import resolve, resolve_runs, views

if TYPE_CHECKING:
    from foldrun.report import analysis
    from foldrun.results import Results

# The analysis (scipy), the figures (matplotlib) and the page are imported by the functions
# that build a report: a report kept as it was (reuse.py) loads none of them (~1.3 s of CPU).

# what a report folder holds; one made before the marker existed is ours when it holds
# nothing else
REPORT = Kind(
    what="report folder",
    marker=".foldrun-report",
    # and what an unchanged report was made from (reuse.RECORD), a pattern, not a name: an
    # older foldrun's folder, without it, is still told by its fixed names (core/owned.py)
    patterns=(".foldrun-report", "index.html", "cv_summary.json", "fold_summary.csv", "*.png",
              ".foldrun-reuse*.json"),
    marker_required=False,
    # a spec with [datasets]: each dataset's own report in <dataset>/ (else a second
    # `foldrun report` refused the folder the first one made)
    listed_patterns=("*/index.html", "*/cv_summary.json", "*/fold_summary.csv", "*/*.png"),
)


@dataclass
class Report:
    path: Path  # the report folder
    summary: dict[str, object]
    plots: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # plots that failed, and why

    @property
    def index(self) -> Path:
        return self.path / "index.html"


def build_report(run_dir_or_spec: str | Path, out: str | Path | None = None) -> Report:
    """The report of a run; of a run with `[datasets]`, the comparison across its datasets
    in the report folder and each dataset's own report in `<dataset>/` below it. One
    report at a time in a process (threads of the Python API wait for each other): the
    plot cache and the drawing workers are the process's."""
    with _ONE_AT_A_TIME:
        return _build(run_dir_or_spec, out)


def build_across_report(runs: list[str | Path], out: str | Path) -> Path:
    """Write the comparison of `runs` (specs or run folders) into `out`; its index.html."""
    sources = resolve_runs(runs)  # the same run twice is refused
    run_dirs = [s.run_dir for s in sources]
    target = Path(out).absolute()
    check_replaceable(target, REPORT, keep=run_dirs, error=ReportError)
    # a run with [datasets] is each of its datasets
    # lazy: the figures (matplotlib) only when a report is built (see the imports)
    from foldrun.report.across import dataset_names, write_across

    loaded = [load_results(view) for s in sources for view in views(s)]
    names = dataset_names(loaded)
    with writing(target.parent, ReportError), staging(
        target, REPORT, keep=run_dirs, error=ReportError
    ) as tmp:
        write_across(loaded, names, tmp)
    return target / "index.html"


_ONE_AT_A_TIME = threading.Lock()


def _build(run_dir_or_spec: str | Path, out: str | Path | None) -> Report:
    source = resolve(run_dir_or_spec)
    run_dir = source.run_dir
    target = Path(out).absolute() if out else RunLayout(run_dir).report_dir
    # refused before anything is written, the results tables included
    check_replaceable(target, REPORT, keep=[run_dir], error=ReportError)
    hint = "" if out else " (or pass --out to a writable folder)"
    parts = views(source)
    with writing(run_dir, ReportError, hint):
        loaded = [load_results(view) for view in parts]
        kept = reuse.reused(loaded[0], target) if parts[0].dataset is None else None
        if kept is not None:  # made from exactly these inputs and as written: nothing to do
            return _kept_report(target, kept)
        with staging(target, REPORT, keep=[run_dir], error=ReportError) as tmp:
            if parts[0].dataset is None:
                report = _recorded_write(loaded[0], tmp, target)
            else:
                report = _write_datasets(loaded, tmp)
    report.path = target
    report.plots = [target / p.relative_to(tmp) for p in report.plots]
    return report


def _kept_report(target: Path, summary: dict[str, object]) -> Report:
    """The report already in `target` (reuse.py): its summary as cv_summary.json holds it."""
    plots = [target / str(name) for name in summary.get("plots") or []]  # type: ignore[attr-defined]
    return Report(target, summary, plots, list(summary.get("plot_problems") or []))  # type: ignore[call-overload]


def _recorded_write(results: Results, folder: Path, target: Path) -> Report:
    """The report, with what it was made from recorded for the next one (reuse.py); a
    report with a failed plot is not recorded (the next one tries again)."""
    before = reuse.key(results, target)
    with reuse.reading() as reads:
        report = _cached_write(results, folder, before.provenance)
    if not report.problems:
        reuse.record(results, target, folder, before, reads)
    return report


def _cached_write(results: Results, folder: Path, told: dict[str, object] | None = None) -> Report:
    # plots whose inputs are unchanged since the last report are not redrawn
    with figure_cache.cache(results.source.layout.results_dir):
        return _write(results, folder, told)


def _write_datasets(loaded: list[Results], folder: Path) -> Report:
    """Each dataset's report in `<dataset>/` (the datasets spread over the CPUs, each
    drawing its own figures), then the comparison across them."""
    # lazy: the figures (matplotlib) only when a report is built (see the imports)
    from foldrun.report.across import write_across

    names = [str(results.source.dataset) for results in loaded]
    for name in names:
        (folder / name).mkdir()
    workers = figure_pool.workers()
    drawing, figure_pool.WORKERS = figure_pool.WORKERS, 1
    try:
        written = forked_map(lambda i: _cached_write(loaded[i], folder / names[i]),
                             len(loaded), workers)  # fmt: skip
    finally:
        figure_pool.WORKERS = drawing
    reports = dict(zip(names, written, strict=True))
    missing = {name: len(r.summary.get("missing") or []) for name, r in reports.items()}
    summary = write_across(loaded, list(reports), folder, linked=True, missing=missing)
    summary["datasets"] = {name: r.summary for name, r in reports.items()}
    plots = [p for r in reports.values() for p in r.plots]
    problems = [f"{name}: {p}" for name, r in reports.items() for p in r.problems]
    return Report(folder, summary, plots, problems)


def _write(results: Results, folder: Path, told: dict[str, object] | None = None) -> Report:
    """The report's files in `folder`; `told`: the provenance (else read here)."""
    # lazy: scipy and matplotlib only when a report is built (see the imports)
    from foldrun.report import analysis, pages, selection
    from foldrun.results import nested

    # fold_summary.csv (a row per task: 3 s of CPU at 100,000 tasks) is written by a forked
    # worker while this process analyses and builds the page
    per_fold = forked_start(lambda _: _fold_csv(results, folder), 1, 1)
    try:
        result = analysis.analyze(results)
    except BaseException:
        per_fold()  # no worker left writing into the folder
        raise
    # the figure files are drawn by other processes while this one builds the rest; the
    # page asks for them, and asking again gives the same (forked_start keeps its outcome)
    figures = _plots(result, folder)
    try:
        summary = cv_summary(result, told)
        selection.attach_nested(summary["models"], nested.for_results(results))  # type: ignore[arg-type]
        summary["race"] = selection.race_summary(results)
        html = pages.index_page(result, summary, figures)
    finally:  # a summary or page that fails leaves no worker writing into its folder
        try:
            per_fold()
        finally:
            plots, problems = figures()
    summary["plots"] = [p.name for p in plots]
    summary["plot_problems"] = problems
    (folder / "cv_summary.json").write_text(analysis.dumps(analysis.clean(summary)) + "\n")
    (folder / "index.html").write_text(html, encoding="utf-8")
    return Report(folder, summary, plots, problems)


def _fold_csv(results: Results, folder: Path) -> None:
    """fold_summary.csv: a row per task, its metrics as columns."""
    # lazy: scipy only when a report is built (see the imports)
    from foldrun.report import analysis

    per_fold = spreadsheet_safe(analysis.fold_summary(results))
    per_fold.to_csv(folder / "fold_summary.csv", index=False)


def cv_summary(
    result: analysis.Analysis, told: dict[str, object] | None = None
) -> dict[str, object]:
    """cv_summary.json's content; `told`: the provenance (else read here)."""
    # lazy: scipy only when a report is built (see the imports)
    from foldrun.report import analysis

    res = result.results
    states = res.tasks["state"].value_counts().to_dict() if len(res.tasks) else {}
    primary = result.summary[result.summary["metric"] == res.primary]
    return {
        "run": str(res.run_dir),
        "task": res.task,
        "primary_metric": res.primary,
        "greater_is_better": res.greater_is_better,
        "confidence": res.confidence,
        "tasks": {"total": len(res.tasks), **{str(k): int(v) for k, v in states.items()}},
        "complete": not result.missing,
        "missing": result.missing,
        "not_in_spec": res.not_in_spec,  # model/variant folders the spec no longer has
        "models": analysis.records(_with_folds(result, result.ranking)),
        "unscored": res.unscored(),  # primary metric NaN on every done fold: why
        "variants": analysis.records(_with_folds(result, primary)),
        "metrics": analysis.records(result.summary),
        "comparison": {
            "test": "corrected resampled t-test (Nadeau & Bengio 2003)",
            "p_adjust": "holm",
            "alpha": res.alpha,
            "test_train_ratio": result.ratio,
            "pairs": analysis.records(result.pairs),
        },
        "refit": analysis.records(res.separate("refit")),
        "holdout": analysis.records(res.separate("holdout")),
        "provenance": provenance(res) if told is None else told,
    }


def _with_folds(result: analysis.Analysis, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with `folds` ("4/5") and `partial` (fewer test scores than the split has)."""
    if frame.empty:
        return frame
    # lazy: matplotlib only when a report is built (see the imports)
    from foldrun.report import models

    folds, partial = models.fold_counts(result, frame)
    # why a variant has fewer scores than done folds (NaN: one class in a test part, ...)
    nan = frame["undefined"] if "undefined" in frame else pd.Series(0, index=frame.index)
    why = [result.results.undefined_folds(m, v) if u else []
           for m, v, u in zip(frame["model"], frame["variant"], nan, strict=True)]  # fmt: skip
    return frame.assign(folds=folds, partial=partial, undefined_folds=why)


def _oof(result: analysis.Analysis) -> dict[str, pd.DataFrame]:
    """Pooled out-of-fold test predictions (first repeat) of the best-ranked variants."""
    # lazy: matplotlib only when a report is built (see the imports)
    from foldrun.report import models
    from foldrun.report.figure_drawing import MAX_PANELS

    p = result.results.current_predictions
    out = {}
    labels = models.plot_labels(result)  # a partial variant says so in every plot
    for row in result.ranking.head(MAX_PANELS).itertuples():
        part = p[(p["model"] == row.model) & (p["variant"] == row.variant)]
        part = part[(part["subset"] == "test") & (part["fold"] >= 0)]
        part = part[part["repeat"] == part["repeat"].min()].dropna(axis=1, how="all")
        if len(part) and ("y_true" in part):
            out[labels[(row.model, row.variant)]] = part
    return out


Figures = Callable[[], tuple[list[Path], list[str]]]  # waits for the files drawn, and problems


def _plots(result: analysis.Analysis, folder: Path) -> Figures:
    """Starts drawing the report's figure files (independent of each other, each written by
    its own job) on forked workers, one CPU left to this process; the result waits."""
    # lazy: matplotlib only when a report is built (see the imports)
    from foldrun.report import figures_predictions, figures_scores, figures_training, models

    res = result.results
    oof = _oof(result)
    jobs: list[tuple[str, Callable[[], Path | None]]] = [
        ("metric_per_fold", lambda: figures_scores.metric_per_fold(
            res.current_metrics, result.ranking, res.primary, folder / "metric_per_fold.png",
            models.plot_labels(result))),
        ("training_curves", lambda: figures_training.training_curves(
            _curve_paths(result), folder / "training_curves.png")),
    ]  # fmt: skip
    if res.task == "classification" and oof:
        jobs += [
            ("roc", lambda: figures_predictions.curves(oof, "roc", folder / "roc.png")),
            ("pr", lambda: figures_predictions.curves(oof, "pr", folder / "pr.png")),
            ("confusion", lambda: figures_predictions.confusion(oof, folder / "confusion.png")),
            ("prediction_distribution",
             lambda: figures_predictions.prediction_distribution(
                 oof, folder / "prediction_distribution.png")),
        ]  # fmt: skip
    if res.task == "regression" and oof:
        scatter = folder / "predicted_vs_true.png"
        jobs.append(("predicted_vs_true",
                     lambda: figures_predictions.predicted_vs_true(oof, scatter)))
    jobs += _heatmap_jobs(result, folder)
    wait = forked_start(lambda i: _plot(*jobs[i]), len(jobs), figure_pool.workers() - 1)

    def figures() -> tuple[list[Path], list[str]]:
        done = wait()
        for _, _, keys, reads in done:
            figure_cache.mark_used(keys)
            reuse.note(reads)
        made = [path for path, _, _, _ in done if path is not None]
        return made, [problem for _, problem, _, _ in done if problem]

    return figures


def _plot(
    name: str, job: Callable[[], Path | None]
) -> tuple[Path | None, str, frozenset[str], frozenset[str]]:
    """The file `job` draws, or why it failed (one bad plot must not cost the report), the
    cache entries it used and the files it read (a worker's reads count as the build's)."""
    def attempt() -> tuple[Path | None, str]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return job(), ""
        except Exception as err:
            return None, f"{name}: {type(err).__name__}: {err}"

    ((path, problem), keys), reads = reuse.worker_reads(
        lambda: figure_cache.with_keys_used(attempt))
    return path, problem, keys, reads


def _curve_paths(result: analysis.Analysis) -> dict[str, list[Path]]:
    # lazy: matplotlib only when a report is built (see the imports)
    from foldrun.report import models
    from foldrun.report.figure_drawing import MAX_PANELS

    tasks = result.results.tasks
    out: dict[str, list[Path]] = {}
    chosen = result.ranking if len(result.ranking) else tasks.drop_duplicates(["model", "variant"])
    labels = models.plot_labels(result)
    for row in chosen.head(MAX_PANELS).itertuples():
        sel = tasks[(tasks["model"] == row.model) & (tasks["variant"] == row.variant)]
        sel = sel[(sel["fold"] >= 0) & (sel["repeat"] == 0) & (sel["state"] == "done")]
        paths = [Path(p) for p in sel["path"] if has_curves(p)]  # results/curves.py
        if paths:
            name = models.label(row.model, row.variant)
            out[labels.get((row.model, row.variant), name)] = paths
    return out


def _heatmap_jobs(result: analysis.Analysis, folder: Path):
    """One figure: a panel per ranked model (best first) whose variants form a 2-D grid."""
    # lazy: matplotlib only when a report is built (see the imports)
    from foldrun.report import figures_grids, pages
    from foldrun.report.figure_drawing import MAX_PANELS

    res = result.results
    grids = [(model, *keys, means) for model, keys, means in pages.param_grids(result)
             if len(keys) == 2][:MAX_PANELS]  # fmt: skip
    path = folder / "heatmap_grid.png"
    return [("heatmap", lambda: figures_grids.grid_heatmaps(grids, res.primary, path))]
