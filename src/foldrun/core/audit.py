"""The run-level audit log: one line per event, appended with O_APPEND in one write."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from foldrun.core import taskid

EVENTS = (
    "started",
    "finished",
    "failed",
    "skipped",
    "submitted",
    "requeued",
    "cancelled",
    "interrupted",  # the runner was stopped (SIGINT/SIGTERM) while the task ran: pending
    "command",  # the resolved command (or estimator/entry call) and the params, at start
    "forced",  # --force reruns a stale task
    "fold completed",  # the last stage of a model/variant's fold finished
    "pruned",  # a race stopped the task's variant (.foldrun/race.json says which and why)
)

# lines that inform (the command, a forced rerun, a finished fold) and change no task state
INFO_EVENTS = frozenset({"command", "forced", "fold completed", "pruned"})


def split_key(key: str) -> tuple[str, str, str]:
    """`model/variant/<fold dir>/stage` -> (fold dir, model/variant, stage); in a spec with
    datasets `<dataset>/model/variant/...` -> (fold dir, dataset/model/variant, stage).
    Read from the key's end by core/taskid.py, the one owner of the key's format."""
    return taskid.split_key(key)


def audit_line(key: str, event: str, detail: str = "", when: datetime | None = None) -> str:
    stamp = (when or datetime.now()).strftime("%Y-%m-%dT%H:%M:%S")
    fold, model_variant, stage = split_key(key)
    fields = [stamp, fold, model_variant, stage, event]
    if detail:
        fields.append(" ".join(detail.split()))  # keep it one line
    return " | ".join(fields) + "\n"


def append(audit_log: Path, key: str, event: str, detail: str = "") -> None:
    """One write() on an O_APPEND descriptor: lines from parallel workers never interleave."""
    audit_log.parent.mkdir(parents=True, exist_ok=True)
    data = audit_line(key, event, detail).encode()
    fd = os.open(audit_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


if __name__ == "__main__":
    # `python -m foldrun.core.audit AUDIT_LOG KEY EVENT [DETAIL]`: the SLURM job script's
    # record(), so its lines carry the fields this module reads back (a dataset's key too)
    import sys

    append(Path(sys.argv[1]), sys.argv[2], sys.argv[3], " ".join(sys.argv[4:]))
