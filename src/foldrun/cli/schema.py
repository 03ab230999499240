"""`foldrun schema`: the JSON Schema of foldrun.toml, for editors and validators."""

from __future__ import annotations

import click


@click.command(name="schema")
def command() -> None:
    """Print the JSON Schema (draft 2020-12) of foldrun.toml, each key with its description.

    Save it beside your specs and point your editor at it: a `#:schema ./foldrun.schema.json`
    first line (Taplo / Even Better TOML), or a `.taplo.toml` rule."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.spec.schema import schema_text

    click.echo(schema_text(), nl=False)
