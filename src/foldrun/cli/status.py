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
@format_option("counts, tasks")
@json_errors("status")
def command(spec: str, only_failed: bool, fmt: str) -> int:
    """A table of SPEC's tasks: model, variant, fold, stage, state, duration.

    Exit 0 only when every task is done.
    """
    import json
    from pathlib import Path

    from foldrun.api import Project

    status = Project(Path(spec).resolve()).status()
    if fmt == "json":
        click.echo(json.dumps(status.to_dict()))
    else:
        _print_table(status, only_failed)
    return 0 if status.complete else 1


def _print_table(status: object, only_failed: bool) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{status.run_dir}", title_justify="left")  # type: ignore[attr-defined]
    datasets = any(row.dataset for row in status.tasks)  # type: ignore[attr-defined]
    for name in ("dataset", "model", "variant", "fold", "stage", "state", "duration")[
        0 if datasets else 1 :
    ]:
        table.add_column(name, justify="right" if name == "duration" else "left")
    for row in status.tasks:  # type: ignore[attr-defined]
        if only_failed and row.state == "done":
            continue
        style = STYLES.get(row.state, "none")
        why = f" ({escape(row.why)})" if row.why else ""
        cells = [escape(row.model), escape(row.variant), row.fold, row.stage,
                 f"[{style}]{row.state}[/]{why}", _duration(row.duration_s)]  # fmt: skip
        table.add_row(*([escape(row.dataset)] if datasets else []), *cells)
    counts = status.counts  # type: ignore[attr-defined]
    console = Console()
    console.print(table)
    console.print(", ".join(f"{n} {s}" for s, n in counts.items()) or "no tasks")
