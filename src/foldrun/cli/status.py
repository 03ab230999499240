"""`foldrun status SPEC`: a table of every task and its state; exit 0 only when all are done."""

from __future__ import annotations

import click

STYLES = {"done": "green", "running": "cyan", "failed": "bold red", "pending": "dim",
          "stale": "yellow"}


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
def command(spec: str, only_failed: bool) -> int:
    """A table of SPEC's tasks: model, variant, fold, stage, state, duration.

    Exit 0 only when every task is done.
    """
    from pathlib import Path

    from rich.console import Console
    from rich.table import Table

    from foldrun.run.runner import plan_spec
    from foldrun.run.status import collect, scheduler_states

    spec_path = Path(spec).resolve()
    run_dir, tasks = plan_spec(spec_path, make_split=False)
    rows = collect(tasks, scheduler_states(spec_path, run_dir))
    table = Table(title=f"{run_dir}", title_justify="left")
    for name in ("model", "variant", "fold", "stage", "state", "duration"):
        table.add_column(name, justify="right" if name == "duration" else "left")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.state.value] = counts.get(row.state.value, 0) + 1
        if only_failed and row.state.value == "done":
            continue
        style = STYLES[row.state.value]
        table.add_row(row.model, row.variant, row.fold, row.stage,
                      f"[{style}]{row.state.value}[/]", _duration(row.duration_s))
    console = Console()
    console.print(table)
    console.print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no tasks")
    return 0 if counts.get("done", 0) == len(rows) else 1
