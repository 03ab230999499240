"""`foldrun check SPEC`: every problem of a spec at once, one line each; exit 2 if any."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from foldrun.cli.options import format_option
from foldrun.errors import ExitCode

if TYPE_CHECKING:
    from foldrun.spec.model import Spec


@click.command(name="check")
@click.argument("spec", type=click.Path(dir_okay=False))
@format_option("ok, problems")
@click.option("--show", is_flag=True, help=(
    "Also print the spec as resolved: every model with what it takes from extends, "
    "every key with its value, defaults included."))
def command(spec: str, fmt: str, show: bool) -> None:
    """Validate SPEC, its data, split, models and command templates without running anything."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.api import Project

    result = Project(Path(spec)).check()
    shown = _resolved(result.loaded) if show and not result.problems else None
    if fmt == "json":
        click.echo(json.dumps({**result.to_dict(), **({"spec": shown[0]} if shown else {})}))
    elif result.problems:
        for problem in result.problems:
            click.echo(problem, err=True)
        click.echo(f"foldrun: {len(result.problems)} problem(s) in {spec}", err=True)
    else:
        click.echo(shown[1] if shown else "", nl=False)
        click.echo(result.summary)
    if result.problems:
        sys.exit(int(ExitCode.BAD_INPUT))


def _resolved(loaded: Spec) -> tuple[dict[str, object], str]:
    """The spec as check loaded it (spec/show.py): as data for JSON, as TOML text."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.spec.show import resolved, resolved_toml

    return resolved(loaded), resolved_toml(loaded) + "\n"
