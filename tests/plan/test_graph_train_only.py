"""A train-only command model plans no evaluate task (issue 24 item 9): a fold is one task
and one SLURM array element; its train task scores what it predicts. Other models keep
their evaluate, and the train task's fingerprint is what it was."""

from __future__ import annotations

from pathlib import Path

from foldrun.plan import build_plan
from foldrun.run.backends.slurm.arrays import group_tasks
from foldrun.spec import load_spec
from tests.spec.helpers import write_spec

MODELS = """
[models.qc]
train = "python train.py {train} {test} {out} {fold}"
refit = "python train.py {train} {train} {out} all"
[models.cnn]
train = "python train.py {train} {test} {out} {fold}"
predict = "python predict.py {test} {out} {predictions}"
[models.own]
train = "python train.py {train} {test} {out} {fold}"
evaluate = "python score.py {predictions}"
"""


def _plan(tmp_path: Path, models: str = MODELS):
    return build_plan(load_spec(write_spec(tmp_path, models, folds=5)))


def test_a_train_only_model_with_5_folds_plans_5_tasks_in_one_array(tmp_path: Path) -> None:
    plan = _plan(tmp_path, '[models.qc]\ntrain = "python train.py {train} {test} {out}"\n')
    assert [t.stage for t in plan.tasks.values()] == ["train"] * 5
    assert all(t.recipe.scores and t.recipe.last_in_fold for t in plan.tasks.values())
    groups = group_tasks(list(plan.tasks.values()))
    assert len(groups) == 1 and len(groups[0].tasks) == 5  # one SLURM array of 5 elements


def test_only_train_only_models_lose_their_evaluate(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    stages = {m: [t.stage for t in plan.tasks.values() if t.model == m and t.fold == 0]
              for m in ("qc", "cnn", "own")}  # fmt: skip
    assert stages == {"qc": ["train"], "cnn": ["train", "predict", "evaluate"],
                      "own": ["train", "evaluate"]}  # fmt: skip
    scoring = {t.key for t in plan.tasks.values() if t.recipe.scores}
    assert scoring == {f"qc/default/fold_0{f}/train" for f in range(5)}
    refit = plan.tasks["qc/default/all/refit"]  # waits for every fold's train
    assert refit.deps == tuple(f"qc/default/fold_0{f}/train" for f in range(5))


def test_the_train_tasks_fingerprints_are_unchanged(tmp_path: Path) -> None:
    """The same train task of a model with a predict step (which keeps its evaluate) has
    the fingerprint of the train-only model's: dropping evaluate changes no train task."""
    plan = _plan(tmp_path)
    for fold in range(5):
        qc, cnn = (plan.tasks[f"{m}/default/fold_0{fold}/train"] for m in ("qc", "cnn"))
        assert qc.fingerprint == cnn.fingerprint


def test_a_label_free_train_only_model_does_not_score(tmp_path: Path) -> None:
    head = 'name = "demo"\n[data]\ntable = "samples.csv"\nid = "id"\ngroup = "patient"\n'
    head += '[split]\nfrom = "split"\n'
    plan = build_plan(load_spec(write_spec(tmp_path, '[models.qc]\ntrain = "python t.py"\n',
                                           head=head, folds=3)))  # fmt: skip
    assert [t.recipe.scores for t in plan.tasks.values()] == [False] * 3
