"""foldrun's own evaluate stage, for every kind of model: predictions + y_true -> metrics.

Reads the predict task's predictions.parquet, joins `y_true` from the manifest of each
subset, writes metrics.json (`test/<metric>`, `val/<metric>`) and predictions.parquet
with `y_true`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from foldrun.core.task import PlannedTask
from foldrun.layout import TaskFiles
from foldrun.run.adapters import common

if TYPE_CHECKING:
    from foldrun.run.worker import ExecContext

IN_PROCESS = True


def describe(task: PlannedTask, ctx: ExecContext) -> str:
    return f"evaluate {task.recipe.problem} predictions of {task.model}/{task.variant}"


def _scored_stage(task: PlannedTask) -> Path:
    """predict's predictions, or train's for a model without a predict step."""
    stage = "predict" if "predict" in task.recipe.upstream else "train"
    return common.upstream(task, stage) / TaskFiles.PREDICTIONS


def run(task: PlannedTask, ctx: ExecContext) -> int:
    source = _scored_stage(task)
    if not source.is_file():  # a train-only program that scored itself (its metrics.json)
        print(f"no predictions to score in {source.parent}: the model's own metrics count")
        common.merge_metrics(ctx.tmp, {})
        return 0
    # the predict's rows as its read-back read and checked them, in this slot (issue 26)
    preds, checked = common.read_checked(task, source)
    scored = common.with_truth(task, common.assign_subsets(task, preds), checked)
    common.write_predictions(scored, ctx.tmp)
    metrics = common.subset_metrics(task, scored)
    common.merge_metrics(ctx.tmp, metrics)
    for name, value in metrics.items():
        print(f"{name} = {value:.6g}")
    return 0
