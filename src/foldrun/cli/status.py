"""`foldrun status SPEC`: a table of every task and its state; exit 0 only when all are done."""

from __future__ import annotations

import click

from foldrun.cli.options import format_option, json_errors

STYLES = {"done": "green", "running": "cyan", "failed": "bold red", "pending": "dim",
          "stale": "yellow", "corrupt": "bold magenta", "pruned": "blue"}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


@click.command(name="status")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--failed", "only_failed", is_flag=True, help="Show only tasks that are not done.")
@click.option("--tasks", "every_task", is_flag=True,
              help="One row per task even when there are many (by default, above 200 tasks, "
                   "one row per model, variant and stage with its tasks counted by state).")
@format_option("counts, tasks")
@json_errors("status")
def command(spec: str, only_failed: bool, every_task: bool, fmt: str) -> int:
    """A table of SPEC's tasks: model, variant, fold, stage, state, duration.

    Above 200 tasks, one row per model, variant and stage instead (--tasks: every task);
    --format json always lists every task. Exit 0 only when every task is done.
    """
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    import json
    from pathlib import Path

    from foldrun.api import Project

    status = Project(Path(spec).resolve()).status()
    if fmt == "json":
        click.echo(json.dumps(status.to_dict()))
    else:
        _print_table(status, only_failed, every_task)
    return 0 if status.complete else 1


def _print_table(status: object, only_failed: bool, every_task: bool) -> None:
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.run.status import SUMMARY_OVER

    rows = [r for r in status.tasks if not (only_failed and r.state == "done")]  # type: ignore[attr-defined]
    if len(rows) > SUMMARY_OVER and not every_task:
        _print_summary(status, rows)
    else:
        _print_rows(status, rows)


def _print_summary(status: object, rows: list) -> None:
    """One row per model/variant/stage: a table of 10,000 tasks is too long to read and took
    78% of status's time to draw."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from foldrun.run.status import summarize

    groups = summarize(rows)
    table = Table(title=escape(f"{status.run_dir}"), title_justify="left")  # type: ignore[attr-defined]
    datasets = any(group[0] for group in groups)
    for name in ("dataset", "model", "variant", "stage", "tasks")[0 if datasets else 1 :]:
        table.add_column(name)
    for dataset, model, variant, stage, counts in groups:
        cells = ", ".join(f"[{STYLES.get(s, 'none')}]{n} {s}[/]" for s, n in counts.items())
        names = [escape(model), escape(variant), stage, cells]
        table.add_row(*([escape(dataset)] if datasets else []), *names)
    console = Console()
    console.print(table)
    console.print(f"{len(rows)} tasks in {len(groups)} rows (--tasks: one row per task)")
    _print_counts(console, status)


def _print_counts(console: object, status: object) -> None:
    counts = status.counts  # type: ignore[attr-defined]
    console.print(", ".join(f"{n} {s}" for s, n in counts.items()) or "no tasks")  # type: ignore[attr-defined]


def _print_rows(status: object, rows: list) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"{status.run_dir}"), title_justify="left")  # type: ignore[attr-defined]
    datasets = any(row.dataset for row in status.tasks)  # type: ignore[attr-defined]
    for name in ("dataset", "model", "variant", "fold", "stage", "state", "duration")[
        0 if datasets else 1 :
    ]:
        table.add_column(name, justify="right" if name == "duration" else "left")
    for row in rows:
        style = STYLES.get(row.state, "none")
        why = f" ({escape(row.why)})" if row.why else ""
        cells = [escape(row.model), escape(row.variant), row.fold, row.stage,
                 f"[{style}]{row.state}[/]{why}", _duration(row.duration_s)]  # fmt: skip
        table.add_row(*([escape(row.dataset)] if datasets else []), *cells)
    console = Console()
    console.print(table)
    _print_counts(console, status)
