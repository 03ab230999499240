"""The SLURM backend: one `sbatch --array` per (stage, resource class), chained by dependencies.

Every job of a run is named `foldrun-<run id>-<stage>`, where the run id is a short stable
id of the run folder, so one `squeue --name` call finds all of them. The job ids and the
array files (one task key per line) are kept in `.foldrun/slurm_jobs.json`; completion is
still decided by the task folders (DONE + fingerprint), the scheduler only says what is
pending, running, or failed with which reason.
"""

from __future__ import annotations

import hashlib
import pickle
import re
import shlex
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from foldrun.core import audit, state
from foldrun.core.files import write_atomic
from foldrun.core.task import STAGES, PlannedTask, TaskState
from foldrun.errors import SchedulerError
from foldrun.layout import RunLayout
from foldrun.run.backends.base import Backend, BackendResult, Outcome, RunContext
from foldrun.run.backends.slurm.arrays import ArrayGroup, group_tasks
from foldrun.run.backends.slurm.cmd import scheduler_call
from foldrun.run.backends.slurm.jobs import (
    SchedulerTaskState,
    Submission,
    load_jobs,
    save_jobs,
    task_states,
)
from foldrun.run.backends.slurm.parse import (
    SACCT_FIELDS,
    SQUEUE_FORMAT,
    parse_sacct,
    parse_sbatch,
    parse_squeue,
)
from foldrun.run.backends.slurm.script import render_script, sbatch_directives
from foldrun.run.worker import task_folder
from foldrun.spec.load import load_slurm_spec
from foldrun.spec.slurm import SlurmSpec

EVENTS_FILE = "slurm_events.tsv"


def slurm_run_id(run_dir: Path) -> str:
    """A short id of the run folder, stable across runs: `<folder name>-<6 hex>`."""
    resolved = str(Path(run_dir).resolve())
    digest = hashlib.sha1(resolved.encode()).hexdigest()[:6]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(resolved).name)[:24] or "run"
    return f"{name}-{digest}"


def job_names(run_id: str) -> list[str]:
    return [f"foldrun-{run_id}-{stage}" for stage in STAGES]


# ---------------------------------------------------------------- the backend


class SlurmBackend(Backend):
    """Submit tasks as SLURM job arrays; ask the scheduler what is queued or failed."""

    name = "slurm"
    dry_run_writes = True  # job scripts and array files, to submit by hand

    def dry_run(self, tasks: Sequence[PlannedTask], ctx: RunContext) -> None:
        """Writes the job scripts and prints the sbatch commands that would submit them."""
        self.execute(tasks, ctx)

    def __init__(
        self,
        *,
        slurm: SlurmSpec | Mapping[str, object] | None = None,
        listener: Callable[[str, str], None] | None = None,
        **_: object,
    ):
        # listener: the live display, called with ("started" | "done" | "failed", key)
        self._listener = listener
        if isinstance(slurm, Mapping):
            slurm = SlurmSpec.model_validate(dict(slurm))
        self._spec = slurm

    def settings(self, ctx: RunContext) -> SlurmSpec:
        given = self._spec or ctx.options.get("slurm")
        if isinstance(given, SlurmSpec):
            return given
        if isinstance(given, Mapping):
            return SlurmSpec.model_validate(dict(given))
        return load_slurm_spec(ctx.spec_path)

    # ------------------------------------------------------------ submit

    def execute(self, tasks: Sequence[PlannedTask], ctx: RunContext) -> BackendResult:
        settings = self.settings(ctx)
        run_dir = Path(ctx.run_dir).resolve()
        run_id = slurm_run_id(run_dir)
        submissions = [] if ctx.dry_run else load_jobs(run_dir)
        live = {} if ctx.dry_run else self._live(run_id, submissions)
        todo, queued = _to_submit(tasks, live)
        groups = group_tasks(todo, queued)
        used = {s.array_file for s in submissions if _active(s, queued)}
        fingerprints = {t.key: t.fingerprint for t in tasks}
        result = BackendResult()
        result.messages += self._submit(groups, ctx, settings, submissions, used, fingerprints)
        if ctx.dry_run:
            print("\n".join(result.messages))
            result.outcomes = {t.key: Outcome.QUEUED for t in tasks}
            return result
        result.messages.append(
            f"submitted {len(todo)} task(s) as {len(groups)} SLURM array(s); "
            f"{len(tasks) - len(todo)} already queued; job name prefix foldrun-{run_id}"
        )
        if not ctx.wait:
            result.outcomes = {
                t.key: Outcome.of(live[t.key].state) if t.key in live else Outcome.QUEUED
                for t in tasks
            }
            return result
        try:
            self._wait(run_id, run_dir, settings, result, tasks)
        except KeyboardInterrupt:
            print(
                "foldrun: stopped following the jobs; they keep running on the cluster "
                f"('foldrun status {ctx.spec_path}', 'foldrun cancel {ctx.spec_path}')",
                file=sys.stderr,
            )
            raise
        _final_states(result, tasks, run_dir)
        return result

    def _submit(
        self,
        groups: list[ArrayGroup],
        ctx: RunContext,
        settings: SlurmSpec,
        submissions: list[Submission],
        used: set[str],
        fingerprints: Mapping[str, str],
    ) -> list[str]:
        """One sbatch per group, in order; with --dry-run the commands it would run."""
        run_dir = Path(ctx.run_dir).resolve()
        run_id = slurm_run_id(run_dir)
        job_ids = _placeholders(groups) if ctx.dry_run else {}
        printed = []
        for number, group in enumerate(groups):
            files = _write_files(group, run_dir, run_id, ctx, settings, used, fingerprints)
            command = ["sbatch", "--parsable"]
            dependency = group.dependency(job_ids)
            if dependency:
                command.append(f"--dependency={dependency}")
            command.append(str(files["script"]))
            if ctx.dry_run:
                # placeholders stay unquoted so the printed lines run as a shell script
                # (only our own --dependency text holds them; paths are always quoted)
                shown = " ".join(
                    a if a.startswith("--dependency=") else shlex.quote(a) for a in command
                )
                printed.append(f"JOB_{number}=$({shown})  # {_what_it_gets(group, files)}")
                continue
            job_ids[number] = parse_sbatch(scheduler_call(command))
            submissions.append(_submission(group, job_ids[number], files))
            save_jobs(run_dir, run_id, submissions)  # after each sbatch: never lose a job id
            _audit_submitted(run_dir, group, job_ids[number])
        return printed

    # ------------------------------------------------------------ follow

    def _wait(
        self,
        run_id: str,
        run_dir: Path,
        settings: SlurmSpec,
        result: BackendResult,
        tasks: Sequence[PlannedTask],
    ) -> None:
        """Poll squeue (one call per poll, backing off 0, 2, 4, 8 s) until nothing is left."""
        delay = 0.0
        shown: dict[str, str] = {}  # key -> last event given to the listener
        while True:
            time.sleep(delay)
            live = self._live(run_id, load_jobs(run_dir))
            never = {k: s for k, s in live.items() if s.state == TaskState.FAILED}
            if never:  # a parent failed: these would pend forever
                scheduler_call(["scancel", *sorted({s.job for s in never.values()})])
                for key in never:
                    audit.append(RunLayout(run_dir).audit_log, key, "cancelled", never[key].reason)
                    result.blocked(key)
            self._tell(tasks, live, shown)
            if not any(s.state != TaskState.FAILED for s in live.values()):
                return
            delay = min(max(2.0, delay * 2), settings.poll_max_s)

    def _tell(
        self,
        tasks: Sequence[PlannedTask],
        live: Mapping[str, SchedulerTaskState],
        shown: dict[str, str],
    ) -> None:
        """Give the live display what changed since the last poll."""
        if self._listener is None:
            return
        for task in tasks:
            found = live.get(task.key)
            if found is not None and found.state != TaskState.FAILED:
                event = "started" if found.state == TaskState.RUNNING else ""
            else:
                event = "done" if _final_state(task) == TaskState.DONE else "failed"
            if (
                event
                and shown.get(task.key) != event
                and shown.get(task.key) not in ("done", "failed")
            ):
                shown[task.key] = event
                self._listener(event, task.key)

    # ------------------------------------------------------------ status

    def _live(self, run_id: str, submissions: list[Submission]) -> dict[str, SchedulerTaskState]:
        """Tasks of this run queued or running (failed: pending on a failed parent)."""
        details = self._squeue(run_id, submissions)
        return {
            k: s
            for k, s in details.items()
            if s.state in _LIVE or s.reason.startswith("an upstream")
        }

    def _squeue(self, run_id: str, submissions: list[Submission]) -> dict[str, SchedulerTaskState]:
        if not submissions:
            return {}
        out = scheduler_call(
            [
                "squeue",
                "-h",
                "-t",
                "all",
                f"--name={','.join(job_names(run_id))}",
                "-o",
                SQUEUE_FORMAT,
            ]
        )
        return task_states(parse_squeue(out), submissions)

    def scheduler_details(self, ctx: RunContext) -> dict[str, SchedulerTaskState]:
        """Per task key: what squeue (one call), else sacct (one more call) says about it."""
        run_dir = Path(ctx.run_dir).resolve()
        submissions = load_jobs(run_dir)
        found = self._squeue(slurm_run_id(run_dir), submissions)
        latest = {key: s.job_id for s in submissions for key in s.keys}
        missing = {key for key in latest if key not in found and not _done_on_disk(run_dir, key)}
        if missing:
            jobs = sorted({latest[key] for key in missing}, key=int)
            found.update({k: v for k, v in _sacct(jobs, submissions).items() if k in missing})
        return _with_events(run_dir, found)

    def scheduler_states(self, ctx: RunContext) -> dict[str, TaskState]:
        """For `foldrun status`: the task folders still count when the scheduler is away."""
        try:
            details = self.scheduler_details(ctx)
        except SchedulerError as err:
            print(
                f"foldrun: warning: {err.one_line()}; showing the task folders only",
                file=sys.stderr,
            )
            return {}
        return {key: s.state for key, s in details.items()}

    # ------------------------------------------------------------ cancel

    def cancel(self, ctx: RunContext) -> int:
        """scancel every queued or running array element of this run; how many tasks."""
        run_dir = Path(ctx.run_dir).resolve()
        submissions = load_jobs(run_dir)
        live = self._live(slurm_run_id(run_dir), submissions)
        if not live:
            return 0
        scheduler_call(["scancel", *sorted({s.job for s in live.values()})])
        for key, found in live.items():
            audit.append(RunLayout(run_dir).audit_log, key, "cancelled", f"job {found.job}")
        return len(live)


_LIVE = frozenset({TaskState.PENDING, TaskState.RUNNING})


def _sacct(jobs: list[str], submissions: list[Submission]) -> dict[str, SchedulerTaskState]:
    """sacct by job id (no time window needed); this site's jobcomp-only sacct as fallback."""
    base = ["sacct", "-X", "-n", "-P", "-j", ",".join(jobs), "-o", SACCT_FIELDS]
    try:
        out = scheduler_call(base)
    except SchedulerError as err:
        if "accounting storage is disabled" not in str(err):
            raise
        try:  # no slurmdbd: the job completion log knows raw ids only; map what we can
            out = scheduler_call([*base[:1], "-c", *base[1:]])
        except SchedulerError:
            return {}
    return task_states(parse_sacct(out), submissions)


def _with_events(
    run_dir: Path, found: dict[str, SchedulerTaskState]
) -> dict[str, SchedulerTaskState]:
    """Reasons the array script recorded itself (out of requeues) beat SLURM's."""
    path = RunLayout(run_dir).state_dir / EVENTS_FILE
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return found
    for line in lines:
        fields = line.split("\t")
        if len(fields) >= 5 and fields[3] == "failed":
            key, job, reason = fields[1], fields[2], fields[4]
            current = found.get(key)
            replaces = current is None or (current.job == job and current.state == TaskState.FAILED)
            if replaces and not _done_on_disk(run_dir, key):
                found[key] = SchedulerTaskState(TaskState.FAILED, reason, job)
    return found


def _skipped_upstream(run_dir: Path, keys: Sequence[str]) -> list[str]:
    """Tasks whose job script found a parent not done (their last recorded event)."""
    wanted, last = set(keys), {}
    path = RunLayout(run_dir).state_dir / EVENTS_FILE
    if path.exists():
        for line in path.read_text().splitlines():
            fields = line.split("\t")
            if len(fields) >= 5 and fields[1] in wanted:
                last[fields[1]] = fields[4]
    return [key for key in keys if last.get(key, "").startswith("an upstream task failed")]


def _done_on_disk(run_dir: Path, key: str) -> bool:
    """core/state's answer (a whole DONE, outputs that read back whole), not DONE's mere
    presence: a corrupt folder is not done, so its scheduler state still counts."""
    return state.read_fingerprint(RunLayout(run_dir).tasks_dir / key) is not None


def _final_state(task: PlannedTask) -> TaskState:
    found = state.read_fingerprint(task_folder(task))
    return TaskState.DONE if found == task.fingerprint else TaskState.FAILED


def _final_states(result: BackendResult, tasks: Sequence[PlannedTask], run_dir: Path) -> None:
    """Each task's outcome from its folder once the jobs are over: done, failed, or blocked
    (never ran because an upstream task failed: cancelled while it waited, or its job
    script found a parent not done)."""
    cancelled = {k for k, found in result.outcomes.items() if found is Outcome.BLOCKED}
    result.outcomes = {
        t.key: Outcome.DONE if _final_state(t) == TaskState.DONE else Outcome.FAILED for t in tasks
    }
    not_done = [k for k, v in result.outcomes.items() if v is not Outcome.DONE]
    for key in _skipped_upstream(run_dir, not_done):
        result.blocked(key)
    result.outcomes.update({k: Outcome.BLOCKED for k in cancelled if k in not_done})


def _to_submit(
    tasks: Sequence[PlannedTask], live: Mapping[str, SchedulerTaskState]
) -> tuple[list[PlannedTask], dict[str, str]]:
    """The tasks to submit and the queued ones (key -> job) they may depend on. Elements
    whose parent failed would pend forever: they are cancelled and submitted again."""
    queued = {k: s.job for k, s in live.items() if s.state != TaskState.FAILED}
    stuck = [s.job for s in live.values() if s.state == TaskState.FAILED]
    todo = [t for t in tasks if t.key not in queued]
    if stuck and todo:
        scheduler_call(["scancel", *stuck])
    return todo, queued


def _active(submission: Submission, queued: Mapping[str, str]) -> bool:
    prefix = f"{submission.job_id}_"
    return any(job.startswith(prefix) for job in queued.values())


def _placeholders(groups: list[ArrayGroup]) -> dict[int, str]:
    return {number: f"${{JOB_{number}}}" for number in range(len(groups))}


def _free_stem(slurm_dir: Path, label: str, used: set[str]) -> Path:
    """`<stage>-<class>`, or `<stage>-<class>.N` while a queued job still reads that file."""
    stem, number = slurm_dir / label, 1
    while str(stem.with_name(stem.name + ".tasks")) in used:
        number += 1
        stem = slurm_dir / f"{label}.{number}"
    return stem


def _write_files(
    group: ArrayGroup,
    run_dir: Path,
    run_id: str,
    ctx: RunContext,
    settings: SlurmSpec,
    used: set[str],
    fingerprints: Mapping[str, str],
) -> dict[str, Any]:
    """The array file (one key per line) and the sbatch script of one group, and the
    script's sbatch options."""
    slurm_dir = RunLayout(run_dir).slurm_dir
    (slurm_dir / "logs").mkdir(parents=True, exist_ok=True)
    stem = _free_stem(slurm_dir, group.label, used)
    array_file = stem.with_name(stem.name + ".tasks")
    script = stem.with_name(stem.name + ".sbatch")
    write_atomic(array_file, "".join(f"{task.key}\n" for task in group.tasks))
    plan_file = None
    if not ctx.dry_run:
        # the tasks exactly as submitted, so workers need not re-plan; scripts written by
        # --dry-run re-plan from the spec, since users may edit it before submitting them
        plan_file = stem.with_name(stem.name + ".plan.pickle")
        write_atomic(plan_file, pickle.dumps({t.key: t for t in group.tasks}))
    deps_file = None
    if group.check_deps:  # line i: the parents of task i and their fingerprints
        deps_file = stem.with_name(stem.name + ".deps")
        write_atomic(deps_file, "".join(_deps_line(t, fingerprints) for t in group.tasks))
    res = group.resources
    options = {
        "job_name": f"foldrun-{run_id}-{group.stage}",
        "n_tasks": len(group.tasks),
        "log_stem": slurm_dir / "logs" / stem.name,
        "time_min": res.time_min,
        "mem_mb": res.mem_mb,
        "cpus": res.cpus,
        "gpus": res.gpus,
        "signal_before_s": _signal_before(settings.signal_before_s, res.time_min),
        **settings.for_stage(group.stage),
    }
    text = render_script(
        array_file=array_file,
        spec_path=Path(ctx.spec_path).resolve(),
        run_dir=run_dir,
        python=settings.python or sys.executable,
        max_requeues=settings.max_requeues,
        plan_file=plan_file,
        deps_file=deps_file,
        **options,
    )
    write_atomic(script, text)
    return {"script": script, "array_file": array_file, "directives": sbatch_directives(**options)}


# sbatch options the dry run leaves out of its summary: the same for every array
_HIDDEN = ("--job-name", "--output", "--error", "--signal", "--requeue", "--open-mode")


def _what_it_gets(group: ArrayGroup, files: Mapping[str, Any]) -> str:
    """`train: 5 task(s) --array=0-4%15 --time=01:00:00 ...`: the dry run's summary."""
    shown = [d for d in files["directives"] if d.partition("=")[0] not in _HIDDEN]
    return f"{group.stage}: {len(group.tasks)} task(s) " + " ".join(shown)


def _signal_before(seconds: int, time_min: int) -> int:
    """A warning longer than the job's limit would requeue it at once: halve the limit."""
    limit = time_min * 60
    return seconds if seconds < limit else max(1, limit // 2)


def _deps_line(task: PlannedTask, fingerprints: Mapping[str, str]) -> str:
    pairs = [f"{dep}\t{fingerprints[dep]}" for dep in task.deps if dep in fingerprints]
    return "\t".join(pairs) + "\n"


def _submission(group: ArrayGroup, job_id: str, files: Mapping[str, Any]) -> Submission:
    return Submission(
        job_id=job_id,
        stage=group.stage,
        keys=tuple(task.key for task in group.tasks),
        array_file=str(files["array_file"]),
        script=str(files["script"]),
        label=group.label,
    )


def _audit_submitted(run_dir: Path, group: ArrayGroup, job_id: str) -> None:
    log = RunLayout(run_dir).audit_log
    for index, task in enumerate(group.tasks):
        audit.append(log, task.key, "submitted", f"job {job_id}_{index}")
