"""run/status.py's summarize: the rows `foldrun status` prints above 200 tasks."""

from __future__ import annotations

from types import SimpleNamespace

from foldrun.core.task import TaskState
from foldrun.run.status import summarize


def _row(model: str, variant: str, stage: str, state: object, dataset: str = "") -> object:
    return SimpleNamespace(model=model, variant=variant, stage=stage, state=state,
                           dataset=dataset)  # fmt: skip


def test_counts_each_group_by_state_in_plan_order() -> None:
    rows = [_row("rf", "d4", "train", TaskState.DONE), _row("rf", "d4", "train", "failed"),
            _row("rf", "d4", "train", TaskState.DONE), _row("lr", "default", "train", "pending"),
            _row("rf", "d4", "evaluate", "done"), _row("rf", "d4", "train", "done", "b")]
    assert summarize(rows) == [
        ("", "rf", "d4", "train", {"done": 2, "failed": 1}),
        ("", "lr", "default", "train", {"pending": 1}),
        ("", "rf", "d4", "evaluate", {"done": 1}),
        ("b", "rf", "d4", "train", {"done": 1}),
    ]
