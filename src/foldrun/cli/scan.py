"""`foldrun scan DIR --pattern P --out T`: index files whose names follow a pattern."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from foldrun.errors import DataError

if TYPE_CHECKING:
    from foldrun.data.scan import ScanResult


@click.command(name="scan")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--pattern", required=True, help='e.g. "{subject}_{record}_{kind}.jpg"')
@click.option("--labels", type=click.Path(path_type=Path), default=None, help="label table")
@click.option("--on", default=None, help="column shared by the file names and --labels")
@click.option("--label", "keep", multiple=True,
              help="label column to take from --labels (repeatable; default: all)")  # fmt: skip
@click.option("--out", required=True, type=click.Path(path_type=Path), help="table to write")
@click.option("--absolute", is_flag=True,
              help="write `path` absolute (default: relative to the folder of --out)")  # fmt: skip
def command(
    folder: Path,
    pattern: str,
    labels: Path | None,
    on: str | None,
    keep: tuple[str, ...],
    out: Path,
    absolute: bool,
) -> None:
    """Index the files under FOLDER into a table: a column per field, and `path`."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.data.scan import scan
    from foldrun.data.table import write_table

    if keep and labels is None:
        raise click.UsageError("--label needs --labels FILE")
    _not_the_labels(labels, out)
    base = None if absolute else out.parent
    result = scan(folder, pattern, labels, on, base, list(keep))
    _replaceable(out, list(result.table.columns))
    try:
        write_table(result.table, out)
    except OSError as err:  # /proc/x.csv, a read-only folder, a full disk: nothing written
        why = (err.strerror or type(err).__name__).lower()
        raise DataError(f"cannot write the table ({why}); choose another --out", file=out) from None
    message = f"{len(result.table)} rows -> {out} ({result.n_files} files matched"
    if labels is not None:
        message += f", {_dropped(result)}"
    click.echo(message + ")")
    if result.n_duplicates:
        click.echo(f"{result.n_duplicates} exact duplicate label row(s) collapsed")
    for column in result.mapped:
        click.echo(f"label {column!r}: True/False -> 1/0")
    where = "absolute" if absolute else f"relative to {out.parent} (the folder of --out)"
    click.echo(f"path: {where}")


def _not_the_labels(labels: Path | None, out: Path) -> None:
    """--out must never replace the label table it reads (the same file by any name)."""
    if labels is None or not out.exists():
        return
    if out.resolve() == labels.resolve() or (labels.exists() and out.samefile(labels)):
        raise DataError("--out names the label table given to --labels; write the index to "
                        "another file", file=out)  # fmt: skip


def _replaceable(out: Path, columns: list[str]) -> None:
    """An existing --out is replaced only when it is an index of these columns (a scan's
    own table, refreshed): any other file is the user's, and foldrun never replaces it."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.data.table import read_table

    if not out.is_file():
        return
    try:
        ours = [str(c) for c in read_table(out).columns] == columns
    except Exception:  # not a table at all: certainly not a scan's index
        ours = False
    if not ours:
        raise DataError(f"exists and is not an index with this scan's columns "
                        f"({', '.join(columns)}); foldrun never replaces a file it did not "
                        "make: choose another --out or move the file away", file=out)  # fmt: skip


def _dropped(result: ScanResult) -> str:
    """`3 dropped: 1 without a label row, 2 with an empty 'y'`."""
    why = [f"{result.n_unlabelled} without a label row"]
    why += [f"{n} with an empty {column!r}" for column, n in result.n_empty.items()]
    return f"{result.n_dropped} dropped: " + ", ".join(why)
