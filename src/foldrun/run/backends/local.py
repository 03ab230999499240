"""The local backend: N CPU slots, GPUs handed out one task at a time, a process per task.

Each task runs in its own process (the worker's `execute_task`, as `python -m
foldrun.run.worker` would), so a crash or a kill of a task never takes the runner down.
The processes are forked from a multiprocessing *forkserver* that imported the worker and,
when the plan has in-process tasks, pandas, scikit-learn and the plan's estimator modules
once: starting a task costs a fork (milliseconds), not a fresh interpreter importing
scikit-learn (seconds). A task starts as soon as its dependencies are done and its cpus
(and GPUs) are free; the dependents of a task that failed (after its retries) are marked
failed without running.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess

from foldrun.plan.task import PlannedTask, TaskState
from foldrun.run import audit
from foldrun.run.backends.base import Backend, BackendResult, RunContext
from foldrun.run.gpus import GpuPool
from foldrun.run.worker import child_main

# progress callback: (event, key) with event in "started", "done", "failed", "retry"
Listener = Callable[[str, str], None]


@dataclass
class _Running:
    task: PlannedTask
    proc: BaseProcess
    gpus: tuple[int, ...]
    cpus: int


@dataclass
class _Schedule:
    """Which tasks wait on which; the order tasks become ready in is the plan's order."""

    tasks: dict[str, PlannedTask]
    waiting_on: dict[str, set[str]] = field(default_factory=dict)
    dependents: dict[str, list[str]] = field(default_factory=dict)
    ready: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for key, task in self.tasks.items():
            deps = {d for d in task.deps if d in self.tasks}  # others are done already
            self.waiting_on[key] = deps
            for dep in deps:
                self.dependents.setdefault(dep, []).append(key)
            if not deps:
                self.ready.append(key)

    def finished(self, key: str) -> None:
        for child in self.dependents.get(key, ()):
            self.waiting_on[child].discard(key)
            if not self.waiting_on[child]:
                self.ready.append(child)

    def downstream(self, key: str) -> list[str]:
        """Every task that (transitively) waits on `key`."""
        found: list[str] = []
        stack = list(self.dependents.get(key, ()))
        while stack:
            child = stack.pop()
            if child not in found:
                found.append(child)
                stack.extend(self.dependents.get(child, ()))
        return found


LIGHT_PRELOAD = ["foldrun.run.worker", "foldrun.run.adapters.command"]
HEAVY_PRELOAD = [
    "numpy",
    "pandas",
    "pyarrow.parquet",
    "joblib",
    "sklearn.pipeline",
    "sklearn.metrics",
    "scipy.stats",
    "foldrun.run.adapters.common",
    "foldrun.run.adapters.estimator",
    "foldrun.run.adapters.entry",
    "foldrun.run.adapters.evaluate",
    "foldrun.results.metrics",
]


def preload_modules(tasks: Sequence[PlannedTask]) -> list[str]:
    """What the forkserver imports once: heavy libraries only when some task needs them."""
    modules = list(LIGHT_PRELOAD)
    in_process = [t for t in tasks if t.stage == "evaluate" or t.meta.get("kind") != "command"]
    if in_process:
        modules += HEAVY_PRELOAD
    for task in in_process:
        for ref in [task.meta.get("estimator"), *list(task.meta.get("preprocess") or [])]:  # type: ignore[call-overload]
            if isinstance(ref, str) and ":" in ref and ref.split(":")[0] not in modules:
                modules.append(ref.split(":")[0])
    return modules


def process_context(tasks: Sequence[PlannedTask]) -> multiprocessing.context.BaseContext:
    """A forkserver context (a fork from a clean, preloaded process; never from the runner,
    whose threads make a plain fork unsafe)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(preload_modules(tasks))
    return ctx


class LocalBackend(Backend):
    name = "local"

    def __init__(self, listener: Listener | None = None, **options: object) -> None:
        self.listener = listener
        self.options = options

    def _notify(self, event: str, key: str) -> None:
        if self.listener is not None:
            self.listener(event, key)

    def execute(self, tasks: Sequence[PlannedTask], ctx: RunContext) -> BackendResult:
        schedule = _Schedule({t.key: t for t in tasks})
        result = BackendResult()
        if ctx.dry_run:
            result.states = {t.key: TaskState.PENDING for t in tasks}
            return result
        self.mp = process_context(tasks)
        self._loop(schedule, ctx, result)
        return result

    def _loop(self, schedule: _Schedule, ctx: RunContext, result: BackendResult) -> None:
        free_cpus, pool = max(ctx.jobs, 1), GpuPool(ctx.gpus)
        running: dict[int, _Running] = {}  # process sentinel -> job
        attempts: dict[str, int] = {}
        while schedule.ready or running:
            free_cpus = self._start_ready(schedule, ctx, running, pool, free_cpus)
            if not running:
                break  # nothing can start: only if resources never fit (checked when planning)
            for sentinel in wait(list(running)):
                job = running.pop(sentinel)  # type: ignore[arg-type]
                job.proc.join()
                free_cpus += job.cpus
                pool.give_back(job.gpus)
                self._finished(job, schedule, ctx, result, attempts)

    def _start_ready(
        self,
        schedule: _Schedule,
        ctx: RunContext,
        running: dict[int, _Running],
        pool: GpuPool,
        free_cpus: int,
    ) -> int:
        """Start every ready task whose cpus and GPUs are free, in plan order."""
        index = 0
        while index < len(schedule.ready) and free_cpus > 0:
            task = schedule.tasks[schedule.ready[index]]
            cpus = min(task.resources.cpus, max(ctx.jobs, 1))
            gpus = pool.take(task.resources.gpus) if cpus <= free_cpus else None
            if gpus is None:
                index += 1
                continue
            schedule.ready.pop(index)
            proc = self.mp.Process(
                target=child_main,
                args=(
                    str(ctx.spec_path),
                    task.key,
                    ctx.options.get("plan_file"),
                    gpus,
                    str(ctx.run_dir / ".foldrun" / "worker.log"),
                ),
                name=f"foldrun {task.key}",
            )
            proc.start()
            running[proc.sentinel] = _Running(task, proc, gpus, cpus)
            free_cpus -= cpus
            self._notify("started", task.key)
        return free_cpus

    def _finished(
        self,
        job: _Running,
        schedule: _Schedule,
        ctx: RunContext,
        result: BackendResult,
        attempts: dict[str, int],
    ) -> None:
        key = job.task.key
        if job.proc.exitcode == 0:
            result.states[key] = TaskState.DONE
            schedule.finished(key)
            self._notify("done", key)
            return
        attempts[key] = attempts.get(key, 0) + 1
        if attempts[key] <= ctx.retries:
            audit.append(
                ctx.run_dir / "audit.log",
                key,
                "requeued",
                f"retry {attempts[key]} of {ctx.retries}",
            )
            schedule.ready.insert(0, key)
            self._notify("retry", key)
            return
        result.states[key] = TaskState.FAILED
        self._notify("failed", key)
        for child in schedule.downstream(key):
            if child not in result.states:
                result.states[child] = TaskState.FAILED
                result.messages.append(f"{child}: not run, upstream {key} failed")
                self._notify("failed", child)
