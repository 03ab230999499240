"""`foldrun query` (placeholder until its issue lands)."""

from __future__ import annotations

import click

from foldrun.errors import FoldrunError


@click.command(name="query", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def command(args: tuple[str, ...]) -> None:
    """Not built yet."""
    raise FoldrunError("'foldrun query' is not built yet")
