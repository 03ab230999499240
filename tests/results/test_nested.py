"""Nested selection (`[split] inner`): inner tasks are ordinary tasks of the plan, the outer
result tables never hold them, and the report's nested estimate is recomputed here from the
task folders alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from foldrun.plan import build_plan
from foldrun.spec import load_spec
from tests.reliability.helpers import MODEL, invoke, table

SPEC = """name = "nested"
[data]
table = "samples.csv"
id = "id"
target = "target"
task = "classification"
[split]
folds = 3
inner = 2
seed = 1
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
grid = { C = [0.001, 1.0, 1000.0] }
[models.toy]
train = "python model.py {train} - {out} - counter.txt t"
predict = "python model.py - {test} {out} {predictions} counter.txt p"
grid = { k = [1, 2] }
[models.one]
estimator = "sklearn.dummy:DummyClassifier"
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("nested")
    data = table(60)
    data["id"] = [f"{i:03d}" for i in range(60)]  # ids like 007 stay text
    data.to_csv(root / "samples.csv", index=False)
    (root / "model.py").write_text(MODEL)
    (root / "foldrun.toml").write_text(SPEC)
    done = invoke("run", str(root / "foldrun.toml"), "--jobs", "2", cwd=root)
    assert done.returncode == 0, done.stderr
    return root


def _ids(path: Path) -> set[str]:
    return set(pd.read_csv(path, dtype=str)["id"])


def test_inner_tasks_are_planned_for_models_with_variants_only(run: Path) -> None:
    plan = build_plan(load_spec(run / "foldrun.toml"))
    inner = [t for t in plan.tasks.values() if t.inner >= 0]
    # lr: 3 variants x 3 folds x 2 inner x (train, predict, evaluate); toy: 2 x 3 x 2 x 3
    assert len(inner) == 3 * 3 * 2 * 3 + 2 * 3 * 2 * 3
    assert not any(t.model == "one" for t in inner)
    refits = [t for t in plan.tasks.values() if t.stage == "refit"]
    assert all(not any("/inner_" in d for d in t.deps) for t in refits)
    task = plan.tasks["lr/C1.0/fold_01/inner_00/train"]
    assert task.fold == 1 and task.inner == 0
    assert task.task_dir == run / "runs/nested/tasks/lr/C1.0/fold_01/inner_00/train"


def test_inner_folds_never_see_the_outer_test_rows(run: Path) -> None:
    plan = build_plan(load_spec(run / "foldrun.toml"))
    for fold in range(3):
        outer = plan.tasks[f"lr/C1.0/fold_{fold:02d}/train"].recipe.inputs
        outer_test, outer_train = _ids(Path(str(outer["test"]))), _ids(Path(str(outer["train"])))
        tested = set()
        for inner in range(2):
            inputs = plan.tasks[f"lr/C1.0/fold_{fold:02d}/inner_{inner:02d}/train"].recipe.inputs
            train, test = _ids(Path(str(inputs["train"]))), _ids(Path(str(inputs["test"])))
            assert inputs["holdout"] is None
            assert not (train | test) & outer_test
            assert not train & test
            tested |= test
        assert tested == outer_train  # the inner folds partition the outer training part


def _metric(folder: Path, metric: str = "roc_auc") -> float:
    return json.loads((folder / "evaluate" / "metrics.json").read_text())[f"test/{metric}"]


def _recompute(run: Path, model: str, variants: list[str]) -> tuple[list[str], list[float]]:
    tasks = run / "runs/nested/tasks" / model
    chosen, scores = [], []
    for fold in range(3):
        inner = {v: np.mean([_metric(tasks / v / f"fold_{fold:02d}" / f"inner_{i:02d}")
                             for i in range(2)]) for v in variants}  # fmt: skip
        best = max(variants, key=lambda v: inner[v])
        chosen.append(best)
        scores.append(_metric(tasks / best / f"fold_{fold:02d}"))
    return chosen, scores


def test_nested_estimate_is_recomputed_from_the_task_folders(run: Path) -> None:
    done = invoke("report", str(run / "foldrun.toml"), cwd=run)
    assert done.returncode == 0, done.stderr
    summary = json.loads((run / "runs/nested/report/cv_summary.json").read_text())
    models = {m["model"]: m for m in summary["models"]}
    assert "nested" not in models["one"]  # nothing to choose from
    for model, variants in (("lr", ["C0.001", "C1.0", "C1000.0"]), ("toy", ["k1", "k2"])):
        nested = models[model]["nested"]
        chosen, scores = _recompute(run, model, variants)
        assert [c["variant"] for c in nested["chosen"]] == chosen
        assert [c["test"] for c in nested["chosen"]] == pytest.approx(scores)
        assert nested["mean"] == pytest.approx(np.mean(scores))
        assert nested["complete"] and nested["n"] == 3 and nested["inner_folds"] == 2
        assert nested["ci_low"] <= nested["mean"] <= nested["ci_high"]
    html = (run / "runs/nested/report/index.html").read_text()
    assert "Honest selection: nested cross-validation" in html
    assert "nested" in done.stdout


def test_outer_tables_and_counts_never_hold_inner_tasks(run: Path) -> None:
    invoke("report", str(run / "foldrun.toml"), cwd=run)
    tasks = pd.read_parquet(run / "runs/nested/results/tasks.parquet")
    assert not tasks["path"].str.contains("inner_").any()
    # 3 folds x 3 stages (+ refit for the estimators) per variant
    assert len(tasks) == 3 * 10 + 2 * 9 + 10
    metrics = pd.read_parquet(run / "runs/nested/results/metrics.parquet")
    one = metrics[(metrics["model"] == "lr") & (metrics["variant"] == "C1.0")
                  & (metrics["subset"] == "test") & (metrics["metric"] == "roc_auc")]  # fmt: skip
    assert sorted(one["fold"]) == [0, 1, 2]  # one row per outer fold, no inner row
    status = invoke("status", str(run / "foldrun.toml"), "--format", "json", cwd=run)
    body = json.loads(status.stdout)
    keys = [t["key"] for t in body["tasks"]]
    assert "lr/C1.0/fold_02/inner_01/evaluate" in keys
    assert body["counts"]["done"] == len(keys)  # inner tasks are tasks status shows


def test_second_run_redoes_nothing(run: Path) -> None:
    again = invoke("run", str(run / "foldrun.toml"), cwd=run)
    assert again.returncode == 0, again.stderr
    assert "0 task(s) run" in again.stdout or "nothing to run" in again.stdout.lower()


def test_a_missing_inner_task_leaves_its_fold_unchosen(run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run, copy, symlinks=True)
    shutil.rmtree(copy / "runs/nested/tasks/lr/C1.0/fold_01/inner_01/evaluate")
    # the run folder alone (no spec): what is on disk counts
    shutil.rmtree(copy / "runs/nested/results", ignore_errors=True)
    done = invoke("report", str(copy / "foldrun.toml"), cwd=copy)
    assert done.returncode == 0, done.stderr
    summary = json.loads((copy / "runs/nested/report/cv_summary.json").read_text())
    nested = {m["model"]: m for m in summary["models"]}["lr"]["nested"]
    assert nested["chosen"][1]["variant"] is None and nested["chosen"][1]["test"] is None
    assert nested["n"] == 2 and not nested["complete"]
    _, scores = _recompute(run, "lr", ["C0.001", "C1.0", "C1000.0"])
    assert nested["mean"] == pytest.approx(np.mean([scores[0], scores[2]]))
