"""`foldrun demo [DIR]`: copy the bundled example, run it end to end, say where results are."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import click

EXAMPLE_FILES = ("foldrun.toml", "nearest_centroid.py")


def example_dir() -> Path:
    import foldrun

    return Path(foldrun.__file__).parent / "example"


def copy_example(target: Path) -> Path:
    """The example's files in `target` (kept when already there: a rerun resumes)."""
    from foldrun.data.example import write_example_table

    target.mkdir(parents=True, exist_ok=True)
    for name in EXAMPLE_FILES:
        if not (target / name).exists():
            shutil.copyfile(example_dir() / name, target / name)
    table = target / "samples.csv"
    if not table.exists():  # written atomically (data/table.write_table)
        write_example_table(table)
    return target / "foldrun.toml"


def summary_lines(run_dir: Path) -> list[str]:
    """Mean test ROC AUC per model/variant, from the evaluate tasks' metrics.json."""
    import json

    scores: dict[str, list[float]] = {}
    for path in sorted(run_dir.glob("tasks/*/*/fold_*/evaluate/metrics.json")):
        name = "/".join(path.parts[-5:-3])
        value = json.loads(path.read_text()).get("test/roc_auc")
        if value is not None:
            scores.setdefault(name, []).append(float(value))
    ranked = sorted(scores.items(), key=lambda kv: -sum(kv[1]) / len(kv[1]))
    return [
        f"  {name:<24} test roc_auc {sum(v) / len(v):.4f} over {len(v)} folds" for name, v in ranked
    ]


def build_report(spec: Path) -> Path | None:
    """The HTML report, when foldrun.report is installed and works; else None (said why)."""
    try:
        from foldrun.report import build_report as build
    except ImportError:
        return None
    try:
        return build(spec).index
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
    from foldrun.run.options import RunOptions
    from foldrun.run.progress import live_progress_factory
    from foldrun.run.runner import run

    spec = copy_example(Path(directory).resolve())
    click.echo(f"foldrun demo: example copied to {spec.parent}")
    options = RunOptions(jobs=jobs or os.cpu_count() or 1, gpus=())
    result = run(spec, options, live_progress_factory())
    from foldrun.cli.run import echo_result

    echo_result(result)
    if result.exit_code:
        return result.exit_code
    run_dir = result.run_dir or spec.parent
    click.echo("results (mean over folds):")
    for line in summary_lines(run_dir):
        click.echo(line)
    click.echo(f"task folders: {run_dir / 'tasks'}")
    index = build_report(spec)
    if index is not None:
        click.echo(f"report: {index}")
    click.echo(f"next: foldrun status {spec}")
    return 0
