"""The Backend contract: outcomes are typed; a backend's messages are for people only."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from foldrun.core.task import PlannedTask, TaskState
from foldrun.run import backends
from foldrun.run.backends.base import BackendResult, Outcome, RunContext
from foldrun.run.backends.local import LocalBackend
from foldrun.run.options import RunOptions
from foldrun.run.runner import run_planned
from tests.run.helpers import task


class Reworded(LocalBackend):
    """The local backend with every message reworded: nothing may depend on the text."""

    def execute(self, tasks: Sequence[PlannedTask], ctx: RunContext) -> BackendResult:
        result = super().execute(tasks, ctx)
        failed = [k for k, o in result.outcomes.items() if o is Outcome.FAILED]
        # the old parser took the text before ": " as a blocked task's key: a message that
        # names a failed task that way must not make it "blocked", and a blocked task named
        # any other way must stay blocked
        result.messages = [f"{k}: a note that looks like the old protocol" for k in failed]
        result.messages.append("nicht ausgeführt: eine vorherige Aufgabe schlug fehl")
        return result


@pytest.fixture
def reworded(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(backends.BACKENDS, "reworded", f"{__name__}:Reworded")
    return "reworded"


def test_a_blocked_task_is_blocked_by_its_outcome_not_its_message(
    tmp_path: Path, reworded: str
) -> None:
    bad = task(tmp_path, "bad", "train", command="exit 3")
    after = task(tmp_path, "bad", "predict", deps=(bad.key,), command="true")
    good = task(tmp_path, "good", "train", command="true")
    plan = {t.key: t for t in (bad, after, good)}
    options = RunOptions(backend=reworded, jobs=2, gpus=())
    result = run_planned(tmp_path / "foldrun.toml", tmp_path, plan, options)
    assert result.exit_code == 1
    assert result.counts["done"] == 1 and result.counts["failed"] == 2
    why = {f.key: f for f in result.failures}
    assert why[after.key].blocked and "upstream" in why[after.key].reason
    assert not why[bad.key].blocked and why[bad.key].log is not None
    assert "nicht ausgeführt: eine vorherige Aufgabe schlug fehl" in result.messages


def test_outcomes_count_as_the_run_counts_them() -> None:
    result = BackendResult()
    result.outcomes.update(a=Outcome.DONE, b=Outcome.FAILED, c=Outcome.CANCELLED)
    result.blocked("d", "b")
    assert result.outcomes["d"] is Outcome.BLOCKED
    assert result.messages == ["d: not run, upstream b failed"]
    assert result.states == {"a": TaskState.DONE, "b": TaskState.FAILED,
                             "c": TaskState.PENDING, "d": TaskState.FAILED}  # fmt: skip
    assert Outcome.PRUNED.state is TaskState.PRUNED
    assert Outcome.of(TaskState.RUNNING) is Outcome.RUNNING
    assert Outcome.of(TaskState.PENDING) is Outcome.QUEUED
