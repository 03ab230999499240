"""`foldrun query SPEC [SPEC ...] "SQL" [--format table|csv|json]`: DuckDB over the result
tables of one run, or of several as datasets."""

from __future__ import annotations

import click

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
    from foldrun.api import query

    if len(args) < 2:
        raise click.UsageError("give a SPEC (or run folder) and the SQL: foldrun query SPEC SQL")
    *specs, sql = args
    runs = specs[0] if len(specs) == 1 else specs
    df = query(runs, sql, refresh=not no_refresh)
    if fmt == "csv":
        click.echo(df.to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(df.to_json(orient="records", date_format="iso", indent=1))
    else:
        _print_table(df)


def _print_table(df) -> None:  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.table import Table

    table = Table(show_edge=False, header_style="bold")
    for col in df.columns:
        numeric = df[col].dtype.kind in "iuf"
        table.add_column(str(col), justify="right" if numeric else "left")
    for row in df.head(MAX_TABLE_ROWS).itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    console = Console(soft_wrap=True)
    console.print(table)
    if len(df) > MAX_TABLE_ROWS:
        click.echo(f"({len(df)} rows, {MAX_TABLE_ROWS} shown; use --format csv for all)", err=True)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)
