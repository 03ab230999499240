"""Grouping tasks into arrays and chaining the arrays."""

from __future__ import annotations

from pathlib import Path

from foldrun.core.task import Resources
from foldrun.run.backends.slurm.arrays import group_tasks

from .conftest import cv_tasks, make_task

RUN = Path("/r")


def deps_of(groups, ids=None):  # type: ignore[no-untyped-def]
    ids = ids or {n: f"J{n}" for n in range(len(groups))}
    return [g.dependency(ids) for g in groups]


def test_cv_pipeline_is_four_arrays_chained_by_aftercorr() -> None:
    groups = group_tasks(cv_tasks(RUN, folds=3))
    assert [(g.stage, len(g.tasks)) for g in groups] == [
        ("train", 3),
        ("predict", 3),
        ("evaluate", 3),
        ("refit", 1),
    ]
    assert deps_of(groups) == ["", "aftercorr:J0", "aftercorr:J1", "afterok:J2"]


def test_order_is_aligned_with_the_parent_array() -> None:
    tasks = cv_tasks(RUN, folds=4)
    trains = [t for t in tasks if t.stage == "train"]
    predicts = [t for t in tasks if t.stage == "predict"][::-1]  # reversed on purpose
    groups = group_tasks(trains + predicts)
    train_group, predict_group = groups
    for train, predict in zip(train_group.tasks, predict_group.tasks, strict=True):
        assert predict.deps == (train.key,)
    assert deps_of(groups)[1] == "aftercorr:J0"


def test_one_refit_after_every_fold_is_plain_afterok() -> None:
    groups = group_tasks(cv_tasks(RUN, folds=3))
    assert not any(g.check_deps for g in groups)


def test_stage_grid_fan_out_waits_on_the_whole_parent() -> None:
    trains = [make_task(RUN, "m", "base", f, "train") for f in range(3)]
    predicts = [
        make_task(RUN, "m", f"t{thr}", f, "predict", (trains[f].key,))
        for f in range(3)
        for thr in (3, 5)
    ]
    groups = group_tasks(trains + predicts)
    # each predict needs its own train: wait for all to end, the job checks its own parent
    assert deps_of(groups) == ["", "afterany:J0"]
    assert groups[1].check_deps


def test_partial_parent_gets_per_element_dependencies() -> None:
    trains = [make_task(RUN, "m", "v", f, "train") for f in range(3)]
    refit = make_task(RUN, "m", "v", -1, "refit", (trains[0].key, trains[2].key))
    groups = group_tasks([*trains, refit])
    assert deps_of(groups)[1] == "afterok:J0_0:J0_2"


def test_resource_classes_get_their_own_arrays() -> None:
    gpu = Resources(cpus=4, gpus=1, mem_mb=32768, time_min=600)
    tasks = cv_tasks(RUN, 3, model="cnn", resources=gpu) + cv_tasks(RUN, 3, model="lr")
    groups = group_tasks(tasks)
    labels = [g.label for g in groups]
    assert labels == [
        "train-c4-g1-m32768-t600",
        "train-c1-g0-m4096-t60",
        "predict-c4-g1-m32768-t600",
        "predict-c1-g0-m4096-t60",
        "evaluate-c1-g0-m4096-t60",
        "refit-c4-g1-m32768-t600",
        "refit-c1-g0-m4096-t60",
    ]
    deps = deps_of(groups)
    assert deps[2:4] == ["aftercorr:J0", "aftercorr:J1"]
    assert deps[4] == "afterany:J2,afterany:J3"  # 6 evaluates over two predict arrays
    assert groups[4].check_deps and not groups[2].check_deps


def test_parents_already_queued_are_waited_on_by_element() -> None:
    tasks = cv_tasks(RUN, folds=2)
    queued = {t.key: f"900_{n}" for n, t in enumerate(t for t in tasks if t.stage == "train")}
    todo = [t for t in tasks if t.key not in queued]
    groups = group_tasks(todo, queued)
    assert groups[0].stage == "predict"
    assert deps_of(groups)[0] == "afterany:900_0:900_1"
    assert groups[0].check_deps
