"""`foldrun scan DIR --pattern P --out T`: index files whose names follow a pattern."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(name="scan")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--pattern", required=True, help='e.g. "{subject}_{record}_{kind}.jpg"')
@click.option("--labels", type=click.Path(path_type=Path), default=None, help="label table")
@click.option("--on", default=None, help="column shared by the file names and --labels")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="table to write")
def command(folder: Path, pattern: str, labels: Path | None, on: str | None, out: Path) -> None:
    """Index the files under FOLDER into a table: a column per field, and `path`."""
    from foldrun.data.scan import scan
    from foldrun.data.table import write_table

    result = scan(folder, pattern, labels, on)
    write_table(result.table, out)
    message = f"{len(result.table)} rows -> {out} ({result.n_files} files matched"
    if labels is not None:
        message += f", {result.n_unlabelled} dropped without a label"
    click.echo(message + ")")
