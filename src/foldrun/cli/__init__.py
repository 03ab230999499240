"""The `foldrun` console script: a thin layer over library calls.

Each command lives in its own module (`foldrun.cli.<command>`) and imports the heavy
libraries inside the command function, so `foldrun --help` and `foldrun status` start fast.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import importlib
import os
import signal
import sys


def _interrupted_at_start(signum: int, frame: object) -> None:
    """Ctrl-C while the CLI still imports: one line and 130, not a KeyboardInterrupt
    traceback from deep inside an import (main() puts Python's own handler back)."""
    with contextlib.suppress(OSError):
        os.write(2, b"foldrun: aborted\n")
    os._exit(130)


# only in the console script (`foldrun`, `python -m foldrun`): a library import changes nothing
_SCRIPT = os.path.basename(sys.argv[0] if sys.argv else "") in ("foldrun", "__main__.py")
if _SCRIPT and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _interrupted_at_start)

import click  # noqa: E402 (after the start-up Ctrl-C handler)

from foldrun._version import __version__  # noqa: E402
from foldrun.errors import ExitCode, FoldrunError  # noqa: E402

# command name -> module under foldrun.cli that defines `command`
COMMANDS = {
    "init": "init",
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
    "schema": "schema",
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
    """Entry point: FoldrunError -> one line on stderr, exit 2; usage errors also exit 2;
    SIGINT/SIGTERM during a run -> one line, exit 130/143; a closed stdout -> no traceback."""
    # lazy: as the commands' imports (see above): `import foldrun.cli` loads no foldrun.run
    from foldrun.run.signals import Interrupted

    if signal.getsignal(signal.SIGINT) is _interrupted_at_start:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # registered first, so run last of the exit handlers: once they are done, a Ctrl-C no
    # longer kills the process by SIGINT while Python frees its modules (Python gives SIGINT
    # its default action back for that), and the exit code stays the command's
    atexit.register(signal.signal, signal.SIGINT, signal.SIG_IGN)
    try:
        code = cli.main(args=argv, prog_name="foldrun", standalone_mode=False)
    except FoldrunError as err:
        _say(f"foldrun: error: {err.one_line()}")
        _exit(int(err.exit_code))
    except Interrupted as err:
        _say(f"foldrun: {err.one_line()}")
        _exit(err.exit_code)
    except click.exceptions.Abort:
        _say("foldrun: aborted")
        _exit(130)
    except click.ClickException as err:
        _say(f"foldrun: error: {' '.join(err.format_message().split())}")
        _exit(int(ExitCode.BAD_INPUT))
    except BrokenPipeError:  # stdout closed (`| head`, or its reader gone after Ctrl-C)
        _exit(141)
    except OSError as err:
        if err.errno not in UNWRITABLE:
            raise
        # a read-only folder or a full disk met outside the places that say so themselves:
        # one line naming the path and what to do, never a traceback
        why = os.strerror(err.errno).lower() if err.errno else "cannot write"
        _say(f"foldrun: error: {err.filename or 'a file'}: {why}; make the folder writable "
             "or free space, or choose another output")  # fmt: skip
        _exit(int(ExitCode.BAD_INPUT))
    _exit(int(code) if isinstance(code, int) else 0)


# errors that mean "foldrun cannot write here" (read-only, permission, full disk, quota)
UNWRITABLE = frozenset({errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT})


def _say(line: str) -> None:
    with contextlib.suppress(OSError):  # stderr may be closed too
        click.echo(line, err=True)


def _exit(code: int) -> None:
    """sys.exit(code), flushing stdout first: a reader that went away must cost no
    'Exception ignored ... BrokenPipeError' at interpreter exit. Started with no stdout
    (fd 1 closed), Python has none to flush."""
    if sys.stdout is None:
        sys.exit(code)
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        # Python docs' recipe: point stdout at /dev/null so the final flush is silent
        null = os.open(os.devnull, os.O_WRONLY)
        with contextlib.suppress(OSError, ValueError):
            os.dup2(null, sys.stdout.fileno())
        os.close(null)
        code = code or 141
    sys.exit(code)
