"""The `foldrun` console script: a thin layer over library calls.

Each command lives in its own module (`foldrun.cli.<command>`) and imports the heavy
libraries inside the command function, so `foldrun --help` and `foldrun status` start fast.
"""

from __future__ import annotations

import importlib
import sys

import click

from foldrun._version import __version__
from foldrun.errors import ExitCode, FoldrunError

# command name -> module under foldrun.cli that defines `command`
COMMANDS = {
    "scan": "scan",
    "split": "split",
    "check": "check",
    "run": "run",
    "status": "status",
    "report": "report",
    "query": "query",
    "demo": "demo",
    "cancel": "cancel",
    "track": "track",
    "log": "log",
}


class LazyGroup(click.Group):
    """Imports a command's module only when that command is used or listed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"foldrun.cli.{COMMANDS[name]}")
        return module.command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="foldrun")
def cli() -> None:
    """Reproducible k-fold cross-validation experiments, on a laptop or a SLURM cluster."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: FoldrunError -> one line on stderr, exit 2; usage errors also exit 2."""
    try:
        code = cli.main(args=argv, prog_name="foldrun", standalone_mode=False)
    except FoldrunError as err:
        click.echo(f"foldrun: error: {err.one_line()}", err=True)
        sys.exit(int(err.exit_code))
    except click.exceptions.Abort:
        click.echo("foldrun: aborted", err=True)
        sys.exit(130)
    except click.ClickException as err:
        click.echo(f"foldrun: error: {' '.join(err.format_message().split())}", err=True)
        sys.exit(int(ExitCode.BAD_INPUT))
    sys.exit(int(code) if isinstance(code, int) else 0)
