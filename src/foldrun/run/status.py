"""The state of every planned task: from the task folders first, the scheduler second."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from foldrun.core import state
from foldrun.core.task import PlannedTask, TaskState
from foldrun.core.taskid import TaskId
from foldrun.layout import RunLayout, TaskFiles, fold_dir_name
from foldrun.plan.code import changed_code
from foldrun.results import index
from foldrun.run.backends import get_backend
from foldrun.run.backends.base import RunContext
from foldrun.run.worker import task_folder

LIVE = (TaskState.PENDING, TaskState.RUNNING)


@dataclass
class TaskStatus:
    key: str
    model: str
    variant: str
    fold: str
    stage: str
    state: TaskState
    duration_s: float | None
    why: str = ""  # for a stale task: which of the user's files changed, when code did
    dataset: str = ""  # `[datasets.<name>]`, else empty


def stale_why(task: PlannedTask, folder: Path) -> str:
    """Which code files made a stale task stale (from its folder's code.json), or ''."""
    try:
        old = json.loads((folder / TaskFiles.CODE).read_text())
    except (OSError, ValueError):
        old = {}
    changed = changed_code(old if isinstance(old, dict) else {}, task.recipe.code)
    return f"changed: {', '.join(changed)}" if changed else ""


def _wall(folder: Path) -> float | None:
    try:
        return float(json.loads((folder / TaskFiles.RESOURCES).read_text())["wall_s"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


class Kept:
    """What the last refresh (query, report) judged of each committed task folder
    (results/.index.json, results/index.py), read once per dataset: a folder whose files'
    sizes and mtimes are unchanged is not read again (status itself writes nothing)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.entries: dict[str, tuple[str, dict[str, list[object]]]] = {}

    def _of(self, dataset: str) -> tuple[str, dict[str, list[object]]]:
        if dataset not in self.entries:
            layout = RunLayout(self.run_dir, dataset or None)
            found = index.read_entries(layout.results_dir, layout.root.resolve())
            self.entries[dataset] = (f"{layout.tasks_dir}{os.sep}", found)
        return self.entries[dataset]

    def state(self, task: PlannedTask) -> tuple[TaskState, float | None] | None:
        found = self.stamped(task)
        return None if found is None else found[:2]

    def stamped(self, task: PlannedTask) -> tuple[TaskState, float | None, str] | None:
        """`state` and the folder's stamp (results/index.py `stamp_at`, the record's)."""
        prefix, entries = self._of(task.dataset)
        # a kept plan's folder is an absolute path already: no Path per task (10,000 here)
        path = str(task.task_dir)
        path = path if os.path.isabs(path) else str(task_folder(task))
        entry = entries.get(path[len(prefix) :]) if path.startswith(prefix) else None
        got = index.committed(entry, path)
        if got is None or not isinstance(entry, list):
            return None
        found = state.judge(got[0], task.fingerprint, True, False)  # its outputs read whole
        done = found in (TaskState.DONE, TaskState.STALE)
        return (found, got[2], str(entry[6])) if done else None


def task_state(
    task: PlannedTask, scheduler: dict[str, TaskState], kept: Kept | None = None
) -> tuple[TaskState, float | None]:
    quick = kept.state(task) if kept is not None else None
    if quick is not None:
        return quick
    folder = task_folder(task)
    found = state.disk_state(folder, task.fingerprint)
    if found in (TaskState.DONE, TaskState.STALE):
        return found, _wall(folder)
    pid = state.attempt_pid(folder)
    if pid is not None and state.pid_alive(pid):
        with contextlib.suppress(OSError):
            return TaskState.RUNNING, time.time() - (folder / state.RUNNING).stat().st_mtime
    for tmp, pid in state.tmp_dirs(folder):
        if state.pid_alive(pid):
            return TaskState.RUNNING, time.time() - tmp.stat().st_mtime
    if found == TaskState.CORRUPT and scheduler.get(task.key) not in LIVE:
        return found, None  # a queued or running rerun shows as such
    if task.key in scheduler:
        return scheduler[task.key], None
    if found == TaskState.FAILED:
        return found, _wall(state.failed_dir(folder))
    return TaskState.PENDING, None


def _state_dir(task: PlannedTask) -> Path:
    return RunLayout(task.recipe.run_dir).state_dir


def recorded_backend(run_dir: Path) -> str | None:
    try:
        return (RunLayout(run_dir).state_dir / "backend").read_text().strip() or None
    except OSError:
        return None


def scheduler_states(spec_path: Path, run_dir: Path) -> dict[str, TaskState]:
    """What the backend that ran this folder knows (SLURM: queued/running/failed jobs)."""
    name = recorded_backend(run_dir)
    if name in (None, "local"):
        return {}

    ctx = RunContext(spec_path=spec_path, run_dir=run_dir, run_id="")
    return get_backend(name).scheduler_states(ctx)


def _fold_dir(task: PlannedTask) -> str:
    """The fold dir as the task's key names it (core/taskid.py: the one parse of a key)."""
    found = TaskId.parse(task.key)
    return found.fold_dir if found else fold_dir_name(task.fold, task.repeat, task.recipe.n_repeats)


def collect(
    tasks: dict[str, PlannedTask], scheduler: dict[str, TaskState], run_dir: Path | None = None
) -> list[TaskStatus]:
    """The state of each task (PlannedTasks, or plan/cache.py's rows, given `run_dir`: a
    stale row's `why` is left empty for `planned_status` to fill from the plan)."""
    rows = []
    first = next(iter(tasks.values()), None)
    pruned = {}
    if run_dir is not None or first is not None:
        pruned = state.pruned_keys(RunLayout(run_dir).state_dir if run_dir else _state_dir(first))
    kept = Kept(run_dir) if run_dir is not None else None
    for key, task in tasks.items():
        found, duration = task_state(task, scheduler, kept)
        live = found in LIVE and key not in scheduler
        if live and state.is_pruned(pruned, key, task.fingerprint):
            found = TaskState.PRUNED  # a race stopped it ([race]); see .foldrun/race.json
        rows.append(
            TaskStatus(
                key,
                task.model,
                task.variant,
                _fold_dir(task),
                task.stage,
                found,
                duration,
                _why(task) if found == TaskState.STALE else "",
                task.dataset,
            )
        )
    return rows


def _why(task: PlannedTask) -> str:
    return stale_why(task, task_folder(task)) if hasattr(task, "recipe") else ""


def planned_status(spec: Any, spec_path: Path) -> tuple[Path, list[TaskStatus]]:
    """The run folder and the state of every task of the loaded `spec`. The plan is the one
    query, report or run kept when nothing planning reads changed (plan/cache.py), else
    planned here; status never keeps one (looking at a run writes nothing). Only a stale
    task needs the whole plan (which code file changed): then it is planned."""
    from foldrun.plan import cache  # lazy: foldrun --help imports run/ through the CLI

    tasks, plan = cache.rows(spec, keep=False)
    run_dir = Path(spec.run_dir)
    scheduler = scheduler_states(spec_path, run_dir)
    planned = dict(plan.tasks) if plan is not None else {t.key: t for t in tasks}
    rows = collect(planned, scheduler, run_dir)
    if plan is None and any(r.state == TaskState.STALE for r in rows):
        from foldrun.plan import build_plan  # lazy: status of an unchanged spec plans nothing

        full = dict(build_plan(spec).tasks)
        rows = [replace(r, why=_why(full[r.key])) if r.key in full and r.state == TaskState.STALE
                else r for r in rows]  # fmt: skip
    return run_dir, rows


SUMMARY_OVER = 200  # `foldrun status` prints one row per model/variant/stage above this


def summarize(rows: Sequence[Any]) -> list[tuple[str, str, str, str, dict[str, int]]]:
    """One row per (dataset, model, variant, stage), in plan order, with its tasks counted by
    state: what `foldrun status` prints when a table of every task would be too long to read
    (10,000 rows took 78% of its time to draw); above SUMMARY_OVER such rows, one per
    (dataset, model, stage), its variant column counting the variants. Rows need
    .dataset/.model/.variant/.stage and .state (a TaskState or its text)."""
    groups = _count(rows, lambda row: row.variant)
    if len(groups) > SUMMARY_OVER:  # many variants: one row per model and stage, the
        variants = _variants(rows)  # variants counted (2,500 rows were still unreadable)
        groups = _count(rows, lambda row: variants[(row.dataset, row.model)])
    return [(*key, dict(sorted(counts.items()))) for key, counts in groups.items()]


def _count(rows: Sequence[Any], variant: Any) -> dict[tuple[str, str, str, str], dict[str, int]]:
    """Tasks counted by state per (dataset, model, `variant(row)`, stage), in plan order."""
    groups: dict[tuple[str, str, str, str], dict[str, int]] = {}
    for row in rows:
        counts = groups.setdefault((row.dataset, row.model, variant(row), row.stage), {})
        name = getattr(row.state, "value", row.state)
        counts[name] = counts.get(name, 0) + 1
    return groups


def _variants(rows: Sequence[Any]) -> dict[tuple[str, str], str]:
    seen: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        seen.setdefault((row.dataset, row.model), set()).add(row.variant)
    return {key: f"{len(names)} variant{'s' if len(names) > 1 else ''}"
            for key, names in seen.items()}  # fmt: skip
