"""`foldrun split TABLE --out DIR`: assign folds and write the split folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from foldrun.core.strategies import MANIFEST_FORMATS

STRATEGY_HELP = (
    "auto, kfold, stratified, grouped, stratified-grouped, continuous, multilabel, "
    "predefined, fixed; each also repeated-<strategy>"
)


@click.command(name="split")
@click.argument("table", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help="split folder")
@click.option("--strategy", default="auto", show_default=True, help=STRATEGY_HELP)
@click.option("--id", "id_col", default=None, help="id column (default: row number)")
@click.option("--target", multiple=True, help="target column; several for multilabel")
@click.option(
    "--group", multiple=True,
    help="group column: a group never spans test folds; repeat for a composite key "
    "(--group treatment --group sample)",
)
@click.option("--stratify", multiple=True, help="extra column to stratify on (repeatable)")
@click.option(
    "--fold-column", multiple=True,
    help="column holding predefined folds (or train/val/test for --strategy fixed), or a "
    "fold table file key,fold,subset; repeat to combine several files",
)
@click.option("--folds", default=5, show_default=True, type=int)
@click.option("--val", default="none", show_default=True, help="next-fold | none | FRACTION")
@click.option("--holdout", default=None, type=float, help="fraction kept out of every fold")
@click.option("--repeats", default=1, show_default=True, type=int)
@click.option("--inner", default=None, type=int, help="inner folds in each training part")
@click.option("--bins", default=None, type=int, help="quantile bins for a continuous target")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--manifests", default="csv", show_default=True, type=click.Choice(MANIFEST_FORMATS),
    help="format of the train/val/test manifests ({train} ... name them): parquet keeps "
    "dtypes and is faster to write and to read for big tables",
)
@click.option("--overwrite", is_flag=True, help="replace a different split already at --out")
def command(table: Path, out: Path, **options: Any) -> None:
    """Assign every row of TABLE to folds without leakage and write the split folder."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.data.table import read_table
    from foldrun.errors import FoldrunError
    from foldrun.split import make_folds

    targets = list(options.pop("target"))
    groups = list(options.pop("group"))
    options["group"] = (groups[0] if len(groups) == 1 else groups) or None
    columns = list(options.pop("fold_column"))
    options["fold_column"] = (columns[0] if len(columns) == 1 else columns) or None
    overwrite = options.pop("overwrite")
    manifests = options.pop("manifests")
    frame = read_table(table)
    try:
        folds = make_folds(
            frame,
            id=options.pop("id_col"),
            target=targets[0] if len(targets) == 1 else (targets or None),
            stratify=list(options.pop("stratify")),
            source=table,
            **options,
        )
    except FoldrunError as err:
        err.file = err.file or str(table)  # name the table the bad column or value is in
        raise
    with _run_lock(out):
        folds.save(out, overwrite=overwrite, manifests=manifests)
    _print_summary(folds, out)


def _run_lock(out: Path) -> Any:
    """The run's lock when `out` is the split/ of a run folder (a runner reads it), else
    nothing to hold. Refused in one line while a runner holds it."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    import contextlib

    from foldrun.layout import RunLayout

    out = out.absolute()
    # the run's split/, or a dataset's split/<dataset>/ (`[datasets]`): the same lock
    for layout in (RunLayout(out.parent), RunLayout(out.parent.parent)):
        # a runner always holds its lock in .foldrun/: no .foldrun/, no run to wait for
        if layout.split_dir in (out, out.parent) and layout.state_dir.is_dir():
            # lazy: `foldrun --help` imports every command module (cli/__init__.py)
            from foldrun.run import lock

            return lock.held(layout.lock_file)
    return contextlib.nullcontext()


def _print_summary(folds: Any, out: Path) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    details = folds.details  # a folder or column named `x[v2]` is text, not rich markup
    view = Table(title=escape(f"{details['strategy']} split, seed {details['seed']} -> {out}"))
    for name in ("repeat", "fold", "train", "val", "test", "balance"):
        view.add_column(name, justify="right")
    for entry in details["folds"][:50]:
        view.add_row(
            str(entry["repeat"]), str(entry["fold"]), str(entry["train_size"]),
            str(entry["val_size"]), str(entry["test_size"]), f"{entry['balance']:.4f}",
        )  # fmt: skip
    console = Console()
    console.print(view)
    if details.get("holdout"):
        console.print(f"holdout: {details['holdout']['size']} rows")
    console.print(escape(f"why: {details['reason']}"))
    if details.get("fold_table"):
        console.print(escape(fold_table_line(details["fold_table"])))


def fold_table_line(note: dict[str, Any]) -> str:
    """What foldrun understood of a fold table, in one line."""
    listed = "train/val/test as listed" if note["lists_train_or_val"] else "test folds only"
    line = (
        f"fold table {', '.join(Path(f).name for f in note['files'])}: keyed on "
        f"{note['key']}, {note['n_folds']} fold(s) {note['fold_values']}, {listed}"
    )
    if note["keys_not_in_table"]:
        line += f"; {note['keys_not_in_table']} key(s) not in the data table (ignored)"
    if note["rows_in_no_fold"]:
        line += f"; {note['rows_in_no_fold']} row(s) in no fold"
    return line
