"""`foldrun query SPEC [SPEC ...] "SQL" [--format table|csv|json]`: DuckDB over the result
tables of one run, or of several as datasets."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from foldrun.results.query_text import Answer as QueryAnswer

MAX_TABLE_ROWS = 1000  # a terminal table longer than this is cut (csv and json never are)


@click.command(name="query")
@click.argument("args", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="How to print the answer.")  # fmt: skip
@click.option("--no-refresh", is_flag=True,
              help="Query results/*.parquet as they are; do not read task folders.")  # fmt: skip
def command(args: tuple[str, ...], fmt: str, no_refresh: bool) -> None:
    """foldrun query SPEC [SPEC ...] SQL

    Run SQL (DuckDB) over the views tasks, metrics, predictions and folds of SPEC's run
    (a foldrun.toml, or a run folder). With several SPECs each run is a dataset: every view
    is their union with a `dataset` column first.
    """
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.api import query_answer

    if len(args) < 2:
        raise click.UsageError("give a SPEC (or run folder) and the SQL: foldrun query SPEC SQL")
    *specs, sql = args
    runs = specs[0] if len(specs) == 1 else specs
    answer = query_answer(runs, sql, refresh=not no_refresh)  # rows: no pandas (usual types)
    if fmt == "csv":
        click.echo(answer.csv(), nl=False)
    elif fmt == "json":
        click.echo(answer.json())
    else:
        _print_table(answer)


def _print_table(answer: QueryAnswer) -> None:
    # lazy: rich only for a table (~20 ms of the query's start-up; csv and json need none)
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # each name and cell as a Text, as it is: a str is read as rich markup and emoji codes
    # (`f1[macro]` printed `f1`, a `[/]` raised)
    table = Table(show_edge=False, header_style="bold")
    for col, numeric in zip(answer.columns, answer.numeric(), strict=True):
        table.add_column(Text(col), justify="right" if numeric else "left")
    for cells in answer.cells(MAX_TABLE_ROWS):
        table.add_row(*map(Text, cells))
    console = Console(soft_wrap=True)
    console.print(table)
    if len(answer) > MAX_TABLE_ROWS:
        click.echo(f"({len(answer)} rows, {MAX_TABLE_ROWS} shown; use --format csv for all)",
                   err=True)  # fmt: skip
