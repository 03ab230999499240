"""Parsers of sbatch, squeue and sacct output, and SLURM job states -> foldrun states."""

from __future__ import annotations

import re
from dataclasses import dataclass

from foldrun.core.task import TaskState
from foldrun.errors import SchedulerError

# squeue -h -o SQUEUE_FORMAT ; sacct -X -n -P -o SACCT_FIELDS
SQUEUE_FORMAT = "%i|%T|%r|%j"
SACCT_FIELDS = "JobID,JobName,State,ExitCode"

PENDING_STATES = frozenset(
    [
        "PENDING",
        "CONFIGURING",
        "REQUEUED",
        "REQUEUE_HOLD",
        "REQUEUE_FED",
        "RESV_DEL_HOLD",
        "SUSPENDED",
        "STOPPED",
    ]
)
RUNNING_STATES = frozenset(["RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT", "RESIZING"])
FAILED_STATES = frozenset(
    [
        "FAILED",
        "TIMEOUT",
        "NODE_FAIL",
        "OUT_OF_MEMORY",
        "BOOT_FAIL",
        "DEADLINE",
        "CANCELLED",
        "PREEMPTED",
        "SPECIAL_EXIT",
        "REVOKED",
    ]
)
# a pending job whose dependency failed never starts unless the site kills it
NEVER_REASONS = frozenset({"DependencyNeverSatisfied"})

_JOB_ID = re.compile(r"^(?P<job>\d+)(?:_(?:(?P<index>\d+)|\[(?P<spec>[^\]]*)\]))?(?:\.\S+)?$")
_SUBMITTED = re.compile(r"Submitted batch job (\d+)")


@dataclass(frozen=True)
class JobRecord:
    """One line of squeue or sacct: an array job's element(s), or a plain job."""

    job_id: str  # the array's job id (or the plain job's id)
    indices: tuple[int, ...] | None  # array task ids on this line; None for a plain job
    state: str  # SLURM state, upper case, first word only ("CANCELLED by 0" -> CANCELLED)
    reason: str
    name: str


def parse_sbatch(stdout: str) -> str:
    """The job id from `sbatch --parsable` ("123" or "123;cluster") or plain sbatch output."""
    text = stdout.strip()
    found = _SUBMITTED.search(text)
    if found:
        return found.group(1)
    first = text.splitlines()[-1].split(";")[0].strip() if text else ""
    if not first.isdigit():
        raise SchedulerError(f"sbatch printed no job id: {text[:200]!r}")
    return first


def expand_array_spec(spec: str) -> tuple[int, ...]:
    """`2-7%5` -> 2..7; `1,3,5-7`; `0-15:4` (step). The `%N` throttle is dropped."""
    spec = spec.split("%")[0]
    indices: list[int] = []
    for part in filter(None, spec.split(",")):
        bounds, _, step = part.partition(":")
        first, _, last = bounds.partition("-")
        stop = int(last) if last else int(first)
        indices.extend(range(int(first), stop + 1, int(step) if step else 1))
    return tuple(indices)


def parse_job_id(text: str) -> tuple[str, tuple[int, ...] | None]:
    """`20` -> ("20", None); `20_3` -> ("20", (3,)); `20_[2-7%5]` -> ("20", (2..7))."""
    found = _JOB_ID.match(text.strip())
    if not found:
        raise SchedulerError(f"unexpected SLURM job id {text!r}")
    if found.group("index") is not None:
        return found.group("job"), (int(found.group("index")),)
    if found.group("spec") is not None:
        return found.group("job"), expand_array_spec(found.group("spec"))
    return found.group("job"), None


def _fields(text: str, n_fields: int) -> list[list[str]]:
    """`|`-separated lines with at least n fields; banners and blank lines are skipped."""
    rows = []
    for line in text.splitlines():
        fields = line.split("|")
        if len(fields) >= n_fields and fields[0].strip():
            rows.append([field.strip() for field in fields])
    return rows


def _state(text: str) -> str:
    return text.split()[0].upper() if text.strip() else ""


def parse_squeue(text: str) -> list[JobRecord]:
    """Lines of `squeue -h -o '%i|%T|%r|%j'`."""
    records = []
    for job, state, reason, name, *_ in _fields(text, 4):
        job_id, indices = parse_job_id(job)
        records.append(JobRecord(job_id, indices, _state(state), reason, name))
    return records


def parse_sacct(text: str) -> list[JobRecord]:
    """Lines of `sacct -X -n -P -o JobID,JobName,State,ExitCode`; job steps are skipped."""
    records = []
    for job, name, state, exit_code, *_ in _fields(text, 4):
        if "." in job:
            continue  # a job step (batch, extern, 0): -X should have left them out
        job_id, indices = parse_job_id(job)
        reason = f"exit code {exit_code}" if exit_code not in ("", "0:0") else ""
        records.append(JobRecord(job_id, indices, _state(state), reason, name))
    return records


def classify(state: str, reason: str) -> tuple[TaskState | None, str]:
    """A SLURM state (and reason) as a foldrun state; None when the task folder decides."""
    if state in PENDING_STATES:
        if reason in NEVER_REASONS:
            return TaskState.FAILED, f"an upstream task failed ({reason})"
        return TaskState.PENDING, reason
    if state in RUNNING_STATES:
        return TaskState.RUNNING, reason
    if state in FAILED_STATES:
        shown = state if reason in ("", "None") else f"{state} ({reason})"
        return TaskState.FAILED, shown
    return None, state  # COMPLETED and anything unknown: the DONE file decides
