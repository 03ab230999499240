"""The local backend: N CPU slots, GPUs handed out one task at a time, a process per task.

Each task runs in its own process (the worker's `execute_task`, as `python -m
foldrun.run.worker` would), so a crash or a kill of a task never takes the runner down.
The processes are forked from a small fork server (`zygote.py` beside this file) that
imported the worker and, when the plan has in-process tasks, pandas, scikit-learn and the
plan's estimator modules once: starting a task costs a fork (milliseconds), not a fresh
interpreter importing scikit-learn (seconds). A task starts as soon as its dependencies
are done and its cpus (and GPUs) are free; the dependents of a task that failed (after
its retries) are marked failed without running.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pickle
import select
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from foldrun.core import audit, state
from foldrun.core.task import PlannedTask, Resources
from foldrun.errors import PlanError
from foldrun.layout import RunLayout, TaskFiles
from foldrun.run.backends.base import Backend, BackendResult, Outcome, RunContext, Steering
from foldrun.run.backends.local.cancel import POLL_S, Cancelling, tidy
from foldrun.run.gpus import GpuPool, detect_gpus
from foldrun.run.worker import builtin_evaluate, exit_text, task_folder, task_lock

# progress callback: (event, key) with event in "started", "done", "failed", "retry",
# "cancelled"
Listener = Callable[[str, str], None]


@dataclass
class _Running:
    task: PlannedTask
    ident: str
    gpus: tuple[int, ...]
    cpus: int


@dataclass
class _Schedule:
    """Which tasks wait on which; the order tasks become ready in is the plan's order."""

    tasks: dict[str, PlannedTask]
    waiting_on: dict[str, set[str]] = field(default_factory=dict)
    dependents: dict[str, list[str]] = field(default_factory=dict)
    ready: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)  # the plan's order

    def __post_init__(self) -> None:
        for key, task in self.tasks.items():
            self.index[key] = len(self.index)
            deps = {d for d in task.deps if d in self.tasks}  # others are done already
            self.waiting_on[key] = deps
            for dep in deps:
                self.dependents.setdefault(dep, []).append(key)
            if not deps:
                self.ready.append(key)

    def finished(self, key: str) -> None:
        for child in self.dependents.get(key, ()):
            self.waiting_on[child].discard(key)
            if not self.waiting_on[child] and builtin_evaluate(self.tasks[child]):
                # foldrun's scoring of a fold starts first, in the slot its predict just
                # left, which holds the predictions it read back (issue 26)
                self.ready.insert(0, child)
            elif not self.waiting_on[child]:
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


# what every task imports: preloaded, so no child pays for it
LIGHT_PRELOAD = [
    "foldrun.run.worker",
    "foldrun.run.adapters.command",
    "foldrun.core.templates",
    "foldrun.errors",
    "base64",
    "shlex",
]
# what reading and scoring predictions imports (foldrun's evaluate, a command's predictions)
SCORING_PRELOAD = [
    "numpy",
    "pandas",
    "pyarrow.parquet",
    "foldrun.run.adapters.common",
    "foldrun.run.adapters.evaluate",
    "foldrun.results.metrics",
]
# what scoring imports where a metric is scikit-learn's (probabilities, scores, regression,
# multilabel); ~1.6 s of CPU (scipy.stats with it), which labels alone never need
SKLEARN_SCORING = "sklearn.metrics"
# and what the user's in-process code runs with (estimators, entry points); scipy.stats is
# regression's metrics too
HEAVY_PRELOAD = [
    *SCORING_PRELOAD,
    SKLEARN_SCORING,
    "joblib",
    "sklearn.pipeline",
    "scipy.stats",
    "foldrun.run.adapters.estimator",
    "foldrun.run.adapters.entry",
]
KNOWN_PRELOAD = frozenset([*LIGHT_PRELOAD, *HEAVY_PRELOAD, "foldrun.spec.outputs"])


def runs_in_process(task: PlannedTask) -> bool:
    """Estimator, entry and evaluate tasks run the user's code (or foldrun's) in the worker;
    command tasks run a `bash` child."""
    return task.stage == "evaluate" or task.recipe.kind != "command"


def runs_in_slot(task: PlannedTask) -> bool:
    """Command tasks and foldrun's own evaluate run in a reused slot process (zygote.py):
    neither runs the user's model code in the worker (an evaluate scores predictions with
    foldrun's metrics and the spec's scorers), and a fork of the ~195 MB server per
    evaluate cost more than the scoring (issue 26)."""
    return not runs_in_process(task) or builtin_evaluate(task)


def reads_predictions(task: PlannedTask) -> bool:
    """A command step whose predictions foldrun converts, checks or scores in its slot
    (pandas, pyarrow, the metrics): imported once by the server, not once per slot (each
    slot of a train-only run with a target paid ~1 s of CPU for them; issue 26)."""
    return task.stage in ("predict", "refit") or bool(task.recipe.scores)


def scores_with_sklearn(task: PlannedTask, tasks: dict[str, PlannedTask]) -> bool:
    """Whether scoring this task's predictions may call scikit-learn (results/metrics): all
    but a label-free task and a classification whose declared predictions are labels
    alone (`pred`: numpy's accuracy, F1 and per-class metrics), with no scorers of the
    user's. An evaluate scores its upstream's file: that task's declaration (in `tasks`,
    the run's, by key) counts; without one in this run, scikit-learn may be needed."""
    if task.stage != "evaluate" and not reads_predictions(task):
        return False  # it scores nothing (a train before a predict)
    declared = task.recipe.predictions
    if task.stage == "evaluate":
        # the model's declaration, which each of its steps' recipes carries
        declared = next((tasks[k].recipe.predictions for k in task.deps if k in tasks), None)
    labels_only = declared is not None and not ({"score", "proba"} & set(declared))
    if task.recipe.problem in ("regression", "multilabel") or task.recipe.scorers:
        return True
    return task.recipe.problem == "classification" and not labels_only


def preload_modules(tasks: Sequence[PlannedTask]) -> list[str]:
    """What the forkserver imports once: heavy libraries only when some task needs them."""
    modules = list(LIGHT_PRELOAD)
    in_process = [t for t in tasks if runs_in_process(t)]
    if any(not builtin_evaluate(t) for t in in_process):
        modules += HEAVY_PRELOAD
    elif in_process or any(reads_predictions(t) for t in tasks):
        modules += SCORING_PRELOAD  # not the user-code half: ~1 s of CPU a run (issue 26)
        by_key = {t.key: t for t in tasks}
        if any(scores_with_sklearn(t, by_key) for t in tasks):
            modules.append(SKLEARN_SCORING)
        if any(t.recipe.problem == "regression" for t in tasks):
            modules.append("scipy.stats")
    if any(t.recipe.predictions is not None for t in tasks):
        modules.append("foldrun.spec.outputs")  # pydantic: a declared predictions table
    for task in in_process:
        refs = [task.recipe.estimator, *task.recipe.preprocess]
        for ref in refs:
            if isinstance(ref, str) and ":" in ref and ref.split(":")[0] not in modules:
                modules.append(ref.split(":")[0])
    return modules


class Zygote:
    """The runner's end of the fork server (`zygote.py`): start a task, wait for the next
    exit.

    The protocol runs on two pipes of its own, never the server's stdout: user code
    imported there may print."""

    def __init__(self, log_path: str, modules: Sequence[str]) -> None:
        # a plan's module that ends the server as it imports (os._exit): start again
        # without the user's modules; the task that imports it reports what happens
        ours = [m for m in modules if m in KNOWN_PRELOAD]
        if not self._start(log_path, modules) and not self._start(log_path, ours):
            raise RuntimeError("the local task server (backends/local/zygote.py) did not start")

    def _start(self, log_path: str, modules: Sequence[str]) -> bool:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        # -P: not the current folder first on the path (as -m puts it), where a random.py
        # replaced the standard library's for the server and every task
        server = [sys.executable, "-P", "-m", "foldrun.run.backends.local.zygote", log_path]
        try:
            self.proc = subprocess.Popen(
                [*server, str(req_r), str(rep_w), *modules],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                pass_fds=(req_r, rep_w),
            )
        finally:
            os.close(req_r)
            os.close(rep_w)
        # the replies unbuffered: `wait` selects on the pipe, which a buffer would hide
        self.stdin, self.stdout = os.fdopen(req_w, "wb"), os.fdopen(rep_r, "rb", buffering=0)
        try:
            if self.stdout.readline().strip() == b"ready":
                return True
        except BaseException:  # interrupted while it starts: it must not outlive us
            self._kill()
            raise
        self._kill()
        return False

    def _kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for pipe in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):
                pipe.close()

    def start(self, ident: str, task: PlannedTask, argv: Sequence[str], gpus: str) -> None:
        blob = base64.b64encode(pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL)).decode()
        reuse = runs_in_slot(task)  # a command task or foldrun's evaluate: a reused process
        found = {"argv": list(argv), "task": blob, "gpus": gpus, "reuse": reuse, "key": task.key}
        if builtin_evaluate(task) and task.deps:  # in the slot that holds what it scores
            found["after"] = task.deps[0]
        request = json.dumps(found)
        self.stdin.write(f"{ident} {request}\n".encode())
        self.stdin.flush()

    def wait(self, timeout: float) -> bool:
        """Whether a reply is there within `timeout` seconds."""
        return bool(select.select([self.stdout], [], [], timeout)[0])

    def next_exit(self) -> tuple[str, int, int] | None:
        """(task id, exit code, worker pid) of the next task process that ends; None if the
        server died."""
        return _exit_line(self.stdout.readline())

    def stop(self) -> dict[str, tuple[int, int]]:
        """Stop every running task (SIGTERM to its process group, SIGKILL after a grace
        time) and the server; {task id: (exit code, pid)} of the tasks that ended."""
        with contextlib.suppress(OSError, ValueError):
            self.stdin.write(b"\nstop\n")  # ends a request line cut short by the signal
            self.stdin.flush()
        try:
            # imported here: `python -m ...local.zygote` imports this package first, and
            # runpy warns when the package already imported the module it runs
            from foldrun.run.backends.local.zygote import STOP_GRACE_S

            self.proc.wait(timeout=STOP_GRACE_S + 10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        ended = {}
        with contextlib.suppress(OSError, ValueError):
            for line in self.stdout:  # the server is gone: this ends at EOF
                if (found := _exit_line(line)) is not None:
                    ended[found[0]] = found[1:]
        return ended

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.stdin.close()
        self.proc.wait()
        self.stdout.close()


def _exit_line(data: bytes) -> tuple[str, int, int] | None:
    """`exit <id> <code> <pid>` -> (id, code, pid); None for anything else (EOF)."""
    line = data.split()
    if len(line) != 4 or line[0] != b"exit":
        return None
    return line[1].decode(), int(line[2]), int(line[3])


def record_lost_failure(task: PlannedTask, code: int, pid: int, ctx: RunContext) -> None:
    """A task process that ended without committing or keeping its failure (os._exit() in
    user code; a crash or a kill: a scorer's segfault ends the reused slot it ran in) left
    its attempt: keep it as `<stage>.failed` with the reason in its log, and say so in the
    audit log, as the worker would have. Only an attempt marked with that dead pid."""
    final = task_folder(task)
    if state.attempt_pid(final) != pid:
        return  # the worker recorded its own outcome
    reason = _lost_reason(code)
    with task_lock(final):
        if state.attempt_pid(final) != pid or state.pid_alive(pid):
            return
        if state.read_fingerprint(final) is not None:
            state.recover(final)  # it committed: DONE is whole, only the mark was left
            return
        with open(final / TaskFiles.LOG, "a") as log:
            log.write(f"\nfoldrun: {reason}\n")
        previous = state.prev_dir(final, pid)
        state.fail(final, previous if previous.is_dir() else None)
    audit.append(RunLayout(ctx.run_dir).audit_log, task.key, "failed", reason)


def _lost_reason(code: int) -> str:
    """`killed by SIGSEGV (...)` for a signal (negative code), else the exit code."""
    if code < 0:
        return (f"{exit_text(code)} (the task's process died before foldrun could record the "
                "result: a crash in native code, or killed from outside)")  # fmt: skip
    return (f"the task process exited with code {code} before foldrun could record the result "
            "(os._exit() in the task?)")  # fmt: skip


def worker_argv(ctx: RunContext, key: str, gpus: Sequence[int]) -> list[str]:
    """The arguments of `python -m foldrun.run.worker` for one task."""
    return ["--spec", str(ctx.spec_path), "--task", key, "--gpus", ",".join(map(str, gpus))]


def fitted(resources: Resources, jobs: int, gpus: Sequence[int]) -> Resources:
    """What a task gets here: resources are requests. More cpus than --jobs: all of them
    (the task runs alone); a GPU-optional task: the GPUs there are, up to its request."""
    cpus = min(resources.cpus, max(jobs, 1))
    wanted = min(resources.gpus, len(gpus)) if resources.gpus_optional else resources.gpus
    return replace(resources, cpus=cpus, gpus=wanted)


def check_resources(tasks: Iterable[PlannedTask], jobs: int, gpus: Sequence[int]) -> None:
    """A task that can never fit is an error now, not a hang later."""
    for task in tasks:
        if fitted(task.resources, jobs, gpus).gpus > len(gpus):
            raise PlanError(
                f"task {task.key} needs {task.resources.gpus} GPU(s) but {len(gpus)} are "
                "available; pass --gpus 0,1,..., lower its resources.gpus, or set "
                "resources.gpus_optional = true to run it on CPU where there is no GPU",
                key=f"models.{task.model}.resources.gpus",
            )


def _grant_line(tasks: Sequence[PlannedTask], jobs: int, gpus: Sequence[int]) -> str:
    """`m/train: 5 task(s) get cpus=2 (asked 4: each runs alone) gpus=none (...)`."""
    first = tasks[0]
    asked, got = first.resources, fitted(first.resources, jobs, gpus)
    cpus = f"cpus={got.cpus}"
    if got.cpus < asked.cpus:
        cpus += f" (asked {asked.cpus}: each runs alone)"
    shown = f"gpus={got.gpus or 'none'}"
    if got.gpus < asked.gpus:
        shown += f" (asked {asked.gpus}, gpus_optional: {'on CPU' if not got.gpus else 'fewer'})"
    return f"{first.model}/{first.stage}: {len(tasks)} task(s) get {cpus} {shown}"


class LocalBackend(Backend):
    name = "local"
    steers = True

    def __init__(self, listener: Listener | None = None, **options: object) -> None:
        self.listener = listener
        self.options = options
        self.counter = 0

    def _notify(self, event: str, key: str) -> None:
        if self.listener is not None:
            self.listener(event, key)

    @classmethod
    def prepare(
        cls, tasks: Sequence[PlannedTask], ctx: RunContext, gpus: Sequence[int] | None
    ) -> RunContext:
        """This machine's GPUs unless given (CUDA_VISIBLE_DEVICES, nvidia-smi), and every
        task fits in --jobs cpus and those GPUs."""
        found = tuple(gpus) if gpus is not None else detect_gpus()
        check_resources(tasks, ctx.jobs, found)
        return replace(ctx, gpus=found)

    def dry_run(self, tasks: Sequence[PlannedTask], ctx: RunContext) -> None:
        """One line per model, stage and request beyond one CPU: the cpus and GPUs its tasks
        get here. On stderr, since a dry run's stdout is its task keys, a line each; tasks
        asking for one CPU and no GPU (the default) get no line: there is nothing to tell."""
        groups: dict[tuple[str, str, Resources], list[PlannedTask]] = {}
        for task in tasks:
            if task.resources.cpus > 1 or task.resources.gpus > 0:
                groups.setdefault((task.model, task.stage, task.resources), []).append(task)
        for same in groups.values():
            print(_grant_line(same, ctx.jobs, ctx.gpus), file=sys.stderr)

    def execute(self, tasks: Sequence[PlannedTask], ctx: RunContext) -> BackendResult:
        return self._execute(tasks, ctx, None)

    def execute_steered(
        self, tasks: Sequence[PlannedTask], ctx: RunContext, steering: Steering
    ) -> BackendResult:
        """`execute` with the ready tasks started in `steering`'s order; what it cancels as
        tasks end is dropped (not started) or stopped (running: see cancel.py)."""
        return self._execute(tasks, ctx, steering)

    def _execute(
        self, tasks: Sequence[PlannedTask], ctx: RunContext, steering: Steering | None
    ) -> BackendResult:
        schedule = _Schedule({t.key: t for t in tasks})
        result = BackendResult()
        if ctx.dry_run:
            result.outcomes = {t.key: Outcome.QUEUED for t in tasks}
            return result
        log_path = RunLayout(ctx.run_dir).worker_log
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.running: dict[str, _Running] = {}  # task id -> job
        self.zygote = Zygote(str(log_path), preload_modules(tasks))
        self.steering, self.ranks = steering, {}
        self.cancels = Cancelling(self.zygote.proc.pid)
        try:
            self._loop(schedule, ctx, result)
        except BaseException as err:  # SIGINT/SIGTERM of the runner, or a bug of ours
            stopped = self._stop(ctx)
            if hasattr(err, "stopped"):
                err.stopped = stopped
            raise
        finally:
            self.zygote.close()
        return result

    def _stop(self, ctx: RunContext) -> int:
        """Stop the running tasks and leave their state true: a task that committed is
        done; any other one has its attempt removed (an earlier folder put back), so it is
        pending (not running).
        Returns how many tasks were stopped."""
        ended = self.zygote.stop()
        stopped = 0
        for ident, job in self.running.items():
            if ended.get(ident, (None,))[0] == 0:
                continue  # it committed before the stop reached it
            stopped += 1
            state.recover(task_folder(job.task))  # its attempt never counts
            audit.append(
                RunLayout(ctx.run_dir).audit_log, job.task.key, "interrupted", "run stopped"
            )
        self.running.clear()
        return stopped

    def _loop(self, schedule: _Schedule, ctx: RunContext, result: BackendResult) -> None:
        free_cpus, pool = max(ctx.jobs, 1), GpuPool(ctx.gpus)
        running = self.running
        attempts: dict[str, int] = {}
        while schedule.ready or running:
            free_cpus = self._start_ready(schedule, ctx, running, pool, free_cpus)
            if not running:
                break  # nothing can start: only if resources never fit (checked when planning)
            if self.cancels.pending and not self.zygote.wait(POLL_S):
                self._signal_cancels()  # a cancelled task had not begun: look again
                continue
            ended = self.zygote.next_exit()
            if ended is None:  # the task server died: what ran is decided by the folders
                result.messages.append("the local task server stopped unexpectedly")
                for job in running.values():
                    result.outcomes[job.task.key] = Outcome.FAILED
                return
            job = running.pop(ended[0])
            free_cpus += job.cpus
            pool.give_back(job.gpus)
            if self.cancels.ended(job.ident) and ended[1] != 0:  # (0: it committed first)
                self._undo_cancelled(job, schedule, ctx, result)
                continue
            if ended[1] != 0:  # the runner's own stop is _stop's: a kill here is a failure
                record_lost_failure(job.task, ended[1], ended[2], ctx)
            self._finished(job, ended[1], schedule, ctx, result, attempts)

    def _start_ready(
        self,
        schedule: _Schedule,
        ctx: RunContext,
        running: dict[str, _Running],
        pool: GpuPool,
        free_cpus: int,
    ) -> int:
        """Start every ready task whose cpus and GPUs are free, in plan order (steered: in
        the steering's)."""
        index, startable = 0, self._rank_ready(schedule, idle=not running)
        while index < min(startable, len(schedule.ready)) and free_cpus > 0:
            task = schedule.tasks[schedule.ready[index]]
            got = fitted(task.resources, ctx.jobs, ctx.gpus)
            cpus = got.cpus
            gpus = pool.take(got.gpus) if cpus <= free_cpus else None
            if gpus is None:
                index += 1
                continue
            schedule.ready.pop(index)
            startable -= 1
            task = replace(task, resources=got)  # FOLDRUN_CPUS/_GPUS: what it got
            self.counter += 1
            ident = str(self.counter)
            argv = worker_argv(ctx, task.key, gpus)
            self.zygote.start(ident, task, argv, ",".join(map(str, gpus)))
            running[ident] = _Running(task, ident, gpus, cpus)
            free_cpus -= cpus
            self._notify("started", task.key)
        return free_cpus

    def _finished(
        self,
        job: _Running,
        code: int,
        schedule: _Schedule,
        ctx: RunContext,
        result: BackendResult,
        attempts: dict[str, int],
    ) -> None:
        key = job.task.key
        if code == 0:
            result.outcomes[key] = Outcome.DONE
            schedule.finished(key)
            self._notify("done", key)
            self._steer(key, Outcome.DONE, schedule, ctx, result)
            return
        attempts[key] = attempts.get(key, 0) + 1
        if attempts[key] <= ctx.retries:
            audit.append(
                RunLayout(ctx.run_dir).audit_log,
                key,
                "requeued",
                f"retry {attempts[key]} of {ctx.retries}",
            )
            schedule.ready.insert(0, key)
            self._notify("retry", key)
            return
        result.outcomes[key] = Outcome.FAILED
        self._notify("failed", key)
        blocked = [child for child in schedule.downstream(key) if child not in result.outcomes]
        for child in blocked:
            result.blocked(child, key)
            self._notify("failed", child)
        for ended in (key, *blocked):
            self._steer(ended, result.outcomes[ended], schedule, ctx, result)

    # ------------------------------------------------------------ steered runs

    def _rank_ready(self, schedule: _Schedule, idle: bool) -> int:
        """Steered: the ready tasks sorted by the steering's rank (ties in plan order),
        those it holds last; returns how many may start now. A hold never stalls a run:
        with nothing running, held tasks start too."""
        if self.steering is None:
            return len(schedule.ready)
        for key in schedule.ready:
            if self.ranks.get(key) is None:  # a held task is asked again each time
                self.ranks[key] = self.steering.rank(schedule.tasks[key])
        order = {k: (self.ranks[k] is None, self.ranks[k] or (), schedule.index[k])
                 for k in schedule.ready}  # fmt: skip
        schedule.ready.sort(key=order.__getitem__)
        held = sum(1 for k in schedule.ready if self.ranks[k] is None)
        return len(schedule.ready) - (0 if idle else held)

    def _steer(
        self, key: str, outcome: Outcome, schedule: _Schedule, ctx: RunContext,
        result: BackendResult,
    ) -> None:  # fmt: skip
        """Tell the steering a task ended; cancel what it says to."""
        if self.steering is None:
            return
        running = {job.task.key: ident for ident, job in self.running.items()}
        for cancelled in self.steering.ended(key, outcome):
            if cancelled in running:
                self.cancels.add(running[cancelled])
            elif cancelled in schedule.tasks and cancelled not in result.outcomes:
                self._drop(cancelled, schedule, ctx, result)
        self._signal_cancels()

    def _signal_cancels(self) -> None:
        self.cancels.signal({i: task_folder(self.running[i].task) for i in self.cancels.pending})

    def _drop(
        self, key: str, schedule: _Schedule, ctx: RunContext, result: BackendResult
    ) -> None:
        """`key` and the tasks waiting on it end cancelled (none of them runs)."""
        for dropped in (key, *schedule.downstream(key)):
            if dropped in result.outcomes:
                continue
            result.outcomes[dropped] = Outcome.CANCELLED
            with contextlib.suppress(ValueError):
                schedule.ready.remove(dropped)
            self._notify("cancelled", dropped)
            self._steer(dropped, Outcome.CANCELLED, schedule, ctx, result)

    def _undo_cancelled(
        self, job: _Running, schedule: _Schedule, ctx: RunContext, result: BackendResult
    ) -> None:
        """A cancelled task stopped while it ran: its attempt is undone (an earlier folder
        put back) and leaves nothing; it is neither done nor failed."""
        final = task_folder(job.task)
        with task_lock(final):
            state.recover(final)
        tidy(final)
        audit.append(RunLayout(ctx.run_dir).audit_log, job.task.key, "cancelled",
                     "stopped while it ran: the run no longer needs it")  # fmt: skip
        self._drop(job.task.key, schedule, ctx, result)
