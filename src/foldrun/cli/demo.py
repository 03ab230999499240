"""`foldrun demo [DIR]`: copy the bundled example, run it end to end, say where results are."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import click

from foldrun.layout import RunLayout

if TYPE_CHECKING:
    from foldrun.report.build import Report

EXAMPLE_FILES = ("foldrun.toml", "nearest_centroid.py")


def example_dir() -> Path:
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    import foldrun

    return Path(foldrun.__file__).parent / "example"


def copy_example(target: Path) -> Path:
    """The example's files in `target` (kept when already there: a rerun resumes)."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.data.example import write_example_table

    target.mkdir(parents=True, exist_ok=True)
    for name in EXAMPLE_FILES:
        if not (target / name).exists():
            shutil.copyfile(example_dir() / name, target / name)
    table = target / "samples.csv"
    if not table.exists():  # written atomically (data/table.write_table)
        write_example_table(table)
    return target / "foldrun.toml"


def build_report(spec: Path) -> Report | None:
    """The report, when foldrun.report is installed and works; else None (said why)."""
    try:
        # lazy: `foldrun --help` imports every command module (cli/__init__.py)
        from foldrun.report import build_report as build
    except ImportError:
        return None
    try:
        return build(spec)
    except Exception as err:  # the demo's run succeeded; a report problem is reported only
        click.echo(f"foldrun demo: the report could not be built: {err}", err=True)
        return None


@click.command(name="demo")
@click.argument("directory", default="foldrun-demo", type=click.Path(file_okay=False))
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Tasks at once (default: the number of CPUs).",
)
def command(directory: str, jobs: int | None) -> int:
    """Copy the bundled example into DIRECTORY (default ./foldrun-demo) and run it end to end:
    a linear model, a tree ensemble with a 2x2 grid and a command-line model, 5 folds."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.api import Project
    from foldrun.cli.run import echo_result
    from foldrun.run.progress import live_progress_factory

    spec = copy_example(Path(directory).resolve())
    click.echo(f"foldrun demo: example copied to {spec.parent}")
    project = Project(spec, live_progress_factory())
    result = project.run(jobs=jobs or os.cpu_count() or 1, gpus=())
    echo_result(result)
    if result.exit_code:
        return result.exit_code
    run_dir = result.run_dir or spec.parent
    report = build_report(spec)
    if report is not None:  # the report's own numbers: mean ± std, interval, optimistic
        # lazy: `foldrun --help` imports every command module (cli/__init__.py)
        from foldrun.report.terminal import summary_lines

        for line in summary_lines(report.summary):
            click.echo(line)
    click.echo(f"task folders: {RunLayout(run_dir).tasks_dir}")
    if report is not None:
        click.echo(f"report: {report.index}")
    click.echo(f"next: foldrun status {spec}")
    return 0
