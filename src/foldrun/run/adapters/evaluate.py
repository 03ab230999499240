"""foldrun's own evaluate stage, for every kind of model: predictions + y_true -> metrics.

Reads the predict task's predictions.parquet, joins `y_true` from the manifest of each
subset, writes metrics.json (`test/<metric>`, `val/<metric>`) and predictions.parquet
with `y_true`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from foldrun.plan.task import PlannedTask

if TYPE_CHECKING:
    from foldrun.run.worker import ExecContext

IN_PROCESS = True


def describe(task: PlannedTask, ctx: ExecContext) -> str:
    return f"evaluate {task.meta.get('task')} predictions of {task.model}/{task.variant}"


def run(task: PlannedTask, ctx: ExecContext) -> int:
    import pandas as pd

    from foldrun.run.adapters import common

    preds = pd.read_parquet(common.upstream(task, "predict") / "predictions.parquet")
    scored = common.with_truth(task, common.assign_subsets(task, preds))
    common.write_predictions(scored, ctx.tmp)
    metrics = common.subset_metrics(task, scored)
    common.merge_metrics(ctx.tmp, metrics)
    for name, value in metrics.items():
        print(f"{name} = {value:.6g}")
    return 0
