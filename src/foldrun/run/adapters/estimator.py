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
from foldrun.run.adapters import common
from foldrun.run.adapters.common import import_object, input_path, read_manifest, xy

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

    X, y = xy(task, read_manifest(input_path(task, "train"), task))  # type: ignore[arg-type]
    model = fitted(task, X, y)
    joblib.dump(model, out / MODEL_FILE)
    print(f"fitted on {len(X)} rows, {X.shape[1]} features")
    return model


def fitted(task: PlannedTask, X: Any, y: Any) -> Any:
    """The model fitted on (X, y). An estimator that takes integer classes only (XGBoost:
    `Invalid classes inferred from unique values of y ... got ['fake' 'real']`) is fitted
    on scikit-learn's LabelEncoder codes instead and wrapped to predict the class names, so
    predictions files and metrics keep them. Found by trying: scikit-learn's own estimators
    take any labels and are fitted once, as before."""
    try:
        return build_model(task).fit(X, y)
    except Exception as err:  # whatever the estimator raises on labels
        if task.recipe.problem != "classification" or _are_codes(y):
            raise
        first = err
    from sklearn.preprocessing import LabelEncoder

    encoder = LabelEncoder().fit(y)
    try:
        model = build_model(task).fit(X, encoder.transform(y))
    except Exception:  # codes did not help either: the estimator's own first error
        raise first from None
    classes = ", ".join(map(str, encoder.classes_))
    print(f"the estimator takes integer classes only ({type(first).__name__}: {first}); "
          f"fitted on codes 0..{len(encoder.classes_) - 1} of {classes}, predictions keep "
          "the class names")  # fmt: skip
    return EncodedLabels(model, encoder)


def _are_codes(y: Any) -> bool:
    """Whether the labels already are the codes 0..k-1 (encoding would change nothing)."""
    import numpy as np

    values = np.unique(np.asarray(y))
    return values.dtype.kind in "iu" and np.array_equal(values, np.arange(len(values)))


class EncodedLabels:
    """A classifier fitted on label codes, predicting the original class names: `predict`
    decodes, `classes_` are the names in code order (the columns of `predict_proba`)."""

    def __init__(self, model: Any, encoder: Any) -> None:
        self.model, self.encoder = model, encoder

    @property
    def classes_(self) -> Any:
        return self.encoder.classes_

    def predict(self, X: Any) -> Any:
        import numpy as np

        codes = np.asarray(self.model.predict(X))
        return self.encoder.inverse_transform(codes.astype(np.int64).ravel())

    def __getattr__(self, name: str) -> Any:
        # predict_proba, decision_function ... as the fitted model has them (hasattr works)
        if name in ("model", "encoder") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.model, name)


def _predict(task: PlannedTask, model: Any, subsets: tuple[str, ...], out: Path) -> Any:
    import pandas as pd

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
