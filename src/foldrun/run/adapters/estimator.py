"""Estimator models (any scikit-learn compatible class), run in-process.

train: fit `Pipeline(preprocess..., estimator)` on the training rows in manifest order
(the order of the input table, so scores equal `cross_validate` on the same folds) and
save it as model.joblib. predict: load it, predict test (and val, and the external sets).
refit: fit on all non-holdout rows; predict the holdout and the external sets and write
`holdout/<metric>`, `external:<name>/<metric>`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foldrun.core.task import PlannedTask

if TYPE_CHECKING:
    from foldrun.run.worker import ExecContext

IN_PROCESS = True
MODEL_FILE = "model.joblib"


def describe(task: PlannedTask, ctx: ExecContext) -> str:
    params = json.dumps(task.recipe.params, sort_keys=True, default=str)
    steps = [*task.recipe.preprocess, str(task.recipe.estimator)]
    return f"{task.stage}: {' -> '.join(steps)} params={params}"


def build_model(task: PlannedTask) -> Any:
    """The estimator with the task's params (a Pipeline when there are preprocess steps).

    `random_state` is set to the spec's seed when the estimator has one and the params
    do not name it, so a rerun reproduces the same model.
    """
    from sklearn.pipeline import Pipeline

    from foldrun.run.adapters.common import import_object

    estimator = import_object(str(task.recipe.estimator), task)()
    params = dict(task.recipe.params)
    if "random_state" in estimator.get_params() and "random_state" not in params:
        params["random_state"] = task.recipe.seed
    estimator.set_params(**params)
    preprocess = task.recipe.preprocess
    if not preprocess:
        return estimator
    steps = [(f"pre{i}", import_object(ref, task)()) for i, ref in enumerate(preprocess)]
    return Pipeline([*steps, ("model", estimator)])


def _fit(task: PlannedTask, out: Path) -> Any:
    import joblib

    from foldrun.run.adapters.common import input_path, read_manifest, xy

    X, y = xy(task, read_manifest(input_path(task, "train"), task))  # type: ignore[arg-type]
    model = build_model(task).fit(X, y)
    joblib.dump(model, out / MODEL_FILE)
    print(f"fitted on {len(X)} rows, {X.shape[1]} features")
    return model


def _predict(task: PlannedTask, model: Any, subsets: tuple[str, ...], out: Path) -> Any:
    import pandas as pd

    from foldrun.run.adapters import common

    parts = []
    for subset in subsets:
        path = common.input_path(task, subset)
        if path is not None:
            frame = common.read_manifest(path, task)
            parts.append(common.estimator_predictions(model, task, frame, subset))
    preds = pd.concat(parts, ignore_index=True)
    common.write_predictions(preds, out)
    print(f"predicted {len(preds)} rows ({', '.join(sorted(set(preds['subset'])))})")
    return preds


def run(task: PlannedTask, ctx: ExecContext) -> int:
    import joblib

    from foldrun.run.adapters import common

    if task.stage == "train":
        _fit(task, ctx.tmp)
    elif task.stage == "predict":
        for ref in (*task.recipe.preprocess, str(task.recipe.estimator)):
            common.import_object(ref, task)  # a class beside the spec unpickles as it fit
        model = joblib.load(common.upstream(task, "train") / MODEL_FILE)
        _predict(task, model, ("test", "val", *task.external_sets()), ctx.tmp)
    elif task.stage == "refit":
        model = _fit(task, ctx.tmp)
        scored_sets = ("holdout", *task.external_sets())  # never trained on
        if any(common.input_path(task, s) is not None for s in scored_sets):
            preds = _predict(task, model, scored_sets, ctx.tmp)
            scored = common.with_truth(task, preds)
            common.write_predictions(scored, ctx.tmp)
            common.merge_metrics(ctx.tmp, common.subset_metrics(task, scored))
    else:
        raise ValueError(f"estimator models have no stage {task.stage!r}")
    return 0
