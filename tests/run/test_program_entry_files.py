"""An entry function that keeps its own files (issue 24 items 1-2 for entry models): it
writes fold_N/metadata.json (seed 003) and its predictions as `record_id,prob` (seed 002)
to `ctx.predictions`, returns None, and the spec reads them; beside a command model and an
estimator in one run, ids like `007`. An estimator has no files to declare: a check line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import foldrun.api as fr
from foldrun.cli import cli

OWN = """
import json
import pandas as pd

def run_fold(ctx):
    if ctx.test is None:  # the refit: no holdout to predict
        return None
    folder = ctx.out / f"fold_{ctx.fold + 1}"
    folder.mkdir(exist_ok=True)
    json.dump({"model_type": "cnn", "metrics": {"test": {"acc": len(ctx.test) / 100}}},
              open(folder / "metadata.json", "w"))
    prob = (ctx.test["x1"] > -99).astype(float) * 0.2 + ctx.test[ctx.target] * 0.6
    pd.DataFrame({"record_id": ctx.test[ctx.id], "prob": prob}).to_csv(ctx.predictions,
                                                                      index=False)
    return None
"""

AUDIO = """
import csv, sys
train, test, predictions = sys.argv[1:4]
with open(predictions, "w") as fh:
    fh.write("record_id,prob\\n")
    for r in csv.DictReader(open(test)):
        fh.write(f"{r['id']},{0.8 if r['target'] == '1' else 0.3}\\n")
"""

SPEC = """\
name = "entryfiles"
[data]
table = "samples.csv"
id = "id"
target = "target"
task = "classification"
[split]
folds = 3
[models.own]
entry = "own:run_fold"
metrics = [{ file = "{out}/fold_{fold1}/metadata.json", \
             keys = { "test/acc" = "metrics.test.acc" } }]
predictions = { id = "record_id", proba = "prob" }
[models.audio]
train = "python audio.py {train} {test} {predictions}"
predictions = { id = "record_id", proba = "prob" }
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
"""


def _project(root: Path) -> Path:
    n = 30
    table = pd.DataFrame({"id": [f"{i:03d}" for i in range(n)],  # 007 stays 007
                          "x1": np.random.default_rng(0).normal(size=n).round(3),
                          "target": np.tile([0, 1], n // 2)})  # fmt: skip
    table.to_csv(root / "samples.csv", index=False)
    (root / "own.py").write_text(OWN)
    (root / "audio.py").write_text(AUDIO)
    (root / "foldrun.toml").write_text(SPEC)
    return root / "foldrun.toml"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("entryfiles")
    outcome = fr.Project.load(_project(root)).run(jobs=2)
    assert outcome.ok, [(f.key, f.reason) for f in outcome.failures]
    return root


def _task(root: Path, model: str, fold: int = 0, stage: str = "train") -> Path:
    return root / f"runs/entryfiles/tasks/{model}/default/fold_{fold:02d}/{stage}"


def test_an_entrys_own_metrics_file_and_predictions_columns_are_read(finished: Path) -> None:
    results = fr.Project.load(finished / "foldrun.toml").results()
    metrics = results.metrics[(results.metrics["model"] == "own") & (results.metrics["fold"] >= 0)]
    acc = metrics[metrics["metric"] == "acc"].set_index("fold")["value"].sort_index()
    assert list(acc.index) == [0, 1, 2] and np.allclose(acc, 0.1)  # 10 test rows per fold
    auc = metrics[(metrics["metric"] == "roc_auc") & (metrics["subset"] == "test")]
    assert len(auc) == 3 and np.allclose(auc["value"], 1.0)  # foldrun scored `prob`
    preds = results.predictions[results.predictions["model"] == "own"]
    assert sorted(preds["id"]) == [f"{i:03d}" for i in range(30)]  # ids as text
    assert "record_id" not in preds.columns and "score" in preds.columns
    assert not (_task(finished, "own") / "predictions.csv").exists()  # read, then parquet
    # the other kinds in the same run, untouched
    assert set(results.tasks.loc[results.tasks["model"] == "audio", "stage"]) == {"train"}
    assert set(results.tasks["state"]) == {"done"}


def _rerun(finished: Path, tmp_path: Path, code: str) -> tuple[fr.Project, object]:
    root = tmp_path / "copy"
    shutil.copytree(finished, root)
    (root / "own.py").write_text(code)  # code fingerprint: own's tasks are stale now
    project = fr.Project.load(root / "foldrun.toml")
    return project, project.run(models=["own"], folds=[0], force=True)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ("to_csv(ctx.predictions", "run_fold wrote no predictions file"),
        ("return None", "run_fold returned predictions, and [models.own.predictions] says"),
        ('"metadata.json"', "metadata.json (metrics[0]): the program wrote no such file"),
        ('"record_id":', "has no column 'record_id'"),
    ],
)
def test_a_declared_file_missing_or_wrong_fails_the_task(
    finished: Path, tmp_path: Path, edit: str, reason: str
) -> None:
    code = {
        "to_csv(ctx.predictions": OWN.replace("to_csv(ctx.predictions", "to_csv(ctx.out / 'x.csv'"),
        "return None": OWN.replace("return None", "return pd.DataFrame({'id': ctx.test[ctx.id]})"),
        '"metadata.json"': OWN.replace('"metadata.json"', '"meta.json"'),
        '"record_id":': OWN.replace('"record_id":', '"rid":'),
    }[edit]
    project, outcome = _rerun(finished, tmp_path, code)
    assert not outcome.ok
    failed = outcome.failed[0]
    assert failed.key == "own/default/fold_00/train" and reason in failed.tail[-1], failed.tail
    states = {t.key: t.state for t in project.status().tasks}
    assert states["own/default/fold_00/train"] != "done"  # never counted as done


@pytest.mark.parametrize(
    ("table", "key", "expected"),
    [
        ("[models.lr]", "models.lr.metrics", "an estimator model writes no metrics files"),
        ("[models.lr]", "models.lr.predictions", "an estimator model writes no predictions"),
        ("[models.lr]", "models.lr.stages.train.metrics", "remove stages.train.metrics"),
        ("[models.own]", "models.own.stages.predict.metrics", "predict is foldrun's own stage"),
    ],
)
def test_declarations_that_cannot_work_are_one_check_line(
    tmp_path: Path, table: str, key: str, expected: str
) -> None:
    spec = _project(tmp_path)
    lines = {
        "models.lr.metrics": 'metrics = [{ file = "{out}/m.json" }]',
        "models.lr.predictions": 'predictions = { id = "record_id", proba = "prob" }',
        "models.lr.stages.train.metrics":
            'stages = { train = { metrics = [{ file = "m.json" }] } }',
        "models.own.stages.predict.metrics":
            'stages = { predict = { metrics = [{ file = "m.json" }] } }',
    }  # fmt: skip
    text = SPEC + "\n" if table == "[models.lr]" else SPEC.replace(
        'entry = "own:run_fold"', 'entry = "own:run_fold"\n' + lines[key])  # fmt: skip
    if table == "[models.lr]":
        text = text + lines[key] + "\n"
    spec.write_text(text)
    result = CliRunner().invoke(cli, ["check", str(spec)])
    assert result.exit_code == 2
    problems = [line for line in result.output.splitlines() if line.startswith(str(spec))]
    assert problems == [f"{spec}: {key}: {problems[0].split(': ', 2)[2]}"], result.output
    assert expected in problems[0]
    assert not (tmp_path / "runs").exists()  # nothing written


def test_an_entry_fingerprint_changes_only_with_the_declaration(tmp_path: Path) -> None:
    from foldrun.plan import build_plan
    from foldrun.spec import load_spec

    spec = _project(tmp_path)
    before = build_plan(load_spec(spec)).tasks
    spec.write_text(SPEC.replace('proba = "prob" }\n[models.audio]', 'score = "prob" }\n'
                                 "[models.audio]"))  # fmt: skip
    after = build_plan(load_spec(spec)).tasks
    changed = {t.model for k, t in after.items() if t.fingerprint != before[k].fingerprint}
    assert changed == {"own"}
    json.dumps([t.recipe.predictions for t in after.values()])  # plain data, pickles to workers
