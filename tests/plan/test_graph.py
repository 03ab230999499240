from __future__ import annotations

import csv
import pickle
from collections import Counter
from pathlib import Path

import pytest

from foldrun.core.task import Resources
from foldrun.errors import DataError
from foldrun.layout import REFIT_FOLD
from foldrun.plan import build_plan
from foldrun.spec import load_spec
from tests.spec.helpers import write_spec

MODELS = """
[defaults]
resources = { cpus = 2, mem = "8G" }
[models.rf]
estimator = "sklearn.ensemble:RandomForestClassifier"
grid = { n_estimators = [100, 300], max_depth = [4, 8] }
[models.cnn]
train = "python train.py --train {train} --out {out} --lr {lr}"
predict = "python predict.py --in {test} --out {predictions} --t {threshold}"
refit = "python train.py --train {train} --out {out} --lr {lr} --t {threshold}"
params = { lr = 3e-4 }
resources = { gpus = 1, cpus = 4, mem = "32G", time = "24:00:00" }
[models.cnn.stages.predict]
grid = { threshold = [0.3, 0.5, 0.7] }
resources = { cpus = 1 }
[models.fn]
entry = "mypkg.cv:run_fold"
"""


def plan_for(tmp_path: Path, models: str = MODELS, **split: int):
    return build_plan(load_spec(write_spec(tmp_path, models, **split)), write=True)


def stage_counts(plan, model: str) -> dict[str, int]:
    return dict(Counter(t.stage for t in plan.tasks.values() if t.model == model))


def test_counts_with_model_grid_and_stage_grid(tmp_path: Path) -> None:
    plan = plan_for(tmp_path)  # 3 folds
    assert stage_counts(plan, "rf") == {"train": 12, "predict": 12, "evaluate": 12, "refit": 4}
    # train once per fold, predict fans out to three thresholds, later stages follow
    assert stage_counts(plan, "cnn") == {"train": 3, "predict": 9, "evaluate": 9, "refit": 3}
    assert stage_counts(plan, "fn") == {"train": 3, "predict": 3, "evaluate": 3, "refit": 1}
    assert plan.variants("cnn") == [
        "default",
        "default+thresh0.3",
        "default+thresh0.5",
        "default+thresh0.7",
    ]
    assert plan.n_repeats == 1


def test_command_model_has_the_stages_it_names(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, '[models.p]\npredict = "true {test} {predictions}"\n')
    assert stage_counts(plan, "p") == {"predict": 3, "evaluate": 3}
    assert all(t.deps == () for t in plan.tasks.values() if t.stage == "predict")


def test_keys_deps_and_topological_order(tmp_path: Path) -> None:
    plan = plan_for(tmp_path)
    seen: set[str] = set()
    for key, task in plan.tasks.items():
        assert all(dep in seen for dep in task.deps), key
        seen.add(key)
        assert key == str(task.task_dir.relative_to(plan.run_dir / "tasks"))
    predict = plan.tasks["cnn/default+thresh0.5/fold_01/predict"]
    assert predict.deps == ("cnn/default/fold_01/train",)
    evaluate = plan.tasks["cnn/default+thresh0.5/fold_01/evaluate"]
    assert evaluate.deps == ("cnn/default+thresh0.5/fold_01/predict",)


def test_refit_depends_on_every_evaluate_of_its_variant(tmp_path: Path) -> None:
    plan = plan_for(tmp_path)
    refit = plan.tasks["rf/md8-ne100/all/refit"]
    assert refit.fold == REFIT_FOLD
    assert refit.task_dir == plan.run_dir / "tasks/rf/md8-ne100/all/refit"
    assert set(refit.deps) == {f"rf/md8-ne100/fold_0{f}/evaluate" for f in range(3)}
    cnn_refit = plan.tasks["cnn/default+thresh0.7/all/refit"]
    assert set(cnn_refit.deps) == {f"cnn/default+thresh0.7/fold_0{f}/evaluate" for f in range(3)}
    assert str(cnn_refit.recipe.command).startswith("python train.py")


def test_repeats_use_repeat_folders(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, '[models.fn]\nentry = "a:b"\n', folds=2, repeats=3)
    assert plan.n_repeats == 3
    assert stage_counts(plan, "fn") == {"train": 6, "predict": 6, "evaluate": 6, "refit": 1}
    task = plan.tasks["fn/default/repeat_02/fold_01/train"]
    assert (task.repeat, task.fold) == (2, 1)
    assert task.recipe.n_repeats == 3
    assert str(task.recipe.inputs["train"]).endswith("split/repeat_02/fold_01/train.csv")
    assert len(plan.tasks["fn/default/all/refit"].deps) == 6


def test_recipe_matches_the_architecture_contract(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, folds=3, holdout=4)
    for task in plan.tasks.values():
        assert task.recipe.run_dir == plan.run_dir
        assert task.recipe.spec_path == tmp_path / "foldrun.toml"
        assert task.recipe.n_repeats == 1 and task.recipe.seed == 0
    train = plan.tasks["rf/md4-ne300/fold_02/train"].recipe
    assert train.kind == "estimator"
    assert train.problem == "classification"
    assert train.params == {"max_depth": 4, "n_estimators": 300}
    assert train.estimator == "sklearn.ensemble:RandomForestClassifier"
    assert train.data == {
        "id": "id", "target": "label", "group": "patient", "features": ["x1", "x2"],
    }  # fmt: skip
    assert str(train.inputs["holdout"]).endswith("split/holdout.csv")
    assert train.upstream == {}
    evaluate = plan.tasks["cnn/default+thresh0.3/fold_00/evaluate"].recipe
    assert evaluate.command is None
    assert evaluate.params == {"lr": 3e-4, "threshold": 0.3}
    assert evaluate.upstream == {
        "train": str(plan.run_dir / "tasks/cnn/default/fold_00/train"),
        "predict": str(plan.run_dir / "tasks/cnn/default+thresh0.3/fold_00/predict"),
    }
    assert plan.tasks["fn/default/fold_00/train"].recipe.entry == "mypkg.cv:run_fold"


def test_the_last_stage_of_each_outer_fold_says_so(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, folds=3)
    last = {k for k, t in plan.tasks.items() if t.recipe.last_in_fold}
    assert last == {k for k, t in plan.tasks.items() if t.stage == "evaluate"}


def test_tasks_pickle_whole(tmp_path: Path) -> None:
    # the local backend and SLURM workers get their tasks pickled
    plan = plan_for(tmp_path, folds=3, holdout=4)
    back = pickle.loads(pickle.dumps(plan.tasks, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == plan.tasks
    assert [t.recipe for t in back.values()] == [t.recipe for t in plan.tasks.values()]


def test_refit_trains_on_every_non_holdout_row(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, folds=3, holdout=4)
    refit = plan.tasks["fn/default/all/refit"].recipe.inputs
    assert refit["val"] is None and refit["test"] is None
    with open(refit["train"]) as fh:
        ids = sorted(row["id"] for row in csv.DictReader(fh))
    with open(refit["holdout"]) as fh:
        held = {row["id"] for row in csv.DictReader(fh)}
    assert len(held) == 4
    assert ids == sorted({f"s{i:03d}" for i in range(40)} - held)


def test_resources_defaults_model_stage(tmp_path: Path) -> None:
    plan = plan_for(tmp_path)
    assert plan.tasks["rf/md4-ne100/fold_00/train"].resources == Resources(2, 0, 8192, 60)
    assert plan.tasks["cnn/default/fold_00/train"].resources == Resources(4, 1, 32768, 1440)
    predict = plan.tasks["cnn/default+thresh0.3/fold_00/predict"]
    assert predict.resources == Resources(1, 1, 32768, 1440)
    # evaluate is foldrun's own light stage: defaults only, no GPU
    evaluate = plan.tasks["cnn/default+thresh0.3/fold_00/evaluate"]
    assert evaluate.resources == Resources(2, 0, 8192, 60)


def test_select_keeps_dependencies(tmp_path: Path) -> None:
    plan = plan_for(tmp_path)
    sub = plan.select(models=["cnn"], folds=[1], stages=["evaluate"])
    assert set(sub.tasks) == {
        "cnn/default/fold_01/train",
        *(
            f"cnn/default+thresh{t}/fold_01/{s}"
            for t in (0.3, 0.5, 0.7)
            for s in ("predict", "evaluate")
        ),
    }
    assert all(sub.tasks[k] is plan.tasks[k] for k in sub.tasks)
    assert list(sub.tasks) == [k for k in plan.tasks if k in sub.tasks]  # plan order kept
    one = plan.select(models=["rf/md8-ne300"], stages=["train"])
    assert set(one.tasks) == {f"rf/md8-ne300/fold_0{f}/train" for f in range(3)}
    # every task of this plan leads to a refit
    assert len(plan.select(stages=["refit"]).tasks) == len(plan.tasks)
    assert plan.select(stages=["refit"]).count(stage="refit") == 8


def test_task_inference_regression_and_multilabel(tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path, '[models.m]\nentry = "a:b"\n')
    spec = load_spec(spec_path)
    assert build_plan(spec).tasks["m/default/fold_00/train"].recipe.problem == "classification"
    spec_path.write_text(spec_path.read_text().replace('target = "label"', 'target = "x1"'))
    task = build_plan(load_spec(spec_path)).tasks["m/default/fold_00/train"]
    assert task.recipe.problem == "regression"
    assert task.recipe.data["features"] == ["x2", "label"]
    spec_path.write_text(spec_path.read_text().replace('target = "x1"', 'target = ["label"]'))
    assert build_plan(load_spec(spec_path)).tasks["m/default/fold_00/train"].recipe.problem == (
        "multilabel"
    )


def test_a_thousand_tasks_plan(tmp_path: Path) -> None:
    models = """
[models.rf]
estimator = "sklearn.ensemble:RandomForestClassifier"
grid = { n_estimators = [50, 100, 200, 400, 800, 1600], max_depth = [2, 4, 8, 16, 32] }
[models.cmd]
train = "true {train} {lr}"
predict = "true {test} {predictions} {threshold}"
grid = { lr = [0.1, 0.01] }
[models.cmd.stages.predict]
grid = { threshold = [0.3, 0.5, 0.7] }
"""
    plan = plan_for(tmp_path, models, folds=10)
    # rf: 30 variants x (10 folds x 3 stages + refit); cmd: 2 x 10 train + 6 x 10 x 2
    assert len(plan.tasks) == 30 * 31 + 20 + 120 == 1070
    assert len({t.fingerprint for t in plan.tasks.values()}) == len(plan.tasks)
    assert len({t.task_dir for t in plan.tasks.values()}) == len(plan.tasks)


def test_missing_table_at_planning_is_a_data_error(tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path, '[models.m]\nentry = "a:b"\n')
    (tmp_path / "samples.csv").unlink()
    with pytest.raises(DataError, match="data table not found"):
        build_plan(load_spec(spec_path))
    # with features and task given, planning still checks the features against the table's
    # header (a missing feature column would fail every task), so the table must be there
    spec_path.write_text(
        spec_path.read_text().replace(
            'target = "label"', 'target = "label"\nfeatures = ["x1"]\ntask = "regression"'
        )
    )
    with pytest.raises(DataError, match="not found"):
        build_plan(load_spec(spec_path))


def test_curves_reach_the_train_and_refit_tasks_and_leave_fingerprints_alone(
    tmp_path: Path,
) -> None:
    model = '[models.cmd]\ntrain = "true {out}"\npredict = "true {test} {predictions}"\n'
    plain = build_plan(load_spec(write_spec(tmp_path, model)))
    declared = model + 'curves = { file = "{out}/history.csv", format = "wide" }\n'
    plan = build_plan(load_spec(write_spec(tmp_path, declared)))
    assert {k: t.fingerprint for k, t in plan.tasks.items()} == {
        k: t.fingerprint for k, t in plain.tasks.items()}  # fmt: skip
    for task in plan.tasks.values():
        expected = {"file": "{out}/history.csv", "format": "wide"}
        assert task.recipe.curves == (expected if task.stage in ("train", "refit") else None)
