"""The refresh's index of task folders (`results/.index.json`), read without pandas.

refresh.py writes it: per task folder (its path under tasks/) the task's key, signature,
stamp (size, mtime, ctime and inode of every file a refresh reads), DONE's text, and the
state and wall time the refresh judged. `foldrun status` reads it to skip reading the
files of a committed task whose stamp is unchanged (it writes nothing itself). VERSION, READ and
`stamp` are owned here; collect.py (which imports pandas) takes them from here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from foldrun.core.state import RUNNING
from foldrun.layout import TaskFiles

VERSION = 7  # 6: stamps hold ctime and inode too; 7: a signature repeats no stamp or DONE
READ = (TaskFiles.DONE, TaskFiles.METRICS, TaskFiles.PREDICTIONS, TaskFiles.RESOURCES)
STATE, WALL = 8, 9  # an entry's judged state and wall time (after key, sig, stamp, DONE)
UNSURE = "\0unsure"  # a stamp no entry holds: the folder is read again


def index_path(results_dir: Path) -> Path:
    return results_dir / ".index.json"


def stamp(folder: str, files: frozenset[str] | set[str]) -> str | None:
    """collect.stamp of a task folder holding `files`: None without DONE, "gone" when a
    file went away while it was looked at."""
    if TaskFiles.DONE not in files:
        return None
    parts = []
    for name in READ:
        if name in files:
            try:
                st = os.stat(os.path.join(folder, name))
            except OSError:
                return "gone"  # changed under us: read it again
            # ctime and inode as plan/cache.py: an mtime put back (touch -r, cp -p, rsync -a)
            # on an edit of the same size still counts as a change
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}")
    return "|".join(parts)


def stamp_at(folder: str) -> str | None:
    """`stamp` of a folder not listed: each file of READ stat'ed by its name (absent: left
    out, as a listing would leave it). Status and a refresh look at 10,000 unchanged folders;
    listing each cost more than the stats (issue 26 item 2). None without DONE; UNSURE (no
    entry holds it) when a file cannot be stat'ed for another reason."""
    parts = []
    for name in READ:
        try:
            st = os.stat(f"{folder}{os.sep}{name}")
        except FileNotFoundError:
            if name == TaskFiles.DONE:
                return None
            continue
        except OSError:
            return UNSURE
        parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}")
    return "|".join(parts)


def read_entries(results_dir: Path, root: Path) -> dict[str, list[object]]:
    """The index's entries by task folder path, {} when absent, damaged or another run's."""
    try:
        body = json.loads(index_path(results_dir).read_text())
        if body.get("version") != VERSION or body.get("root") != str(root):
            return {}
        tasks = body["tasks"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return tasks if isinstance(tasks, dict) else {}


def committed(entry: object, folder: str) -> tuple[str, str, float | None] | None:
    """(DONE's text, judged state, wall time) of a committed task folder whose files are
    as they were when `entry` was written (its stamp), else None (read the folder)."""
    if not isinstance(entry, list) or len(entry) <= WALL or entry[STATE] not in ("done", "stale"):
        return None
    if os.path.lexists(f"{folder}{os.sep}{RUNNING}") or stamp_at(folder) != entry[6]:
        return None  # an attempt runs there, or a file changed: read the folder
    done, wall = entry[7], entry[WALL]
    if not isinstance(done, str) or not (wall is None or isinstance(wall, int | float)):
        return None
    return done, str(entry[STATE]), None if wall is None else float(wall)
