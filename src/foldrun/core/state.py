"""Task folder state on disk: DONE + fingerprint, stale detection, atomic commit.

A task executes in its final folder (every path it sees or records is the one that stays),
marked by a `.foldrun-running` file holding the worker's pid; a folder of an earlier
attempt is moved aside to `.<stage>.prev-<pid>` first. On success the worker makes the
outputs durable, then writes DONE (the fingerprint) by an atomic rename, and only then
drops the mark and the earlier folder; a failure is kept as `<stage>.failed` and the
earlier folder is put back. So only a folder with a whole DONE ever counts as done, and a
kill at any moment leaves an attempt without DONE, which the next attempt (holding the
task's lock) removes, putting the earlier folder back.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from foldrun.core.files import write_json
from foldrun.core.task import TaskState
from foldrun.errors import FoldrunError

DONE = "DONE"
TMP_MARK = ".tmp-"  # temp folders of foldrun before tasks ran in place: still cleared
RUNNING = ".foldrun-running"  # in a task folder while an attempt runs there: its pid
PREV_MARK = ".prev-"
METRICS, PREDICTIONS = "metrics.json", "predictions.parquet"  # a task's outputs (layout.py)
OUTPUTS = (METRICS, PREDICTIONS)  # what must read back whole when present
WROTE = ".foldrun-outputs"  # which of OUTPUTS the task left, written by `finish` before DONE


def read_done(task_dir: Path | str) -> str | None:
    """The text of `task_dir/DONE`; None when there is none (or no such folder). A DONE
    that cannot be read as text (a folder, unreadable, not UTF-8) is returned as "" so it
    judges as corrupt."""
    try:
        return read_text(os.path.join(task_dir, DONE))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError):
        return ""


def read_text(path: str) -> str:
    """The file's text as `open(path, encoding="utf-8").read()` gives it (newlines made
    `\\n`), without a text wrapper: the state walk of 100,000 task folders reads a DONE (and
    a metrics.json) in each, and the wrapper was half of a read's cost."""
    with open(path, "rb", buffering=0) as fh:
        text = fh.read().decode("utf-8")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def whole_done(text: str, fingerprint: str | None) -> bool:
    """Whether DONE holds a whole fingerprint: the one expected, or one full line as
    `write_done` writes it (a DONE cut short lacks its newline)."""
    if fingerprint is not None and text.strip() == fingerprint:
        return True
    return text.endswith("\n") and text.count("\n") == 1 and bool(text.strip())


def json_object(text: str | None) -> bool:
    """Whether `text` parses as a JSON object (a metrics.json that reads back whole) whose
    per-fold scores (`test/...`, `val/...`, `holdout/...`) are numbers: a score that is
    not one would be left out of the mean without a word."""
    if text is None:
        return False
    try:
        found = json.loads(text)
    except ValueError:
        return False
    return isinstance(found, dict) and all(
        is_score(value) for key, value in found.items() if key.partition("/")[0] in SCORE_SUBSETS
    )


def is_score(value: object) -> bool:
    """A metric value: a number (NaN included) or null; never a bool, a string or a list."""
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def metrics_problem(text: str) -> str:
    """'' when a metrics file a task wrote is a flat JSON object of numbers (NaN or null
    allowed); else what is wrong, in a few words (the worker fails the task with it: a
    string "0.75" or a list would be dropped from the results without a word)."""
    if not text.strip():
        return "is empty"
    try:
        found = json.loads(text)
    except ValueError as err:
        return f"is not valid JSON ({err})"
    if not isinstance(found, dict):
        return f"holds a JSON {type(found).__name__}, not an object"
    bad = [(key, value) for key, value in found.items() if not is_score(value)]
    if not bad:
        return ""
    key, value = bad[0]
    shown = json.dumps(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"has {len(bad)} value(s) that are not numbers (e.g. {key!r}: {shown})"


SCORE_SUBSETS = frozenset({"test", "val", "holdout"})


def parquet_whole(path: str | Path, stamp: str | None = None) -> bool:
    """Whether a Parquet file is whole to its end: `PAR1` first, then at the end the footer
    (its length fits in the file) and `PAR1` again. A truncated file loses its footer, so
    this catches it, reading 12 bytes and importing nothing (pyarrow's import costs more
    than `foldrun status` of 1,000 tasks). `stamp`: the file's as the task recorded it at
    its commit (WROTE), when the worker had read every page back; a file changed since
    (a data page damaged between a whole header and footer) is read whole again."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
            size = fh.seek(0, os.SEEK_END)
            if size < 12:
                return False
            fh.seek(size - 8)
            tail = fh.read(8)
            changed = stamp is not None and stamp != file_stamp(os.fstat(fh.fileno()))
    except OSError:
        return False
    footer = int.from_bytes(tail[:4], "little")
    ends = head == tail[4:] == b"PAR1" and 0 < footer <= size - 12
    return ends and (not changed or parquet_reads(path))


def file_stamp(st: os.stat_result) -> str:
    """A file's size and mtime as WROTE records them: changed by any write, kept by a copy
    that keeps the mtime (cp -p, rsync -a), so a copied run is not read whole each time."""
    return f"{st.st_size}:{st.st_mtime_ns}"


def parquet_reads(path: str | Path) -> bool:
    """Whether every page of a Parquet file reads back, each against its checksum where it
    has one (the worker writes them: adapters/common.write_predictions)."""
    # lazy: pyarrow, only for a predictions file changed since its task's commit
    import pyarrow.parquet as pq

    try:
        with pq.ParquetFile(path, page_checksum_verification=True) as parquet:
            parquet.read(use_threads=False)
    except Exception:  # any reader error (OSError, ArrowInvalid, ...): not whole
        return False
    return True


# what a committed folder of each stage must hold (any one of each tuple): an evaluate
# always writes metrics.json. (What a predict must leave depends on the model: the worker
# checks the outputs the plan declares before it commits.)
REQUIRED = {"evaluate": (METRICS,)}


def required_present(stage: str, names: Iterable[str]) -> bool:
    """Whether a `stage` folder holding files `names` has what its stage must leave."""
    needed = REQUIRED.get(stage)
    return needed is None or any(name in set(names) for name in needed)


def outputs_whole(task_dir: Path | str) -> bool:
    """Whether the folder holds what its stage must leave and what the task recorded at its
    commit, and every output of OUTPUTS it holds reads back whole."""
    present = _listing(task_dir)
    text: str | None = None
    if OUTPUTS[0] in present:
        try:
            text = read_text(os.path.join(task_dir, OUTPUTS[0]))
        except (OSError, UnicodeDecodeError):
            text = None
    return listed_whole(task_dir, os.path.basename(os.path.normpath(task_dir)), present, text)


def listed_whole(
    task_dir: Path | str, stage: str, present: Iterable[str], metrics_text: str | None
) -> bool:
    """outputs_whole of a folder listed already (`present`, its file names) whose
    metrics.json text was read already (None: unreadable or absent), as results read
    10,000 folders in bulk: the one rule of a whole folder for both."""
    present = set(present)
    recorded = recorded_outputs(task_dir, present)
    if not required_present(stage, present) or recorded is None or not set(recorded) <= present:
        return False
    if OUTPUTS[0] in present and not json_object(metrics_text):
        return False
    path = os.path.join(task_dir, OUTPUTS[1])
    return OUTPUTS[1] not in present or parquet_whole(path, recorded.get(OUTPUTS[1]))


def recorded_outputs(task_dir: Path | str, present: Iterable[str]) -> dict[str, str | None] | None:
    """The outputs the task recorded at its commit (WROTE), each with its stamp (None:
    none recorded); each must still be among the folder's files `present`: a lost
    predictions.parquet makes the folder corrupt, as a damaged one does, while a task
    that wrote none stays done. {} for a folder committed before the record existed
    (nothing to compare); None when WROTE does not read."""
    if WROTE not in set(present):
        return {}
    try:
        with open(os.path.join(task_dir, WROTE), encoding="utf-8") as fh:
            lines = [line.split() for line in fh.read().splitlines()]
    except (OSError, UnicodeDecodeError):
        return None
    return {words[0]: (words[1] if len(words) > 1 else None) for words in lines if words}


def record_outputs(task_dir: Path) -> None:
    """Write WROTE: the outputs of OUTPUTS the task left (before DONE, by `finish`), the
    predictions with their stamp (file_stamp), the worker having read them back whole."""
    left = [name for name in OUTPUTS if (task_dir / name).is_file()]
    stamps = {n: f" {file_stamp(os.stat(task_dir / n))}" for n in left if n == PREDICTIONS}
    text = "".join(f"{name}{stamps.get(name, '')}\n" for name in left)
    (task_dir / WROTE).write_text(text, encoding="utf-8")


def _listing(task_dir: Path | str) -> set[str]:
    try:
        return set(os.listdir(task_dir))
    except OSError:
        return set()


def judge(
    done: str | None, fingerprint: str | None, outputs_ok: bool, failed: bool
) -> TaskState:
    """The one rule for a task folder's state on disk, from what was read of it:
    `done` the DONE text (None: no DONE), `fingerprint` the one the plan gives (None: not
    known, any whole one counts as done), `outputs_ok` its outputs read back whole,
    `failed` a `<stage>.failed` folder exists. A DONE folder that does not read back whole
    is `corrupt`: never done, never stale; a plain run replaces it."""
    if done is not None:
        if not whole_done(done, fingerprint) or not outputs_ok:
            return TaskState.CORRUPT
        found = done.strip()
        return TaskState.DONE if fingerprint in (None, found) else TaskState.STALE
    return TaskState.FAILED if failed else TaskState.PENDING


def disk_state(task_dir: Path | str, fingerprint: str | None) -> TaskState:
    """done / stale / corrupt from DONE and the outputs; failed when a `.failed` folder
    remains; else pending (see `judge`). While an attempt runs in the folder (or after it
    was killed), the earlier folder it moved aside still says what the task is."""
    done = read_done(task_dir)
    if done is None and os.path.exists(os.path.join(task_dir, RUNNING)):
        earlier = prev_dirs(Path(task_dir))  # the state walk passes a folder as text
        if earlier:
            return disk_state(earlier[-1], fingerprint)
    if done is not None:
        return judge(done, fingerprint, outputs_whole(task_dir), False)
    return judge(None, fingerprint, True, os.path.isdir(failed_path(task_dir)))


def read_fingerprint(task_dir: Path) -> str | None:
    """The fingerprint in DONE of a committed task folder whose outputs read back whole;
    None when the task is not committed or is corrupt, so it never counts as done. (A DONE
    cut short holds no fingerprint the plan gives, so comparing with one is safe.)"""
    done = read_done(task_dir)
    if done is None or not done.strip():
        return None
    found = done.strip()
    return found if judge(done, found, outputs_whole(task_dir), False) == TaskState.DONE else None


def tmp_dir(task_dir: Path, pid: int) -> Path:
    return task_dir.parent / f".{task_dir.name}{TMP_MARK}{pid}"


def failed_dir(task_dir: Path) -> Path:
    return Path(failed_path(task_dir))


def failed_path(task_dir: Path | str) -> str:
    """`failed_dir` as text: `<stage>.failed` beside the task folder (the state walk of
    100,000 folders makes no Path)."""
    return f"{os.fspath(task_dir)}.failed"


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


def attempt_pid(task_dir: Path) -> int | None:
    """The pid in the running mark of an attempt in `task_dir` (alive or not)."""
    try:
        return int((task_dir / RUNNING).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def running_pid(task_dir: Path) -> int | None:
    """The pid of a live worker executing this task on this host, if any."""
    pid = attempt_pid(task_dir)
    if pid is not None and pid_alive(pid):
        return pid
    for _, pid in tmp_dirs(task_dir):
        if pid_alive(pid):
            return pid
    return None


def prev_dirs(task_dir: Path) -> list[Path]:
    """Earlier folders of this task moved aside by attempts (`.<stage>.prev-<pid>`)."""
    prefix = f".{task_dir.name}{PREV_MARK}"
    with contextlib.suppress(FileNotFoundError):
        return sorted(Path(e.path) for e in os.scandir(task_dir.parent)
                      if e.name.startswith(prefix) and e.is_dir())  # fmt: skip
    return []


def recover(task_dir: Path) -> None:
    """Undo attempts that died (call while holding the task's lock, or with its workers
    dead): an attempt folder without a whole DONE is removed, and the folder it had moved
    aside is put back. A whole DONE means the attempt committed: its mark is dropped."""
    if (task_dir / RUNNING).exists():
        if read_fingerprint(task_dir) is None:
            shutil.rmtree(task_dir, ignore_errors=True)
        else:
            (task_dir / RUNNING).unlink(missing_ok=True)
    for prev in prev_dirs(task_dir):
        if task_dir.exists():
            shutil.rmtree(prev, ignore_errors=True)
        else:
            os.rename(prev, task_dir)
    remove_dead_tmp(task_dir)


def prev_dir(task_dir: Path, pid: int) -> Path:
    """Where the attempt of worker `pid` keeps the task's earlier folder."""
    return task_dir.parent / f".{task_dir.name}{PREV_MARK}{pid}"


def begin(task_dir: Path, pid: int) -> Path | None:
    """Start an attempt in `task_dir` (holding the task's lock, after `recover`): the
    folder of an earlier attempt is moved aside (returned; put back if this one fails),
    a fresh folder made."""
    previous = None
    if task_dir.exists():
        previous = prev_dir(task_dir, pid)
        os.rename(task_dir, previous)
    task_dir.mkdir(parents=True)
    (task_dir / RUNNING).write_text(f"{pid}\n")
    return previous


def finish(task_dir: Path, fingerprint: str, previous: Path | None) -> None:
    """Commit the attempt: outputs durable, then DONE by an atomic rename (a reader sees
    a whole DONE or none), then the mark and the earlier folder go."""
    tmp = task_dir / f".{DONE}{TMP_MARK}{os.getpid()}"
    record_outputs(task_dir)
    write_done_file(tmp, fingerprint)
    fsync_tree(task_dir)  # the outputs and DONE's bytes durable before DONE is named
    os.rename(tmp, task_dir / DONE)
    fsync_dir(task_dir)
    (task_dir / RUNNING).unlink(missing_ok=True)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
    shutil.rmtree(failed_dir(task_dir), ignore_errors=True)


def fail(task_dir: Path, previous: Path | None) -> Path:
    """Keep the failed attempt as `<stage>.failed` and put the earlier folder back."""
    (task_dir / RUNNING).unlink(missing_ok=True)
    kept = keep_failed(task_dir, task_dir)
    _restore(task_dir, previous)
    return kept


def abandon(task_dir: Path, previous: Path | None) -> None:
    """Drop the attempt (nothing of it counts) and put the earlier folder back."""
    shutil.rmtree(task_dir, ignore_errors=True)
    _restore(task_dir, previous)


def _restore(task_dir: Path, previous: Path | None) -> None:
    if previous is not None and previous.is_dir() and not task_dir.exists():
        os.rename(previous, task_dir)


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
    write_done_file(tmp / DONE, fingerprint)


def write_done_file(path: Path, fingerprint: str) -> None:
    with open(path, "w") as fh:
        fh.write(fingerprint + "\n")


def _move_aside(path: Path) -> Path | None:
    """Rename an existing folder out of the way (rename is atomic; rmtree is not)."""
    if not path.exists():
        return None
    trash = path.parent / f".{path.name}.old-{os.getpid()}"
    shutil.rmtree(trash, ignore_errors=True)
    os.rename(path, trash)
    return trash


def keep_failed(tmp: Path, task_dir: Path) -> Path:
    """Keep a failed attempt (its log) as `<stage>.failed`, never with a DONE file."""
    target = failed_dir(task_dir)
    (tmp / DONE).unlink(missing_ok=True)
    old = _move_aside(target)
    os.rename(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


# ---- racing: tasks a race stopped ---------------------------------------------------------

RACE_FILE = "race.json"  # in `.foldrun/`: the decisions of the race and the tasks it stopped


def read_race(state_dir: Path | str) -> dict[str, object]:
    """`.foldrun/race.json` ({"pruned": {key: fingerprint}, "decisions": [...]}); empty
    when there is none. foldrun writes it atomically, so one that does not read whole or
    has another shape was edited by hand: one line (exit 2) saying to delete it, never a
    guess at which variants a race stopped."""
    path = os.path.join(state_dir, RACE_FILE)
    try:
        with open(path, encoding="utf-8") as fh:
            record = json.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise _damaged_race(path, "it does not read as JSON") from err
    problem = _race_problem(record)
    if problem:
        raise _damaged_race(path, problem)
    return record  # type: ignore[no-any-return]


def _race_problem(record: object) -> str | None:
    """What makes `record` not a race record (None: it is one)."""
    if not isinstance(record, dict):
        return "it is not a JSON object"
    pruned = record.get("pruned", {})
    if not isinstance(pruned, dict) or not all(isinstance(v, str) for v in pruned.values()):
        return "'pruned' is not an object of task key -> fingerprint"
    decisions = record.get("decisions", [])
    if not isinstance(decisions, list) or not all(
        isinstance(d, dict) and isinstance(d.get("model"), str)
        and isinstance(d.get("variant"), str) for d in decisions
    ):  # fmt: skip
        return "'decisions' is not a list of objects with a model and a variant"
    return None


def _damaged_race(path: str, problem: str) -> FoldrunError:
    return FoldrunError(
        f"the race record is damaged ({problem}); delete it and run again: the race then "
        "decides again on the folds that are done",
        file=path,
    )


def pruned_keys(state_dir: Path | str) -> dict[str, str]:
    """Task key -> the fingerprint it had when its race stopped it. A task is pruned only
    while its fingerprint is still that one (a changed spec races it again) and it is not
    done."""
    pruned = read_race(state_dir).get("pruned")
    if not isinstance(pruned, dict):
        return {}
    return {str(k): str(v) for k, v in pruned.items()}


def is_pruned(record: dict[str, str], key: str, fingerprint: str | None) -> bool:
    """THE rule: a task is pruned while `record` (`pruned_keys`) holds it with the
    fingerprint it still has (None: no plan to compare with, the record alone says). Its
    callers add what they know of its state: a done task is never pruned."""
    recorded = record.get(key)
    return recorded is not None and fingerprint in (None, recorded)


def write_race(state_dir: Path | str, record: dict[str, object]) -> None:
    """Atomically: a reader sees the old record or the new one, whole."""
    write_json(os.path.join(state_dir, RACE_FILE), record, sync=True, indent=1, sort_keys=True)


# ---- the SLURM job script's questions, answered by the one rule ---------------------------


def first_not_done(tasks_dir: Path | str, needs: list[str]) -> str | None:
    """The first task of `needs` ([key, fingerprint, key, fingerprint, ...]) whose folder
    under `tasks_dir` is not done with that fingerprint (`disk_state`: a corrupt or stale
    folder is not done); None when every one is."""
    for key, fingerprint in zip(needs[::2], needs[1::2], strict=False):
        if disk_state(Path(tasks_dir) / key, fingerprint) != TaskState.DONE:
            return key
    return None


NOT_DONE_EXIT = 3  # `python -m foldrun.core.state`: an upstream task is not done


def main(argv: list[str]) -> int:
    """`python -m foldrun.core.state TASKS_DIR [KEY FINGERPRINT]...`: the SLURM job script
    asks whether a task's parents are done before it runs it. Exit 0 when they are, else
    print the first that is not and exit NOT_DONE_EXIT."""
    missing = first_not_done(argv[0], argv[1:])
    if missing is None:
        return 0
    print(missing)
    return NOT_DONE_EXIT


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
