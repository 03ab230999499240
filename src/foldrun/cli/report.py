"""`foldrun report SPEC [--out DIR]`: aggregate, compare, plot; write the report folder."""

from __future__ import annotations

import click


@click.command(name="report")
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--out", type=click.Path(path_type=str), default=None,
              help="Report folder (default: <run folder>/report).")  # fmt: skip
def command(specs: tuple[str, ...], out: str | None) -> None:
    """Write report/ for SPEC (a foldrun.toml, or a run folder): fold_summary.csv,
    cv_summary.json, plots and a self-contained index.html. Several SPECs are compared as
    datasets (one run each) in --out: ranks, Friedman test, critical difference."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.api import report as build_report
    from foldrun.run.signals import REPORT, stopping_on_signals

    # SIGTERM/SIGHUP unwind the report like an error: its workers end, its temporary
    # folder goes, nothing is half-written (the default action left both behind)
    with stopping_on_signals(REPORT, what="no report written; run it again"):
        if len(specs) > 1:
            _across(list(specs), out)
            return
        report = build_report(specs[0], out)
    click.echo(f"report: {report.index}")
    datasets = report.summary.get("datasets")
    if isinstance(datasets, dict):  # [datasets]: each one's summary, then the comparison
        for name, summary in datasets.items():
            click.echo(f"dataset {name}:")
            _echo_summary(summary)
    else:
        _echo_summary(report.summary)
    for problem in report.problems:
        click.echo(f"plot failed: {problem}", err=True)


def _echo_summary(summary: dict) -> None:  # type: ignore[type-arg]
    counts = summary["tasks"]
    done = counts.get("done", 0) if isinstance(counts, dict) else 0
    total = counts.get("total", 0) if isinstance(counts, dict) else 0
    pruned = counts.get("pruned", 0) if isinstance(counts, dict) else 0
    stopped = f" ({pruned} pruned by the race)" if pruned else ""
    click.echo(f"tasks done: {done}/{total}{stopped}; primary metric: {summary['primary_metric']}")
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.report.terminal import summary_lines

    for line in summary_lines(summary):  # what run and demo print too
        click.echo(line)
    missing = summary["missing"]
    if missing:
        click.echo(f"partial run: {len(missing)} tasks not done (listed in the report)")  # type: ignore[arg-type]


def _across(specs: list[str], out: str | None) -> None:
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.api import compare
    from foldrun.errors import ReportError

    if out is None:
        raise ReportError("several runs are compared in a folder of their own; pass --out DIR",
                          key="--out")  # fmt: skip
    click.echo(f"report: {compare(specs, out)}")
