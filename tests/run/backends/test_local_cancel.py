"""A steered local run (the race's): tasks start in the steering's order, and what it
cancels as tasks end is dropped (not started) or stopped while it runs, leaving nothing:
neither done nor failed."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from foldrun.core import state
from foldrun.core.task import PlannedTask
from foldrun.run.backends.base import Outcome, RunContext
from foldrun.run.backends.local import LocalBackend
from tests.run.helpers import task

LOG = "echo {name} >> {log}; "


def _task(root: Path, name: str, command: str, deps: tuple[str, ...] = (), fold: int = 0):
    params = {"name": name, "log": str(root / "ran.txt")}
    return task(root, name, "train" if not deps else "predict", fold, deps=deps,
                command=LOG + command, params=params)  # fmt: skip


def _ran(root: Path) -> list[str]:
    path = root / "ran.txt"
    return path.read_text().split() if path.exists() else []


class Steer:
    """Ranks tasks by a given order; when `trigger` ends, cancels `cancel`."""

    def __init__(self, ranks: dict[str, int], trigger: str = "", cancel: Iterable[str] = ()):
        self.ranks, self.trigger, self.cancel = ranks, trigger, set(cancel)
        self.ended_: dict[str, Outcome] = {}

    def rank(self, t: PlannedTask) -> tuple[float, ...] | None:
        found = self.ranks.get(t.model)
        return None if found is None else (found,)

    def ended(self, key: str, outcome: Outcome) -> set[str]:
        self.ended_[key] = outcome
        return self.cancel if key.startswith(self.trigger + "/") else set()


def _execute(root: Path, tasks: list[PlannedTask], steer: Steer, jobs: int):
    ctx = RunContext(spec_path=root / "foldrun.toml", run_dir=root, run_id="t", jobs=jobs)
    return LocalBackend().execute_steered(tasks, ctx, steer)


def test_a_running_task_cancelled_is_stopped_and_leaves_nothing(tmp_path: Path) -> None:
    quick = _task(tmp_path, "quick", "sleep 0.5")
    slow = _task(tmp_path, "slow", "sleep 60")
    after_slow = _task(tmp_path, "slow", "true", deps=(slow.key,))
    later = _task(tmp_path, "later", "true")
    keep = _task(tmp_path, "keep", "true")
    steer = Steer({"quick": 0, "slow": 0, "later": 1, "keep": 2}, "quick",
                  {slow.key, after_slow.key, later.key})  # fmt: skip
    began = time.monotonic()
    result = _execute(tmp_path, [keep, later, slow, after_slow, quick], steer, jobs=2)
    assert time.monotonic() - began < 40  # stopped, not waited for
    assert result.outcomes == {
        quick.key: Outcome.DONE, keep.key: Outcome.DONE, slow.key: Outcome.CANCELLED,
        after_slow.key: Outcome.CANCELLED, later.key: Outcome.CANCELLED}  # fmt: skip
    assert sorted(_ran(tmp_path)) == ["keep", "quick", "slow"]  # later never started
    assert not slow.task_dir.parent.exists()  # no attempt, no lock file, no fold folder
    assert state.disk_state(slow.task_dir, slow.fingerprint).value == "pending"
    cancelled = [line for line in (tmp_path / "audit.log").read_text().splitlines()
                 if "| cancelled |" in line]  # fmt: skip
    assert len(cancelled) == 1 and "| slow" in cancelled[0]  # the one that ran
    assert steer.ended_[after_slow.key] is Outcome.CANCELLED  # told of every end


def test_tasks_start_in_the_steerings_order_and_a_hold_never_stalls(tmp_path: Path) -> None:
    names = ["a", "b", "c", "d"]
    tasks = [_task(tmp_path, n, "true") for n in names]
    # d is held (no rank): it starts once nothing else runs
    steer = Steer({"a": 2, "b": 0, "c": 1})
    result = _execute(tmp_path, tasks, steer, jobs=1)
    assert set(result.outcomes.values()) == {Outcome.DONE}
    assert _ran(tmp_path) == ["b", "c", "a", "d"]


def test_a_task_that_commits_before_its_cancel_is_done(tmp_path: Path) -> None:
    first = _task(tmp_path, "first", "true")
    second = _task(tmp_path, "second", "true")
    # cancelling a task that already ended changes nothing
    steer = Steer({"first": 0, "second": 1}, "second", {first.key})
    result = _execute(tmp_path, [first, second], steer, jobs=1)
    assert result.outcomes == {first.key: Outcome.DONE, second.key: Outcome.DONE}
    assert state.read_fingerprint(first.task_dir) == first.fingerprint
