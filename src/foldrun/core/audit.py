"""The run-level audit log: one line per event, appended with O_APPEND in one write."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

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
    datasets `<dataset>/model/variant/...` -> (fold dir, dataset/model/variant, stage)."""
    parts = key.split("/")
    start = len(parts) - 1
    # the fold dir, read from its end as layout.fold_dir_name writes it: `all`, else
    # [repeat_NN/]fold_NN[/inner_NN]. Never by prefix: a variant such as `inner_relu` (grid
    # key `inner`) is no fold part, and taking it for one lost the dataset's audit lines.
    if parts[start - 1] == "all":
        return "all", "/".join(parts[: start - 1]), parts[-1]
    for pattern in (_INNER, _FOLD, _REPEAT):
        if start > 2 and pattern.fullmatch(parts[start - 1]):
            start -= 1
        elif pattern is _FOLD:
            break  # no fold_NN: nothing before it is a fold part
    return "/".join(parts[start:-1]), "/".join(parts[:start]), parts[-1]


_FOLD, _REPEAT, _INNER = (re.compile(rf"{w}_\d+") for w in ("fold", "repeat", "inner"))


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
