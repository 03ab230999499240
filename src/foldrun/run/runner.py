"""`foldrun run`: plan, keep what is not done, refuse stale results, lock, execute.

`foldrun.api` (and so the CLI) plans a loaded spec with `plan_run` and runs the plan with
`run_planned`, which returns a `RunResult` (counts per state, the failures with their log
path and last lines, the exit code); `run()` is both, from a spec file.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foldrun.core import audit, state
from foldrun.core.task import STAGES, PlannedTask, TaskState, matches
from foldrun.errors import ExitCode, RunError
from foldrun.layout import RunLayout, TaskFiles
from foldrun.plan import build_plan, cache
from foldrun.results.index import stamp_at
from foldrun.run import lock
from foldrun.run import race as racing
from foldrun.run import status as run_status
from foldrun.run.backends import backend_class, get_backend
from foldrun.run.backends.base import BackendResult, Outcome, RunContext
from foldrun.run.options import RunOptions
from foldrun.run.signals import stopping_on_signals
from foldrun.run.worker import task_folder
from foldrun.spec import load_spec

if TYPE_CHECKING:
    from foldrun.spec.model import Spec

TAIL_LINES = 15
DEFAULTS = RunOptions()  # a run of everything not done, one task at a time, here


@dataclass
class Failure:
    key: str
    log: Path | None
    tail: list[str]
    reason: str = ""
    blocked: bool = False  # not run at all: a task it depends on failed


@dataclass
class RunResult:
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    exit_code: int = int(ExitCode.OK)
    to_run: list[str] = field(default_factory=list)
    already_done: int = 0
    messages: list[str] = field(default_factory=list)
    run_dir: Path | None = None
    walked: str | None = None  # `walk`'s digest of the task folders (a run that ran nothing)


def plan_spec(
    spec_path: Path, *, make_split: bool = True, spec: Spec | None = None
) -> tuple[Path, dict[str, PlannedTask]]:
    """Load the spec (unless the caller loaded it: `spec`) and build the plan: (run folder,
    tasks in topological order). Only with `make_split` (a real run) is anything written:
    the split if absent, foldrun's caches."""
    plan = build_plan(spec if spec is not None else load_spec(spec_path), write=make_split)
    return Path(plan.run_dir), dict(plan.tasks)


def select(
    tasks: dict[str, PlannedTask],
    states: dict[str, TaskState],
    models: Sequence[str] = (),
    folds: Sequence[int] = (),
    stages: Sequence[str] = (),
    datasets: Sequence[str] = (),
) -> list[str]:
    """The chosen tasks plus the not-done tasks they depend on, in plan order."""
    if not (models or folds or stages or datasets):  # every task: nothing to add
        return list(tasks)
    chosen = {k for k, t in tasks.items() if matches(t, models, folds, stages, datasets)}
    stack = list(chosen)
    while stack:
        for dep in tasks[stack.pop()].deps:
            if dep in tasks and dep not in chosen and states[dep] != TaskState.DONE:
                chosen.add(dep)
                stack.append(dep)
    return [k for k in tasks if k in chosen]


def to_execute(
    tasks: dict[str, PlannedTask], selected: Iterable[str], states: dict[str, TaskState]
) -> list[str]:
    """Selected tasks not done, and those downstream of one that reruns (plan order is
    topological, so one pass suffices)."""
    out: list[str] = []
    picked: set[str] = set()
    for key in selected:
        if states[key] != TaskState.DONE or any(d in picked for d in tasks[key].deps):
            out.append(key)
            picked.add(key)
    return out


def stale_message(tasks: dict[str, PlannedTask], stale: list[str]) -> str:
    groups: dict[str, int] = {}
    for key in stale:
        name = f"{tasks[key].model}/{tasks[key].variant}"
        groups[name] = groups.get(name, 0) + 1
    listed = ", ".join(f"{name} ({n})" for name, n in sorted(groups.items()))
    return (
        f"{len(stale)} done task(s) were made with other settings than the spec now gives "
        f"them (stale): {listed}; rerun them with --force, or restore the old settings"
    )


def record_backend(layout: RunLayout, name: str) -> None:
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    (layout.state_dir / "backend").write_text(name + "\n")


def log_tail(path: Path, lines: int = TAIL_LINES, start: int = 0) -> list[str]:
    """The last lines of a log, from byte `start` on at the earliest."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(start, fh.tell() - 16384))
            text = fh.read().decode(errors="replace")
    except OSError:
        return []
    return text.splitlines()[-lines:]


def failure(
    task: PlannedTask,
    layout: RunLayout,
    reason: str = "",
    since: float | None = None,
    worker_from: int = 0,
) -> Failure:
    """The log of the task's failed attempt; with `since` (when this run started), one
    that an older attempt left is never shown as this attempt's cause."""
    if reason:
        return Failure(task.key, None, [], reason)
    log = state.failed_dir(task_folder(task)) / TaskFiles.LOG
    if _written_since(log, since):
        return Failure(task.key, log, log_tail(log))
    if since is not None:
        worker_log = layout.worker_log
        note = f"its process ended without a log (killed, or no disk space?); see {worker_log}"
        # the task server's own lines of this run (after `worker_from`, its size when the run
        # started) say why (a full disk: "No space left on device"); older ones never do
        tail = log_tail(worker_log, start=worker_from)
        return Failure(task.key, None, tail, note + (": " + tail[-1] if tail else ""))
    return Failure(
        task.key, layout.worker_log, log_tail(layout.worker_log)
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _written_since(path: Path, since: float | None) -> bool:
    try:
        # file times come from a coarse kernel clock (a few ms behind time.time()); a log of
        # an earlier run is older by at least the start-up of this one
        return since is None or path.stat().st_mtime >= since - 0.05
    except OSError:
        return False


def run(
    spec_path: str | Path,
    options: RunOptions = DEFAULTS,
    listener_factory: Callable[[dict[str, PlannedTask], list[str]], object] | None = None,
) -> RunResult:
    """Plan the spec's tasks and execute those not done yet."""
    spec_path = Path(spec_path).resolve()
    options.check()  # before the spec is loaded and planned (the plan may write the split)
    run_dir, tasks = plan_run(load_spec(spec_path), options)
    return run_planned(spec_path, run_dir, tasks, options, listener_factory)


def plan_run(spec: Spec, options: RunOptions) -> tuple[Path, dict[str, PlannedTask]]:
    """`run`'s plan of a loaded spec (the one load of a command: foldrun.api): the selection
    checked against the spec and, on a first run, the tasks checked to fit, both before
    anything is written; then the plan, which makes the split (not for a dry run)."""
    check_subset(spec, options.models, options.folds, options.stages, options.datasets)
    # a dry run writes nothing; but a backend whose dry run writes job scripts to submit by
    # hand (SLURM) needs the split made: its array elements must find it
    writes = not options.dry_run or backend_class(options.backend).dry_run_writes
    if writes and not spec.run_dir.exists():
        # a first run: its tasks planned in memory and checked to fit (--jobs, GPUs) before
        # the split and .foldrun/ are made, so that a refused run leaves nothing behind
        _fits(spec.path, *plan_spec(spec.path, make_split=False, spec=spec), options)
    return plan_spec(spec.path, make_split=writes, spec=spec)


def _fits(
    spec_path: Path, run_dir: Path, tasks: dict[str, PlannedTask], options: RunOptions
) -> None:
    """The backend's check that every selected task can run (raises when one cannot)."""
    pending = {k: TaskState.PENDING for k in tasks}
    keys = select(tasks, pending, options.models, options.folds, options.stages,
                  options.datasets)  # fmt: skip
    ctx = _context(spec_path, run_dir, options)
    backend_class(options.backend).prepare([tasks[k] for k in keys], ctx, options.gpus)


def _context(spec_path: Path, run_dir: Path, options: RunOptions) -> RunContext:
    return RunContext(spec_path=spec_path, run_dir=run_dir, run_id=_run_id(run_dir),
                      jobs=options.jobs, retries=options.retries, dry_run=options.dry_run,
                      wait=options.wait, options=dict(options.settings))  # fmt: skip


@dataclass
class _Choice:
    """The tasks of a run: those selected, their states on disk, and those to execute."""

    selected: list[str]
    states: dict[str, TaskState]
    stale: list[str]  # selected, done with other settings (run again with --force only)
    keys: list[str]  # to execute, in plan order
    walked: str | None = None  # `walk`'s digest of the task folders

    def already_done(self) -> int:
        chosen = set(self.keys)
        return sum(1 for k in self.selected
                   if k not in chosen and self.states[k] != TaskState.PRUNED)  # fmt: skip


def _choose(
    spec_path: Path,
    run_dir: Path,
    tasks: dict[str, PlannedTask],
    options: RunOptions,
    walked: tuple[dict[str, TaskState], str] | None = None,
) -> _Choice:
    # the kept plan's walk (`resume_kept`) holds: the same tasks (its key says the plan is
    # the same), looked at just before planning, which writes no task folder
    same = walked is not None and len(walked[0]) == len(tasks) and all(
        k in walked[0] for k in tasks)  # fmt: skip
    states, digest = walked if same and walked is not None else walk(tasks.values(), run_dir)
    selected = select(tasks, states, options.models, options.folds, options.stages,
                      options.datasets)  # fmt: skip
    stale = [k for k in selected if states[k] == TaskState.STALE]
    if stale and not options.force:
        raise RunError(stale_message(tasks, stale), file=spec_path)
    keys = to_execute(tasks, selected, states)
    if racing.race_of(tasks) is not None:  # a variant the race stopped is not run again
        pruned = racing.pruned_now(tasks, states, run_dir)  # while it is unchanged
        states.update({k: TaskState.PRUNED for k in pruned})
        keys = [k for k in keys if k not in pruned]
    return _Choice(selected, states, stale, keys, digest)


@dataclass
class Kept:
    """What a run learned from the plan its unchanged spec's cache keeps (plan/cache.py):
    whether it holds, and for a resume that runs nothing its result, without a plan."""

    current: bool = False  # the kept plan holds: the run need not keep it again
    result: RunResult | None = None  # every task done: nothing to run (None: plan and run)
    tasks: dict[str, Any] | None = None  # the kept plan's rows, by key (with `result`)
    # the walk of the kept plan's tasks, when some are to run: the run walks them no more
    walked: tuple[dict[str, TaskState], str] | None = None


def resume_kept(spec: Spec, options: RunOptions) -> Kept:
    """A plain run (no subset, no race, not a dry run) of a spec whose kept plan still holds
    and whose tasks are all done runs nothing: its result comes from the kept rows and one
    state walk, without planning 100,000 tasks again. Anything else plans as before."""
    rows = cache.kept_rows(spec)
    if rows is None:
        return Kept()
    plain = not (options.models or options.folds or options.stages or options.datasets)
    if not plain or options.dry_run or spec.race is not None:
        return Kept(current=True)
    states, walked = walk(rows, Path(spec.run_dir))
    if any(s != TaskState.DONE for s in states.values()):  # something to run: planned,
        return Kept(current=True, walked=(states, walked))  # the rows freed meanwhile
    run_dir = Path(spec.run_dir)
    ctx = _context(spec.path, run_dir, options)
    backend_class(options.backend).prepare([], ctx, options.gpus)  # as a run of nothing
    result = RunResult(already_done=len(states), run_dir=run_dir, walked=walked,
                       counts=_counts(list(states), states, {}))  # fmt: skip
    return Kept(True, result, {r.key: r for r in rows})


def walk(tasks: Iterable[Any], run_dir: Path) -> tuple[dict[str, TaskState], str]:
    """Each task's state on disk and a digest of what the walk saw. A committed folder
    whose files have the stamp the last refresh recorded (results/index.py, the rule status
    follows: size, mtime, ctime, inode of DONE and the outputs) takes its state from that
    record; any other folder is read (core/state.py). The digest holds each task's key,
    fingerprint, state and its stamp (the record's is the folder's, unchanged): an
    unchanged digest means unchanged task folders, so the summary kept with it
    still holds (report/terminal.py) with no second walk."""
    kept = run_status.Kept(run_dir)
    digest = hashlib.sha256()
    states = {}
    for task in tasks:
        quick = kept.stamped(task)
        if quick is not None:
            found, stamp = quick[0], quick[2]
        else:
            folder = task.task_dir if isinstance(task.task_dir, str) else str(task_folder(task))
            found, stamp = state.disk_state(folder, task.fingerprint), stamp_at(folder)
        states[task.key] = found
        digest.update(f"{task.key}\0{task.fingerprint}\0{found.value}\0{stamp}\n".encode())
    return states, digest.hexdigest()


def run_planned(
    spec_path: Path,
    run_dir: Path,
    tasks: dict[str, PlannedTask],
    options: RunOptions = DEFAULTS,
    listener_factory: Callable[[dict[str, PlannedTask], list[str]], object] | None = None,
    walked: tuple[dict[str, TaskState], str] | None = None,
) -> RunResult:
    """`run()` after planning: the part tests drive with hand-built plans (`walked`: the
    states `resume_kept` found, not walked again)."""
    options.check()
    _check_names(tasks, options.models, options.stages)
    choice = _choose(spec_path, run_dir, tasks, options, walked)
    todo = [tasks[k] for k in choice.keys]
    ctx = _context(spec_path, run_dir, options)
    ctx = backend_class(options.backend).prepare(todo, ctx, options.gpus)
    result = RunResult(to_run=choice.keys, already_done=choice.already_done(), run_dir=run_dir,
                       walked=choice.walked if not choice.keys else None)  # fmt: skip
    if options.dry_run and todo:
        get_backend(options.backend).dry_run(todo, ctx)
    if options.dry_run or not todo:
        result.counts = _counts(choice.selected, choice.states, {})
        return result
    layout = RunLayout(run_dir)
    started, worker_from = time.time(), _size(layout.worker_log)
    listener = listener_factory(tasks, choice.keys) if listener_factory else None
    outcome = _execute(tasks, choice, ctx, options.backend, listener)
    result.messages.extend(outcome.messages)
    # tasks the race stopped during this run were never run (`states` is made per call:
    # once here, not once a task: 1,500 tasks cost seconds)
    states = outcome.states
    result.to_run = [k for k in choice.keys if states.get(k) != TaskState.PRUNED]
    _finish(result, tasks, choice.selected, choice.states, outcome, layout, started,
            worker_from)  # fmt: skip
    return result


def _execute(
    tasks: dict[str, PlannedTask], choice: _Choice, ctx: RunContext, backend: str, listener: object
) -> BackendResult:
    """The chosen tasks executed by the backend, the run folder locked meanwhile."""
    layout = RunLayout(ctx.run_dir)
    with stopping_on_signals(), lock.held(layout.lock_file):
        record_backend(layout, backend)
        for key in choice.stale:  # the audit trail says which done results --force replaces
            audit.append(layout.audit_log, key, "forced", "rerun of a stale task (--force)")
        engine = get_backend(backend, **({"listener": listener} if listener else {}))
        with _showing(listener):
            race = racing.race_of(tasks)
            if race is not None:
                return racing.execute(engine, tasks, choice.keys, ctx, race)
            return engine.execute([tasks[k] for k in choice.keys], ctx)


@contextmanager
def _showing(listener: object) -> Iterator[None]:
    """Start and stop a live display around execution, when there is one."""
    start, stop = getattr(listener, "start", None), getattr(listener, "stop", None)
    if callable(start):
        start()
    try:
        yield
    finally:
        if callable(stop):
            stop()


def check_subset(
    spec: Spec,
    models: Sequence[str],
    folds: Sequence[int],
    stages: Sequence[str],
    datasets: Sequence[str] = (),
) -> None:
    """--models/--stages/--folds/--datasets checked against the spec before anything is
    written (planning makes the split); variant names are checked once the plan exists."""
    for name in datasets:
        if name not in spec.datasets:
            known = ", ".join(spec.datasets) or "none ([datasets] is not in the spec)"
            raise RunError(f"no dataset {name!r} in the spec; datasets: {known}", key="--datasets")
    for name in models:
        if name.split("/")[0] not in spec.models:
            known = ", ".join(sorted(spec.models))
            raise RunError(f"no model {name!r} in the spec; models: {known}", key="--models")
    for name in stages:
        if name not in STAGES:
            raise RunError(f"no stage {name!r}; stages: {', '.join(STAGES)}", key="--stages")
    split = spec.split
    predefined = split.from_ is not None or split.fold_column is not None
    n_folds = None if predefined else (split.folds or 5)  # 5: make_folds' default
    for fold in folds:
        if fold < 0 or (n_folds is not None and fold >= n_folds):
            raise RunError(
                f"no fold {fold}; the split has folds 0 to {(n_folds or 1) - 1}", key="--folds"
            )


def _check_names(
    tasks: dict[str, PlannedTask], models: Sequence[str], stages: Sequence[str]
) -> None:
    if not (models or stages):  # nothing to check (and 100,000 names not to make)
        return
    known_models = {t.model for t in tasks.values()} | {
        f"{t.model}/{t.variant}" for t in tasks.values()
    }
    for name in models:
        if name not in known_models:
            names = ", ".join(sorted({t.model for t in tasks.values()}))
            raise RunError(f"no model {name!r} in the spec; models: {names}", key="--models")
    known_stages = {t.stage for t in tasks.values()}
    for name in stages:
        if name not in known_stages:
            raise RunError(
                f"no stage {name!r}; stages: {', '.join(sorted(known_stages))}", key="--stages"
            )


def _run_id(run_dir: Path) -> str:
    return f"foldrun-{run_dir.name}-{socket.gethostname()}-{datetime.now():%Y%m%d%H%M%S}"


def _counts(
    selected: list[str], states: dict[str, TaskState], after: dict[str, TaskState]
) -> dict[str, int]:
    counts = {s.value: 0 for s in TaskState}
    for key in selected:
        counts[after.get(key, states[key]).value] += 1
    return counts


def _finish(
    result: RunResult,
    tasks: dict[str, PlannedTask],
    selected: list[str],
    states: dict[str, TaskState],
    outcome: BackendResult,
    layout: RunLayout,
    started: float | None = None,
    worker_from: int = 0,
) -> None:
    """Counts and failures from the backend's typed outcomes (never from its messages)."""
    result.counts = _counts(selected, states, outcome.states)
    for key in result.to_run:
        found = outcome.outcomes.get(key)
        if found is Outcome.BLOCKED:
            result.failures.append(Failure(key, None, [], "not run: an upstream task failed", True))
        elif found is Outcome.FAILED:
            result.failures.append(failure(tasks[key], layout, "", started, worker_from))
    if result.failures:
        result.exit_code = int(ExitCode.TASKS_FAILED)
