"""`foldrun check SPEC`: every problem of a spec at once, one line each; exit 2 if any."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from foldrun.cli.options import format_option
from foldrun.errors import ExitCode


@click.command(name="check")
@click.argument("spec", type=click.Path(dir_okay=False))
@format_option("ok, problems")
def command(spec: str, fmt: str) -> None:
    """Validate SPEC, its data, split, models and command templates without running anything."""
    from foldrun.api import Project

    result = Project(Path(spec)).check()
    if fmt == "json":
        click.echo(json.dumps(result.to_dict()))
    elif result.problems:
        for problem in result.problems:
            click.echo(problem, err=True)
        click.echo(f"foldrun: {len(result.problems)} problem(s) in {spec}", err=True)
    else:
        click.echo(result.summary)
    if result.problems:
        sys.exit(int(ExitCode.BAD_INPUT))
