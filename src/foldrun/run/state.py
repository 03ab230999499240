"""Task folder state on disk: DONE + fingerprint, stale detection, atomic commit.

A task executes in `.<stage>.tmp-<pid>` beside its final folder. On success the worker
writes DONE (the fingerprint) last, fsyncs, and renames the temp folder into place; a
failure is kept as `<stage>.failed`. So a folder named `<stage>` with a DONE file is the
only thing that ever counts as done, and a kill at any moment leaves at most a temp folder.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from foldrun.plan.task import TaskState

DONE = "DONE"
TMP_MARK = ".tmp-"


def read_fingerprint(task_dir: Path) -> str | None:
    """The fingerprint in `task_dir/DONE`, or None when the task is not committed."""
    try:
        return (task_dir / DONE).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None


def disk_state(task_dir: Path, fingerprint: str) -> TaskState:
    """done / stale from the DONE file; failed when a `.failed` folder remains; else pending."""
    found = read_fingerprint(task_dir)
    if found is not None:
        return TaskState.DONE if found == fingerprint else TaskState.STALE
    if failed_dir(task_dir).is_dir():
        return TaskState.FAILED
    return TaskState.PENDING


def tmp_dir(task_dir: Path, pid: int) -> Path:
    return task_dir.parent / f".{task_dir.name}{TMP_MARK}{pid}"


def failed_dir(task_dir: Path) -> Path:
    return task_dir.parent / f"{task_dir.name}.failed"


def tmp_dirs(task_dir: Path) -> list[tuple[Path, int]]:
    """Temp folders of this task (from any worker), with the pid in their name."""
    prefix = f".{task_dir.name}{TMP_MARK}"
    found = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(task_dir.parent):
            if entry.name.startswith(prefix) and entry.name[len(prefix) :].isdigit():
                found.append((Path(entry.path), int(entry.name[len(prefix) :])))
    return found


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_pid(task_dir: Path) -> int | None:
    """The pid of a live worker executing this task on this host, if any."""
    for _, pid in tmp_dirs(task_dir):
        if pid_alive(pid):
            return pid
    return None


def remove_dead_tmp(task_dir: Path) -> None:
    """Temp folders left by killed workers are garbage: nothing in them counts."""
    for path, pid in tmp_dirs(task_dir):
        if pid == os.getpid() or not pid_alive(pid):
            shutil.rmtree(path, ignore_errors=True)


def fsync_dir(path: Path) -> None:
    if not fsync_enabled():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_enabled() -> bool:
    """fsync protects a commit against a crash of the machine (a killed process needs none);
    FOLDRUN_FSYNC=0 turns it off, e.g. on a scratch file system."""
    return os.environ.get("FOLDRUN_FSYNC", "1") != "0"


def fsync_tree(path: Path) -> None:
    """Make every file and folder below `path` durable, so a rename never publishes lost data.

    One syncfs(2) of the file system holding `path` instead of an fdatasync per file and an
    fsync per folder: syncfs writes back every dirty page and inode of that file system
    (our task's files, their directory entries, the temp folder itself) and waits for the
    journal commit and the device cache flush, which is what the per-file calls did, one
    journal commit each (a commit costs ~3 ms here, ~5 of them per task). Since Linux 5.8
    it also reports write-back errors, so a failed write still fails the commit. The
    order that keeps a crash of the machine safe is unchanged: everything inside the temp
    folder, DONE included, is durable before the rename that publishes it happens, and
    `commit` fsyncs the parent folder after the rename. Where syncfs is missing (not Linux)
    the per-file calls are used.
    """
    if not fsync_enabled():
        return
    if _syncfs(path):
        return
    for root, _dirs, files in os.walk(path):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fdatasync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(root))


@functools.cache
def _libc_syncfs() -> Callable[[int], int] | None:
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).syncfs  # type: ignore[no-any-return]
    except (AttributeError, OSError):
        return None


def _syncfs(path: Path) -> bool:
    """syncfs(2) of the file system holding `path`; False when this platform has none."""
    syncfs = _libc_syncfs()
    if syncfs is None:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            import ctypes

            err = ctypes.get_errno()
            if err == errno.ENOSYS:
                return False
            raise OSError(err, f"syncfs: {os.strerror(err)}", str(path))
    finally:
        os.close(fd)
    return True


def write_done(tmp: Path, fingerprint: str) -> None:
    with open(tmp / DONE, "w") as fh:
        fh.write(fingerprint + "\n")


def _move_aside(path: Path) -> Path | None:
    """Rename an existing folder out of the way (rename is atomic; rmtree is not)."""
    if not path.exists():
        return None
    trash = path.parent / f".{path.name}.old-{os.getpid()}"
    shutil.rmtree(trash, ignore_errors=True)
    os.rename(path, trash)
    return trash


def commit(tmp: Path, task_dir: Path, fingerprint: str) -> None:
    """Write DONE last, fsync, and rename `tmp` into place, replacing an old folder."""
    write_done(tmp, fingerprint)
    fsync_tree(tmp)
    old = _move_aside(task_dir)
    os.rename(tmp, task_dir)
    fsync_dir(task_dir.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(failed_dir(task_dir), ignore_errors=True)


def keep_failed(tmp: Path, task_dir: Path) -> Path:
    """Keep a failed attempt (its log) as `<stage>.failed`, never with a DONE file."""
    target = failed_dir(task_dir)
    (tmp / DONE).unlink(missing_ok=True)
    old = _move_aside(target)
    os.rename(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target
