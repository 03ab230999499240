"""The plan of an unchanged spec, kept in the run folder (issue 26 item 2).

`foldrun query`, `report` and `status` need of the plan only each task's key, folder and
fingerprint; planning 10,000 tasks again costs seconds. `rows(spec)` gives them from
`.foldrun/plan/<spec>.json` when nothing planning read has changed since it was written,
else plans and (with `keep`) writes the file.

What planning read is recorded while it plans (a Python audit hook: every file opened,
every folder listed, the folders holding them), with what C++ readers open unseen: every
path the spec names and every file of the split folder. The key is the stat of each
(size, mtime, ctime, inode; absent counts too), the spec's bytes and its parsed content,
foldrun's own source files and the working folder. The run folder itself is keyed on the
names it holds other than foldrun's own outputs (report/, results/, tasks/, ...), not on
its mtime: writing a report must not make the next command plan again. A file changed
within RACY_NS of the write could change again within the clock's step unseen, so then
nothing is written (git's racy-clean rule). A cache file that does not read back whole,
or names another version, is planned again and replaced, never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from foldrun.core.files import write_json
from foldrun.layout import RunLayout

VERSION = 2  # 2: the run folder keyed on its names, not its stat
RACY_NS = 2_000_000_000  # a file this recent may change again unseen (coarse clocks, FAT)
_AUDITED = ("open", "os.listdir", "os.scandir")
_recording: list[set[str]] = []  # the paths read by the planning under way (a stack)


class PlanRow(NamedTuple):
    """What status and results need of a planned task (core/task.PlannedTask's names). A
    named tuple: 10,000 of them are made from the cache file in each status and query (a
    frozen dataclass took 5x longer)."""

    key: str
    model: str
    variant: str
    fold: int
    repeat: int
    stage: str
    fingerprint: str
    task_dir: str
    inner: int = -1
    dataset: str = ""


def row_of(task: Any) -> PlanRow:
    return PlanRow(task.key, task.model, task.variant, task.fold, task.repeat, task.stage,
                   task.fingerprint, str(task.task_dir), task.inner, task.dataset)  # fmt: skip


def as_rows(tasks: Iterable[Any]) -> list[PlanRow]:
    """The plan's tasks as rows (rows as they are): what results and the summary read of
    a plan, without holding its recipes (100,000 tasks: ~100 MB) while they run."""
    return [t if isinstance(t, PlanRow) else row_of(t) for t in tasks]


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _recording and event in _AUDITED and args and isinstance(args[0], str | bytes | Path):
        _recording[-1].add(os.fsdecode(args[0]))


_hooked: list[bool] = []


@contextmanager
def recording() -> Iterator[set[str]]:
    """The absolute paths this process opens or lists inside the block."""
    if not _hooked:  # an audit hook cannot be removed: one for the process, idle when
        sys.addaudithook(_audit)  # nothing records
        _hooked.append(True)
    found: set[str] = set()
    _recording.append(found)
    try:
        yield found
    finally:
        _recording.pop()


def cache_file(spec: Any) -> Path:
    """`.foldrun/plan/<hash of the spec's path and dataset>.json` of the spec's run."""
    name = hashlib.sha256(f"{spec.path}\0{spec.dataset or ''}".encode()).hexdigest()[:20]
    return RunLayout(spec.run_dir).state_dir / "plan" / f"{name}.json"


def stat_stamp(path: str) -> list[int] | None:
    """A file's size, mtime, ctime and inode (None when it is gone): what tells an edit."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


_PLANNING = ("plan", "spec", "split", "data", "core", "layout.py", "errors.py", "_version.py")


def _own_sources() -> list[str]:
    """foldrun's own source files that planning runs: an edited planner must plan again."""
    root = Path(__file__).resolve().parents[1]
    found = [root / name for name in _PLANNING if (root / name).is_file()]
    for name in _PLANNING:
        found += (root / name).rglob("*.py") if (root / name).is_dir() else []
    return sorted(str(p) for p in found)


def _named_paths(spec: Any) -> set[str]:
    """Every string of the spec that names an existing path (tables, fold tables, external
    sets, folders): pyarrow reads Parquet tables in C++, which the audit hook never sees."""
    found: set[str] = set()
    for text in _strings(spec.model_dump(mode="json")):
        if text and len(text) < 4096 and "\0" not in text:
            path = spec.resolve(text) if hasattr(spec, "resolve") else Path(text)
            if os.path.exists(path):
                found.add(str(path))
    return found


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _split_files(spec: Any) -> set[str]:
    """Every file and folder of the split the run uses (folds.parquet is read in C++)."""
    root = spec.layout.used_split()
    found = {str(root)}
    for folder, dirs, files in os.walk(root):
        found.update(os.path.join(folder, n) for n in (*dirs, *files))
    return found


def _inputs(spec: Any, read: Iterable[str]) -> list[str]:
    """The paths the key stats: what was read, their folders (a file appearing beside them
    that planning only looked for), the spec's named paths, the split, foldrun's sources.
    The run's .foldrun/ is left out as a folder (its lock and this cache come and go); the
    files planning read there are in. So is the run folder: `_run_names` keys it."""
    layout = RunLayout(spec.run_dir)
    read = {os.path.abspath(p) for p in read}
    parents = {os.path.dirname(p) for p in read} - {str(layout.state_dir)}
    paths = read | parents | _named_paths(spec) | _split_files(spec) | {str(spec.path)}
    paths -= {os.path.abspath(layout.root)}
    return sorted(p for p in paths if not p.startswith(str(cache_file(spec).parent)))


def _outputs(root: Path) -> set[str]:
    """The names foldrun writes in a run folder (layout.RunLayout's), which planning never
    reads: a report or query writing them must not change the key."""
    run = RunLayout(root)
    made = (run.report_dir, run.results_dir, run.tasks_dir, run.state_dir, run.audit_log,
            run.slurm_dir)  # fmt: skip
    return {p.name for p in made}


def _run_names(spec: Any) -> list[str] | None:
    """The run folder's names other than foldrun's outputs, sorted (None: no folder). All
    its mtime told planning: an entry that came or went (split/ made, a file beside the
    spec when the run folder is the spec's); what is in each read entry has its own stat."""
    root = Path(os.path.abspath(spec.run_dir))
    try:
        return sorted(set(os.listdir(root)) - _outputs(root))
    except OSError:
        return None


def _spec_digest(spec: Any) -> str:
    body = Path(spec.path).read_bytes() + b"\0" + spec.model_dump_json().encode()
    extra = f"\0{spec.path}\0{spec.dataset}\0{os.getcwd()}\0{VERSION}\0{sys.version}"
    return hashlib.sha256(body + extra.encode()).hexdigest()


def _stamps(paths: Iterable[str]) -> dict[str, list[int] | None]:
    return {p: stat_stamp(p) for p in paths}


def _load(spec: Any) -> list[PlanRow] | None:
    """The kept rows when the cache is whole and nothing it was keyed on changed."""
    try:
        body = json.loads(cache_file(spec).read_text())
        if body["version"] != VERSION or body["spec"] != _spec_digest(spec):
            return None
        if _stamps(body["inputs"]) != body["inputs"] or _stamps(_own_sources()) != body["own"]:
            return None
        if _run_names(spec) != body["run"]:
            return None
        return [PlanRow(*row) for row in body["rows"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent, damaged or of another version: plan again


def _racy(stamps: dict[str, list[int] | None], now: int) -> bool:
    return any(s is not None and s[1] >= now - RACY_NS for s in stamps.values())


def _save(spec: Any, read: set[str], tasks: list[PlanRow], digest: str) -> None:
    """Write the cache (atomically), unless an input is too recent to be trusted by stat."""
    now = time.time_ns()
    inputs = _stamps(_inputs(spec, read))
    own = _stamps(_own_sources())
    root = _stamps([os.path.abspath(spec.run_dir)])  # its names may have just changed too
    if _racy(inputs | root, now) or _spec_digest(spec) != digest:
        return  # changed while planning, or could change unseen: plan again next time
    body = {"version": VERSION, "spec": digest, "inputs": inputs, "own": own,
            "run": _run_names(spec), "rows": [list(t) for t in tasks]}  # fmt: skip
    with contextlib.suppress(OSError):  # a read-only or full disk: only slower next time
        write_json(cache_file(spec), body)


@dataclass(frozen=True)
class Planned:
    """What a run's planning read, and its key right after planning (`planned`)."""

    digest: str
    read: frozenset[str]
    key: tuple[Any, ...]
    at: int


def _key_now(spec: Any, read: Iterable[str]) -> tuple[Any, ...]:
    return (_stamps(_inputs(spec, read)), _stamps(_own_sources()), _run_names(spec))


def planned(spec: Any, digest: str | None, read: set[str]) -> Planned | None:
    """The key of the plan `foldrun run` just made (None: one the cache cannot key)."""
    key = _guarded(_key_now, spec, read)
    if digest is None or key is None:
        return None
    return Planned(digest, frozenset(read), key, time.time_ns())


def keep_run_plan(spec: Any, made: Planned | None, tasks: Iterable[Any]) -> None:
    """Keep the plan a run ran for the next status, only if nothing it was keyed on
    changed while the tasks ran (a model's code edited during a long run must not be kept
    as fresh) and nothing was too recent to trust when it was planned."""
    if made is None or _racy(made.key[0], made.at):
        return
    if _guarded(_key_now, spec, made.read) != made.key:
        return
    _guarded(_save, spec, set(made.read), [row_of(t) for t in tasks], made.digest)


def digest(spec: Any) -> str | None:
    """The spec's part of the key (None: a spec the cache cannot key)."""
    return _guarded(_spec_digest, spec)


def kept_rows(spec: Any) -> list[PlanRow] | None:
    """The kept plan's rows when nothing it was keyed on changed (`rows` without planning:
    None when it must be planned); `foldrun run` resumes from them and keeps no new copy."""
    return _guarded(_load, spec)


def rows(spec: Any, keep: bool) -> tuple[list[PlanRow], Any]:
    """The plan's tasks as rows, and the plan when it was built (None: from the cache).
    The run's split must exist (a plan without one is made in a temporary folder). With
    `keep`, a plan built here is kept for the next command (status never keeps: looking
    at a run writes nothing)."""
    # lazy: plan/graph, only when no kept plan fits (status of an unchanged spec builds none)
    from foldrun.plan import build_plan

    digest = _guarded(_spec_digest, spec)
    found = _load(spec) if digest is not None else None
    if found is not None:
        return found, None
    with recording() as read:
        plan = build_plan(spec)
    tasks = [row_of(t) for t in plan.tasks.values()]
    if keep and digest is not None and spec.layout.used_split().is_dir():
        _guarded(_save, spec, read, tasks, digest)
    return tasks, plan


def _guarded(step: Any, *args: Any) -> Any:
    """`step(*args)`, or None when it fails: the cache only saves time, so a spec it cannot
    key (a value with no JSON form) or a file it cannot stat is planned as before."""
    try:
        return step(*args)
    except Exception:  # any failure of the cache means: plan, keep nothing
        return None
