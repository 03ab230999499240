"""The run lock: two `foldrun run` on one run folder never both execute tasks.

`.foldrun/lock` is created with O_CREAT|O_EXCL and holds the owner's pid, host and start
time. A lock whose pid is dead on this host is stale and is taken over: it is renamed away
(atomic, so only one of two racing runners wins) and created again.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from foldrun.core.state import pid_alive
from foldrun.errors import RunError


def _owner() -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now().isoformat(timespec="seconds"),
    }


def read_lock(path: Path) -> dict[str, object] | None:
    try:
        return json.loads(path.read_text() or "{}")
    except FileNotFoundError:
        return None
    except json.JSONDecodeError:
        return {}  # being written right now, or truncated: treat as held


def _create(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    try:
        os.write(fd, json.dumps(_owner()).encode())
    finally:
        os.close(fd)
    return True


def _is_stale(owner: dict[str, object]) -> bool:
    pid = owner.get("pid")
    return isinstance(pid, int) and owner.get("host") == socket.gethostname() and not pid_alive(pid)


def acquire(path: Path) -> None:
    """Take the lock or raise RunError naming who holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        if _create(path):
            return
        owner = read_lock(path)
        if owner is None:
            continue  # released between our two calls
        if not _is_stale(owner):
            raise RunError(
                f"the run folder is locked by pid {owner.get('pid')} on {owner.get('host')} "
                f"(since {owner.get('started')}); wait for that run to finish, or delete the "
                "lock file if that process is gone",
                file=path,
            )
        aside = path.with_name(f"{path.name}.stale-{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):
            os.rename(path, aside)  # only one racer renames the stale file
            if read_lock(aside) != owner:
                # another runner took the stale lock over after we read it: put its lock
                # back (link never overwrites) and look again
                with contextlib.suppress(FileExistsError):
                    os.link(aside, path)
            os.unlink(aside)
    raise RunError("could not take the run lock; try again", file=path)


def release(path: Path) -> None:
    owner = read_lock(path)
    if owner and owner.get("pid") == os.getpid():
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def held(path: Path) -> Iterator[None]:
    acquire(path)
    try:
        yield
    finally:
        release(path)
