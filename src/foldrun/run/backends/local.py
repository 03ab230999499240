"""The local backend: N CPU slots, GPUs handed out one task at a time, a subprocess per task.

Each task runs as `python -m foldrun.run.worker` so a crash or a kill of a task never
takes the runner down. A task starts as soon as its dependencies are done and its cpus
(and GPUs) are free; the dependents of a task that failed (after its retries) are marked
failed without running.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from foldrun.plan.task import PlannedTask, TaskState
from foldrun.run import audit
from foldrun.run.backends.base import Backend, BackendResult, RunContext
from foldrun.run.gpus import GpuPool

# progress callback: (event, key) with event in "started", "done", "failed", "retry"
Listener = Callable[[str, str], None]


@dataclass
class _Running:
    task: PlannedTask
    proc: subprocess.Popen[bytes]
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


def worker_argv(ctx: RunContext, key: str, gpus: Sequence[int]) -> list[str]:
    argv = [sys.executable, "-m", "foldrun.run.worker", "--spec", str(ctx.spec_path), "--task", key]
    plan_file = ctx.options.get("plan_file")
    if plan_file:
        argv += ["--plan", str(plan_file)]
    return [*argv, "--gpus", ",".join(map(str, gpus))]


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
        log_path = ctx.run_dir / ".foldrun" / "worker.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as worker_log:
            self._loop(schedule, ctx, result, worker_log.fileno())
        return result

    def _loop(self, schedule: _Schedule, ctx: RunContext, result: BackendResult, log: int) -> None:
        free_cpus, pool = max(ctx.jobs, 1), GpuPool(ctx.gpus)
        running: dict[int, _Running] = {}
        attempts: dict[str, int] = {}
        while schedule.ready or running:
            free_cpus = self._start_ready(schedule, ctx, running, pool, free_cpus, log)
            if not running:
                break  # nothing can start: only happens if resources never fit
            pid, status = os.wait()
            job = running.pop(pid, None)
            if job is None:
                continue  # a child that is not ours (should not happen)
            job.proc.returncode = os.waitstatus_to_exitcode(status)
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
        log: int,
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
            proc = subprocess.Popen(
                worker_argv(ctx, task.key, gpus),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env={**os.environ, "CUDA_VISIBLE_DEVICES": ",".join(map(str, gpus))},
            )
            running[proc.pid] = _Running(task, proc, gpus, cpus)
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
        if job.proc.returncode == 0:
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
