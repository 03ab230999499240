"""`foldrun check SPEC`: every problem of a spec at once, one line each; exit 2 if any."""

from __future__ import annotations

import sys

import click

from foldrun.errors import ExitCode


@click.command(name="check")
@click.argument("spec", type=click.Path(dir_okay=False))
def command(spec: str) -> None:
    """Validate SPEC, its data, split, models and command templates without running anything."""
    from foldrun.spec.check import check_spec, summary

    problems = check_spec(spec)
    if problems:
        for problem in problems:
            click.echo(problem.line(), err=True)
        click.echo(f"foldrun: {len(problems)} problem(s) in {spec}", err=True)
        sys.exit(int(ExitCode.BAD_INPUT))
    click.echo(summary(spec))
