"""Cancelling one running task of the local backend (a steered run: the race stopped its
variant), without stopping the others.

The runner never learns a task's pid from the fork server (zygote.py) until the task
ends; the task's own running mark does name it: the worker writes its pid there when its
attempt begins, and that process leads a process group of its own (the server's child for
an in-process task, the slot for a command task), so one killpg stops the task with the
commands it started. A pid is signalled only when it is a child of this run's server that
leads its group: never a stranger that reused an old pid. Until the mark exists (the task
is starting) the runner asks again on its next turn.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from foldrun.core import state

GRACE_S = 2.0  # after SIGTERM, the task's time to leave before SIGKILL
POLL_S = 0.1  # how often the runner looks again while a cancelled task has not ended


@dataclass
class Cancelling:
    """Running tasks being cancelled: task id -> (pid signalled or None, SIGKILL time)."""

    server_pid: int
    pending: dict[str, tuple[int | None, float]] = field(default_factory=dict)

    def add(self, ident: str) -> None:
        self.pending.setdefault(ident, (None, 0.0))

    def signal(self, folders: dict[str, Path]) -> None:
        """SIGTERM to each cancelled task whose process is known now, SIGKILL once its
        grace time is over; `folders`: task id -> its task folder."""
        now = time.monotonic()
        for ident, (pid, kill_at) in list(self.pending.items()):
            if pid is None:
                pid = state.attempt_pid(folders[ident])
                if pid is None or not _our_group(pid, self.server_pid):
                    continue  # not begun yet: next turn
                _kill(pid, signal.SIGTERM)
                self.pending[ident] = (pid, now + GRACE_S)
            elif now >= kill_at:
                _kill(pid, signal.SIGKILL)

    def ended(self, ident: str) -> bool:
        """Whether the task that ended was one being cancelled (and forget it)."""
        return self.pending.pop(ident, None) is not None


def _kill(pid: int, signum: int) -> None:
    with contextlib.suppress(OSError):  # gone already: its exit is on its way
        os.killpg(pid, signum)


def _our_group(pid: int, server_pid: int) -> bool:
    """Whether `pid` is a child of the fork server and leads its own process group."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            return os.getpgid(pid) == pid  # no /proc (macOS): the group check alone
        except OSError:
            return False
    fields = stat.rsplit(")", 1)[-1].split()  # after the command name, which may hold spaces
    return len(fields) > 2 and int(fields[1]) == server_pid and int(fields[2]) == pid


def tidy(final: Path) -> None:
    """After a cancelled attempt was undone: its lock file and its now empty fold folder
    go, so a cancelled task leaves nothing behind (as a task never started)."""
    if final.exists() or state.failed_dir(final).exists():
        return
    with contextlib.suppress(OSError):
        (final.parent / f".{final.name}.lock").unlink()
    with contextlib.suppress(OSError):  # only when empty: another stage's folder stays
        final.parent.rmdir()
