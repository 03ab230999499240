"""Entry models: `def run_fold(ctx) -> predictions DataFrame`, run in-process.

The train stage calls the function with the fold's frames and stores what it returns as
predictions.parquet (an entry function trains and predicts in one call); the predict
stage copies those predictions, so evaluate works the same for every kind of model.
refit calls the function with all non-holdout rows as `train` and the holdout (or None)
as `test`. `ctx.external` holds the external sets by name: rows predicted for them (by id)
are scored per set, never with the folds.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foldrun.core.task import PlannedTask
from foldrun.errors import RunError
from foldrun.layout import TaskFiles
from foldrun.run.adapters import command
from foldrun.run.adapters.inputs import shaped

if TYPE_CHECKING:
    import pandas as pd

    from foldrun.run.worker import ExecContext

IN_PROCESS = True


@dataclass
class FoldContext:
    """What `run_fold(ctx)` receives."""

    train: pd.DataFrame
    val: pd.DataFrame | None
    test: pd.DataFrame | None
    params: dict[str, Any]
    out: Path
    fold: int
    repeat: int
    seed: int | None
    stage: str
    features: list[str] = field(default_factory=list)
    target: str | list[str] = ""
    id: str = "id"
    # external sets by name: predict them too (rows keep their ids; foldrun scores them)
    external: dict[str, pd.DataFrame] = field(default_factory=dict)
    dataset: str = ""  # the `[datasets.<name>]` it runs on, else empty
    # where the function writes its predictions file when `[models.X.predictions]` declares
    # one (then it returns None); None: it returns the predictions
    predictions: Path | None = None

    def log(self, name: str, value: float, step: int | None = None) -> None:
        """Append one value to this task's metrics.jsonl."""
        line = {"name": name, "value": float(value), "step": step, "time": time.time()}
        with open(self.out / TaskFiles.POINTS, "a") as fh:
            fh.write(json.dumps(line) + "\n")


def describe(task: PlannedTask, ctx: ExecContext) -> str:
    params = json.dumps(task.recipe.params, sort_keys=True, default=str)
    return f"{task.stage}: {task.recipe.entry}(ctx) params={params}"


def _frame(task: PlannedTask, name: str) -> pd.DataFrame | None:
    # lazy: pandas (adapters/common), only for an entry point that returns a table
    from foldrun.run.adapters.common import input_path, read_manifest

    path = input_path(task, name)  # the model's own features: exactly those columns
    return shaped(read_manifest(path, task), task) if path is not None else None


def _context(task: PlannedTask, out: Path) -> FoldContext:
    info = task.recipe.data
    refit = task.stage == "refit"
    return FoldContext(
        train=_frame(task, "train"),  # type: ignore[arg-type]
        val=None if refit else _frame(task, "val"),
        test=_frame(task, "holdout" if refit else "test"),
        params=dict(task.recipe.params),
        out=out,
        fold=task.fold,
        repeat=task.repeat,
        seed=task.recipe.seed,
        stage=task.stage,
        features=list(info.get("features") or []),
        target=info.get("target", ""),
        id=str(info.get("id", "id")),
        external={s.partition(":")[2]: _frame(task, s) for s in task.external_sets()},
        dataset=task.dataset,
        predictions=_declared_file(task, out),
    )


def _declared_file(task: PlannedTask, out: Path) -> Path | None:
    """The predictions file `[models.X.predictions]` names (placeholders as a command's)."""
    if task.recipe.predictions is None:
        return None  # it returns its predictions
    return command.declared_predictions_file(task, command.values(task, out))


def _declared(task: PlannedTask, out: Path, returned: object) -> pd.DataFrame | None:
    """The predictions of a function that writes its own file, in foldrun's columns (None:
    a refit without a holdout wrote none); a missing file fails the task, never done."""
    where = f"models.{task.model}.predictions"
    if returned is not None:
        raise RunError(f"run_fold returned predictions, and [{where}] says it writes them to "
                       f"a file; return None, or remove [{where}]", key=where)  # fmt: skip
    path = _declared_file(task, out)
    assert path is not None  # declared
    if not path.is_file():
        if task.stage == "refit" and task.recipe.inputs.get("holdout") is None:
            return None  # nothing to predict
        raise RunError(f"run_fold wrote no predictions file {path}; it must write it there "
                       "(ctx.predictions)", key=where)  # fmt: skip
    preds = command.read_program_predictions(task, path)
    if path == out / "predictions.csv":  # the default {predictions}: predictions.parquet now
        path.unlink()
    return preds


def run(task: PlannedTask, ctx: ExecContext) -> int:
    """The function on the fold (train, refit), then the metrics files it declares read
    into metrics.json; predict copies train's predictions."""
    # lazy: pandas (adapters/common), only for an entry point that returns a table
    from foldrun.run.adapters import common

    if task.stage == "predict":
        shutil.copyfile(
            common.upstream(task, "train") / TaskFiles.PREDICTIONS, ctx.tmp / TaskFiles.PREDICTIONS
        )
        return 0
    fn = common.import_object(str(task.recipe.entry), task)
    preds = fn(_context(task, ctx.tmp))
    if task.recipe.predictions is not None:  # in a file of its own, in its own columns
        preds = _declared(task, ctx.tmp, preds)
    code = _store(task, ctx, preds)
    if code != 0 or not task.recipe.metrics:
        return code

    return command.read_declared(task, ctx, command.values(task, ctx.tmp))


def _store(task: PlannedTask, ctx: ExecContext, preds: object) -> int:
    """What the function returned (or wrote) as predictions.parquet; a refit's scored."""
    # lazy: pandas (adapters/common), only for an entry point that returns a table
    import pandas as pd

    from foldrun.run.adapters import common

    if preds is None and task.stage != "refit":  # predict would find nothing to copy
        raise TypeError(f"run_fold returned None for fold {task.fold}; return the test rows' "
                        "predictions as a DataFrame with an `id` column")  # fmt: skip
    if preds is None:  # a refit without a holdout: nothing to predict
        return 0
    if not isinstance(preds, pd.DataFrame) or "id" not in preds:
        raise TypeError("run_fold must return a DataFrame with an `id` column")
    if task.stage == "refit":
        scored = common.with_truth(task, common.assign_subsets(task, preds, default="holdout"))
        common.write_predictions(scored, ctx.tmp)
        common.merge_metrics(ctx.tmp, common.subset_metrics(task, scored))
    else:
        common.write_predictions(common.assign_subsets(task, preds), ctx.tmp)
    return 0
