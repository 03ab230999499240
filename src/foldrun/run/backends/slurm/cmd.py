"""The one function through which foldrun calls every SLURM command."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Sequence

from foldrun.errors import SchedulerError

# squeue/sacct shorten long array-index expressions to 64 bytes unless told otherwise
_ENV_EXTRA = {"SLURM_BITSTR_LEN": "0"}


def scheduler_call(args: Sequence[str], *, timeout_s: float = 120.0) -> str:
    """Run a scheduler command and return its stdout.

    Any failure raises SchedulerError with one line: the command, its exit code and its
    stderr (or that the command is not on PATH).
    """
    command = [str(arg) for arg in args]
    shown = shlex.join(command)
    if shutil.which(command[0]) is None:
        raise SchedulerError(
            f"'{command[0]}' is not on PATH (running: {shown}); "
            "run foldrun on a machine with the SLURM client commands, or use --backend local"
        )
    env = {**os.environ, **_ENV_EXTRA}
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        raise SchedulerError(f"{shown} did not answer within {timeout_s:g} s") from None
    except OSError as err:
        raise SchedulerError(f"{shown} could not start: {err.strerror}") from None
    if done.returncode != 0:
        stderr = " ".join(done.stderr.split()) or "(no stderr)"
        raise SchedulerError(f"{shown} exited with code {done.returncode}: {stderr}")
    return done.stdout
