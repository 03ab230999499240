"""`foldrun run`: plan, keep what is not done, refuse stale results, lock, execute.

The CLI is a thin layer over `run()`, which returns a `RunResult` (counts per state, the
failures with their log path and last lines, the exit code).
"""

from __future__ import annotations

import os
import pickle
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from foldrun.core import audit, state
from foldrun.core.files import write_atomic
from foldrun.core.task import PlannedTask, TaskState, matches
from foldrun.errors import ExitCode, PlanError, RunError
from foldrun.layout import RunLayout
from foldrun.run import lock
from foldrun.run import race as racing
from foldrun.run.backends.base import RunContext
from foldrun.run.signals import stopping_on_signals
from foldrun.run.worker import task_folder

TAIL_LINES = 15


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


def plan_spec(spec_path: Path, *, make_split: bool = True) -> tuple[Path, dict[str, PlannedTask]]:
    """Load the spec and build the plan: (run folder, tasks in topological order). Only with
    `make_split` (a real run) is anything written: the split if absent, foldrun's caches."""
    from foldrun.plan import build_plan
    from foldrun.spec import load_spec

    spec = load_spec(spec_path)
    plan = build_plan(spec, write=make_split)
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


def check_resources(tasks: Iterable[PlannedTask], jobs: int, gpus: Sequence[int]) -> None:
    """A task that can never fit is an error now, not a hang later."""
    for task in tasks:
        if task.resources.cpus > jobs:
            raise PlanError(
                f"task {task.key} needs {task.resources.cpus} cpus but --jobs is {jobs}; "
                f"run with --jobs {task.resources.cpus} or more, or lower its resources.cpus",
                key=f"models.{task.model}.resources.cpus",
            )
        if task.resources.gpus > len(gpus):
            raise PlanError(
                f"task {task.key} needs {task.resources.gpus} GPU(s) but {len(gpus)} are "
                "available; pass --gpus 0,1,... or lower its resources.gpus",
                key=f"models.{task.model}.resources.gpus",
            )


def write_plan_file(layout: RunLayout, tasks: dict[str, PlannedTask]) -> Path:
    """The plan as this run sees it, so each worker need not re-plan (atomic write)."""
    path = layout.state_dir / "plan.pickle"
    write_atomic(path, pickle.dumps(tasks, protocol=pickle.HIGHEST_PROTOCOL))
    return path


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
    log = state.failed_dir(task_folder(task)) / "train.log"
    if _written_since(log, since):
        return Failure(task.key, log, log_tail(log))
    if since is not None:
        worker_log = layout.state_dir / "worker.log"
        note = f"its process ended without a log (killed, or no disk space?); see {worker_log}"
        # the task server's own lines of this run (after `worker_from`, its size when the run
        # started) say why (a full disk: "No space left on device"); older ones never do
        tail = log_tail(worker_log, start=worker_from)
        return Failure(task.key, None, tail, note + (": " + tail[-1] if tail else ""))
    return Failure(
        task.key, layout.state_dir / "worker.log", log_tail(layout.state_dir / "worker.log")
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
    *,
    backend: str = "local",
    jobs: int = 1,
    gpus: Sequence[int] | None = None,
    models: Sequence[str] | None = None,
    folds: Sequence[int] | None = None,
    stages: Sequence[str] | None = None,
    force: bool = False,
    retries: int = 0,
    dry_run: bool = False,
    wait: bool = True,
    listener_factory: Callable[[dict[str, PlannedTask], list[str]], object] | None = None,
    datasets: Sequence[str] | None = None,
) -> RunResult:
    """Plan the spec's tasks and execute those not done yet."""
    spec_path = Path(spec_path).resolve()
    check_subset(spec_path, models or (), folds or (), stages or (), datasets or ())
    # a dry run writes nothing; but SLURM's dry run writes job scripts to submit by hand,
    # whose array elements must find the split made (not all make it at once)
    run_dir, tasks = plan_spec(spec_path, make_split=not dry_run or backend != "local")
    return run_planned(
        spec_path,
        run_dir,
        tasks,
        backend=backend,
        jobs=jobs,
        gpus=gpus,
        models=models or (),
        folds=folds or (),
        stages=stages or (),
        force=force,
        retries=retries,
        dry_run=dry_run,
        wait=wait,
        listener_factory=listener_factory,
        datasets=datasets or (),
    )


def run_planned(
    spec_path: Path,
    run_dir: Path,
    tasks: dict[str, PlannedTask],
    *,
    backend: str = "local",
    jobs: int = 1,
    gpus: Sequence[int] | None = None,
    models: Sequence[str] = (),
    folds: Sequence[int] = (),
    stages: Sequence[str] = (),
    force: bool = False,
    retries: int = 0,
    dry_run: bool = False,
    wait: bool = True,
    listener_factory: Callable[[dict[str, PlannedTask], list[str]], object] | None = None,
    datasets: Sequence[str] = (),
) -> RunResult:
    """`run()` after planning: the part tests drive with hand-built plans."""
    from foldrun.run.backends import get_backend
    from foldrun.run.gpus import detect_gpus

    layout = RunLayout(run_dir)
    if retries < 0 or jobs < 1:
        raise RunError("--jobs must be >= 1 and --retries >= 0", key="--jobs/--retries")
    _check_names(tasks, models, stages)
    states = {k: state.disk_state(task_folder(t), t.fingerprint) for k, t in tasks.items()}
    selected = select(tasks, states, models, folds, stages, datasets)
    stale = [k for k in selected if states[k] == TaskState.STALE]
    if stale and not force:
        raise RunError(stale_message(tasks, stale), file=spec_path)
    keys = to_execute(tasks, selected, states)
    race = racing.race_of(tasks)
    if race is not None:  # a variant the race stopped is not run again while it is unchanged
        pruned = racing.pruned_now(tasks, states, run_dir)
        states.update({k: TaskState.PRUNED for k in pruned})
        keys = [k for k in keys if k not in pruned]
    if backend == "local":
        gpus = tuple(gpus) if gpus is not None else detect_gpus()
        check_resources((tasks[k] for k in keys), jobs, gpus)
    chosen = set(keys)
    done = sum(1 for k in selected if k not in chosen and states[k] != TaskState.PRUNED)
    result = RunResult(to_run=keys, already_done=done, run_dir=run_dir)
    ctx = RunContext(
        spec_path=spec_path,
        run_dir=run_dir,
        run_id=_run_id(run_dir),
        jobs=jobs,
        gpus=tuple(gpus or ()),
        retries=retries,
        dry_run=dry_run,
        wait=wait,
    )
    if dry_run and keys and backend != "local":
        # a scheduler backend writes its job scripts and prints the submit commands (SLURM)
        get_backend(backend).execute([tasks[k] for k in keys], ctx)
    if dry_run or not keys:
        result.counts = _counts(selected, states, {})
        return result
    started, worker_from = time.time(), _size(layout.state_dir / "worker.log")
    with stopping_on_signals(), lock.held(layout.lock_file):
        record_backend(layout, backend)
        for key in stale:  # the audit trail says which done results --force replaces
            audit.append(layout.audit_log, key, "forced", "rerun of a stale task (--force)")
        listener = listener_factory(tasks, keys) if listener_factory else None
        options = {"listener": listener} if listener else {}
        engine = get_backend(backend, **options)
        with _showing(listener):
            if race is not None:
                outcome = racing.execute(engine, tasks, keys, ctx, race)
            else:
                outcome = engine.execute([tasks[k] for k in keys], ctx)
    result.messages.extend(outcome.messages)
    # tasks the race stopped during this run were never run
    result.to_run = [k for k in keys if outcome.states.get(k) != TaskState.PRUNED]
    _finish(result, tasks, selected, states, outcome.states, layout, started, worker_from)
    return result


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
    spec_path: Path,
    models: Sequence[str],
    folds: Sequence[int],
    stages: Sequence[str],
    datasets: Sequence[str] = (),
) -> None:
    """--models/--stages/--folds/--datasets checked against the spec before anything is
    written (planning makes the split); variant names are checked once the plan exists."""
    from foldrun.core.task import STAGES
    from foldrun.spec import load_spec

    spec = load_spec(spec_path)
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
    after: dict[str, TaskState],
    layout: RunLayout,
    started: float | None = None,
    worker_from: int = 0,
) -> None:
    result.counts = _counts(selected, states, after)
    upstream_failed = {m.split(": ")[0] for m in result.messages}
    for key in result.to_run:
        if after.get(key) == TaskState.FAILED:
            if key in upstream_failed:
                blocked = Failure(key, None, [], "not run: an upstream task failed", True)
                result.failures.append(blocked)
            else:
                result.failures.append(failure(tasks[key], layout, "", started, worker_from))
    if result.failures:
        result.exit_code = int(ExitCode.TASKS_FAILED)
