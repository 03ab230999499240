"""The one rule for removing or replacing a folder as a whole.

foldrun deletes or replaces only a folder it can prove it made: one holding its marker file
(`Kind.marker`) and nothing but the files that kind of folder holds (`Kind.patterns`). It
never replaces the current folder, the user's home, `/`, a folder it is told to keep (the
run folder) or any folder above one of those, and never a folder holding anything else.
An empty folder may be replaced: nothing is lost. Everything that swaps or removes a
folder as a whole goes through `check_replaceable` / `staging` / `replace` here.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from foldrun.errors import FoldrunError

# errors of the disk, not of foldrun: said in one line with what to do
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}


@dataclass(frozen=True)
class Kind:
    """A kind of folder foldrun writes as a whole and may replace."""

    what: str  # "report folder", in messages
    marker: str  # the file foldrun writes into every such folder
    patterns: tuple[str, ...]  # relative paths (fnmatch, "/"-separated) foldrun writes there
    marker_required: bool = True  # False: an older foldrun's folder without it is also ours
    # more paths foldrun writes there, ours only when the marker lists them (a layout that
    # older foldruns never wrote: a marker-less folder holding them is the user's)
    listed_patterns: tuple[str, ...] = ()


def _absolute(path: Path) -> Path:
    """The folder's real place (links above it followed), the last name kept as given."""
    path = Path(os.path.abspath(path))
    return path.parent.resolve() / path.name if path.name else path


def _protected(target: Path, keep: Iterable[Path]) -> str | None:
    """Why `target` may never be replaced, or None."""
    places = [(Path.cwd().resolve(), "the current folder")]
    with contextlib.suppress(RuntimeError, KeyError):
        places.append((Path.home().resolve(), "your home folder"))
    places += [(_absolute(Path(k)), "the run folder") for k in keep]
    real = target.resolve()
    for place, name in places:
        if real == place:
            return name
        if real in place.parents:
            return f"a folder holding {name} ({place})"
    return None


def _allowed(parts: tuple[str, ...], is_dir: bool, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        want = pattern.split("/")
        # a folder: a leading part of a pattern; a file: the whole of one
        fits = len(parts) < len(want) if is_dir else len(parts) == len(want)
        if fits and all(fnmatchcase(p, w) for p, w in zip(parts, want, strict=False)):
            return True
    return False


_MARKER_TEXT = "made by foldrun; foldrun may replace this folder\n"
_LISTED = "files:\n"  # the marker then names every file foldrun wrote, one a line


def _marker_text(folder: Path, kind: Kind) -> str:
    """The marker foldrun writes: what it is, then every file it put in the folder."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return _MARKER_TEXT + _LISTED + "".join(f"{name}\n" for name in files if name != kind.marker)


def _listed(folder: Path, kind: Kind) -> set[str] | None:
    """The files the marker says foldrun wrote; None when the marker names none (an older
    foldrun's, or a marker that is the folder's own data file)."""
    try:
        text = (folder / kind.marker).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    head, sep, names = text.partition(_LISTED)
    if head != _MARKER_TEXT or not sep:
        return None
    return {kind.marker, *names.splitlines()}


def strangers(folder: Path, kind: Kind) -> list[str]:
    """What `folder` holds that foldrun does not write into a folder of this kind (and,
    when its marker lists the files foldrun wrote, any file it does not list: a plot the
    user saved into a report folder is theirs)."""
    listed = _listed(folder, kind)
    patterns = kind.patterns + (kind.listed_patterns if listed is not None else ())
    found = []
    for top, dirs, files in os.walk(folder):
        base = Path(top).relative_to(folder).parts
        for name in sorted(dirs):
            path = Path(top) / name
            if path.is_symlink() or not _allowed((*base, name), True, patterns):
                found.append("/".join((*base, name)))
        dirs[:] = [d for d in dirs if "/".join((*base, d)) not in found]
        for name in sorted(files):
            path = Path(top) / name
            rel = "/".join((*base, name))
            unlisted = listed is not None and rel not in listed
            if path.is_symlink() or unlisted or not _allowed((*base, name), False, patterns):
                found.append(rel)
    return found


def check_replaceable(
    target: Path, kind: Kind, *, keep: Iterable[Path] = (), error: type[FoldrunError] = FoldrunError
) -> None:
    """Raise `error` (one line: why, and what to do) unless foldrun may replace `target`."""
    target = _absolute(Path(target))
    why = _protected(target, keep)
    if why:
        raise error(f"foldrun never replaces {why}; choose another --out folder", file=target)
    if not os.path.lexists(target):
        return
    if target.is_symlink() or not target.is_dir():
        raise error("exists and is not a folder; choose another --out folder", file=target)
    extra = strangers(target, kind)
    if extra:
        more = f" and {len(extra) - 1} more" if len(extra) > 1 else ""
        raise error(
            f"holds '{extra[0]}'{more}, which foldrun does not write into a {kind.what}; "
            "foldrun replaces only a folder it made: choose another --out folder, or move "
            "those away",
            file=target,
        )
    if any(target.iterdir()) and not _marked(target, kind):
        raise error(
            f"is not a {kind.what} made by foldrun (no {kind.marker}); choose another --out folder",
            file=target,
        )


def _marked(folder: Path, kind: Kind) -> bool:
    """Whether the folder holds the marker, or is an older foldrun's folder made before it."""
    if (folder / kind.marker).is_file():
        return True
    return not kind.marker_required and _older_made(folder, kind)


def _older_made(folder: Path, kind: Kind) -> bool:
    """Whether a folder without the marker is one an older foldrun made: it holds every
    file of fixed name that foldrun writes there. (Files that merely fit a pattern, such as
    a user's `figures/` of PNGs beside an `index.html`, prove nothing.)"""
    fixed = [p for p in kind.patterns if p != kind.marker and not any(c in p for c in "*?[")]
    return all((folder / name).is_file() for name in fixed)


def new_temp_dir(target: Path) -> Path:
    """A new empty folder beside `target` (its mode follows the umask, like any folder),
    named for this machine and process: `.<name>.tmp-<host>-<pid>-<hex>`."""
    target = _absolute(Path(target))
    while True:
        tmp = target.with_name(f".{target.name}.tmp-{_host()}-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            tmp.mkdir()
            return tmp
        except FileExistsError:
            continue


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "", socket.gethostname()) or "host"


def clear_abandoned(target: Path, kind: Kind) -> None:
    """Remove the temp folders a foldrun on this machine filled for `target` and could not
    remove itself (killed by SIGKILL: no handler runs): named for this host and a process
    that is gone, holding nothing but what a folder of `kind` holds. Another machine's (a
    shared disk) and a live process's are left alone."""
    own = re.compile(rf"\.{re.escape(target.name)}\.tmp-{re.escape(_host())}-(\d+)-[0-9a-f]{{8}}")
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            found = own.fullmatch(entry.name)
            if not found or _alive(int(found.group(1))) or entry.is_symlink():
                continue
            if entry.is_dir() and not strangers(Path(entry.path), kind):
                shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def replace(
    tmp: Path,
    target: Path,
    kind: Kind,
    *,
    keep: Iterable[Path] = (),
    error: type[FoldrunError] = FoldrunError,
) -> None:
    """Put the folder `tmp` at `target`; the old one is removed once the new one is in."""
    keep = list(keep)
    target = _absolute(Path(target))
    check_replaceable(target, kind, keep=keep, error=error)  # again: it may have changed
    if not os.path.lexists(target):
        os.rename(tmp, target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except OSError:
        os.rename(old, target)
        raise
    # a file put in since the check stays (in `old`, beside the target): never lose a byte
    if not strangers(old, kind):
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def staging(
    target: Path,
    kind: Kind,
    *,
    keep: Iterable[Path] = (),
    error: type[FoldrunError] = FoldrunError,
) -> Iterator[Path]:
    """Yield a new temp folder to fill; when the block succeeds it replaces `target` (with
    the marker written). Refused before anything is written when `target` may not be
    replaced; on any error the temp folder and the parents made for it are gone."""
    keep = list(keep)
    target = _absolute(Path(target))
    check_replaceable(target, kind, keep=keep, error=error)
    clear_abandoned(target, kind)  # what a killed foldrun left beside it
    made = _make_parents(target.parent)
    tmp = None
    try:
        tmp = new_temp_dir(target)
        yield tmp
        if not (tmp / kind.marker).exists():
            (tmp / kind.marker).write_text(_marker_text(tmp, kind))
        replace(tmp, target, kind, keep=keep, error=error)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for folder in reversed(made):  # innermost first; only while still empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _make_parents(folder: Path) -> list[Path]:
    """mkdir -p, returning the folders it made (outermost first)."""
    missing = [p for p in [folder, *folder.parents] if not p.exists()][::-1]
    for path in missing:
        path.mkdir(exist_ok=True)
    return missing


def disk_problem(err: OSError) -> str | None:
    """'full' / 'read-only' when `err` is the disk refusing a write, else None."""
    number = err.errno
    if number is None and "No space left on device" in str(err):
        number = errno.ENOSPC  # pyarrow's errors carry the text but no errno
    if number in _FULL:
        return "full"
    if number in _READ_ONLY:
        return "read-only"
    return None


@contextlib.contextmanager
def writing(
    folder: Path, error: type[FoldrunError] = FoldrunError, hint: str = ""
) -> Iterator[None]:
    """A full or read-only disk while writing under `folder` -> `error` in one line."""
    try:
        yield
    except OSError as err:
        problem = disk_problem(err)
        if problem is None:
            raise
        where = Path(err.filename).parent if err.filename else Path(folder)
        todo = "free some space" if problem == "full" else "make it writable"
        reason = err.strerror or str(err).splitlines()[0]
        raise error(
            f"cannot write here ({reason}); {todo}{hint}, then run again; nothing was left "
            "half-written",
            file=where,
        ) from err
