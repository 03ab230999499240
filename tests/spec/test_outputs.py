"""`metrics = [...]` and `[models.X.predictions]`: the program's own files, checked against
the spec alone (file placeholders, the format's keys, the stage that writes them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from foldrun.spec import parse_spec

HEAD = """\
name = "demo"
[data]
table = "samples.csv"
target = "label"
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "foldrun.toml"
    path.write_text(HEAD + text)
    spec, found = parse_spec(path)
    assert (spec is None) == bool(found)
    return [p.line().split(": ", 1)[1] for p in found]


def test_every_kind_of_metrics_file_and_the_predictions_columns_load(tmp_path: Path) -> None:
    found = problems(tmp_path, """\
[models.m]
train = "python train.py {train} {out}"
predict = "python predict.py {test} {predictions}"
evaluate = "python score.py {out} {fold1}"
metrics = [
  { file = "{out}/metadata.json" },
  { file = "{out}/summary.json", keys = { "test/auc" = "fold.metrics.auc" } },
  { file = "{out}/metrics.csv", format = "long", split = "split" },
  { file = "{out}/scores_{fold1}.csv", format = "wide", prefix = "test/" },
  { file = "eval/{model}.toml" },
  { file = "{out}/m.yaml" },
]
predictions = { id = "record_id", proba = "prob" }
[models.m.stages.train]
metrics = [{ file = "{out}/train.tsv" }]
""")
    assert found == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('{ file = "{out}/m.out" }', "cannot tell the format of '{out}/m.out'"),
        ('{ file = "{out}/m.json", format = "long" }', "format 'long' does not fit"),
        ('{ file = "{out}/m.csv", format = "json" }', "format 'json' does not fit"),
        ('{ file = "{out}/m.json", metric = "name" }', "metric name columns of a long"),
        ('{ file = "{out}/m.csv", format = "long", keys = { a = "b" } }', "remove keys"),
        ('{ file = " " }', "file is empty"),
        ('{ file = "{out}/m.json", keys = { "test/auc" = "" } }', "keys maps 'test/auc' to ''"),
        ('{ file = "{out}/m.json", colums = 1 }', "colums: unknown key"),
    ],
)
def test_a_metrics_file_that_cannot_be_read_as_declared_is_refused(
    tmp_path: Path, source: str, expected: str
) -> None:
    found = problems(tmp_path, f'[models.m]\ntrain = "python t.py"\nmetrics = [{source}]\n')
    assert len(found) == 1 and expected in found[0], found
    assert found[0].startswith("models.m.metrics")


def test_placeholders_of_a_metrics_file_are_those_of_its_stage(tmp_path: Path) -> None:
    found = problems(tmp_path, """\
[models.m]
train = "python t.py {out}"
predict = "python p.py {test} {predictions} {thr}"
metrics = [{ file = "{out}/fold_{fold1}_{thr}.json" }]
[models.m.stages.predict]
grid = { thr = [0.3, 0.5] }
[models.m.stages.train]
metrics = [{ file = "{out}/{thr}.json" }, { file = "{outt}/m.json" }]
""")
    assert len(found) == 2, found  # {thr} is predict's (and the model's metrics' stage)
    assert found[0].startswith("models.m.stages.train.metrics[0].file: unknown placeholder {thr}")
    assert found[1].startswith("models.m.stages.train.metrics[1].file: unknown placeholder "
                               "{outt}; did you mean 'out'?")  # fmt: skip


def test_metrics_on_foldruns_own_evaluate_or_an_estimator_are_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, """\
[models.m]
train = "python t.py {out}"
predict = "python p.py {test} {predictions}"
[models.m.stages.evaluate]
metrics = [{ file = "{out}/m.json" }]
[models.rf]
estimator = "sklearn.ensemble:RandomForestClassifier"
metrics = [{ file = "m.json" }]
""")
    assert any(f.startswith("models.m.stages.evaluate.metrics: evaluate is foldrun's own stage")
               for f in found)  # fmt: skip
    assert any(f.startswith("models.rf.metrics: an estimator model writes no metrics files "
                            "of its own") for f in found)  # fmt: skip


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('{ id = "record_id" }', "name the column of the predictions"),
        ('{ id = "rid", score = "s", proba = "p" }', "score and proba are both given"),
        ('{ id = "rid", pred = "rid" }', "column 'rid' is named twice"),
        ('{ id = "rid", proba = { "0" = "p", "1" = "p" } }', "column 'p' is named twice"),
        ('{ id = "rid", pred = "y", file = "{out}/p.txt" }', "must be a .csv, .tsv or .parquet"),
        ('{ id = "rid", proba = {} }', "proba is an empty table"),
    ],
)
def test_predictions_columns_that_cannot_work_are_refused(
    tmp_path: Path, table: str, expected: str
) -> None:
    found = problems(tmp_path, f'[models.m]\ntrain = "python t.py"\npredictions = {table}\n')
    assert len(found) == 1 and expected in found[0], found


def test_the_default_metrics_stage_is_the_last_program_stage(tmp_path: Path) -> None:
    from foldrun.spec.model import ModelSpec

    source = [{"file": "{out}/m.json"}]
    evaluate = ModelSpec(train="t", predict="p", evaluate="e", metrics=source)
    assert evaluate.metrics_stage == "evaluate"
    assert [m.file for m in evaluate.metrics_for("evaluate")] == ["{out}/m.json"]
    assert evaluate.metrics_for("predict") == [] and evaluate.metrics_for("train") == []
    assert ModelSpec(train="t", predict="p", metrics=source).metrics_stage == "predict"
    assert ModelSpec(train="t", metrics=source).metrics_stage == "train"
    own = ModelSpec(train="t", metrics=source, stages={"train": {"metrics": [{"file": "a.csv"}]}})
    assert [m.file for m in own.metrics_for("train")] == ["a.csv", "{out}/m.json"]
