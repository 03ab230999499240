"""Inputs as the program expects them (issue 24 item 3): a model's own `features`, manifest
columns renamed, one fold table with `fold` and `subset` (seed 002's combined CSV), a flat
{group: fold} assignments file (seed 000's fold_assignments.json). No wrapper script."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

import foldrun.api as fr

# seed 002: one CSV with every fold, columns named as the program wants them
INCEPTION = """
import csv, json, sys
table, fold, predictions, out = sys.argv[1:5]
rows = list(csv.DictReader(open(table)))
json.dump({"columns": list(rows[0]), "n": len(rows)}, open(out + "/seen.json", "w"))
with open(predictions, "w") as fh:
    fh.write("id,score\\n")
    for r in rows:
        if r["fold"] == fold and r["subset"] == "test":
            fh.write(f"{r['id']},{float(r['label'])}\\n")
"""

# seed 000: a flat {subject: fold} map; the script picks its own training subjects
QC = """
import csv, json, sys
assignments, fold, test, predictions, out = sys.argv[1:6]
folds = json.load(open(assignments))
json.dump(folds, open(out + "/seen.json", "w"))
with open(predictions, "w") as fh:
    fh.write("id,score\\n")
    for r in csv.DictReader(open(test)):
        assert folds[r["patient"]] == int(fold), (r, fold)
        fh.write(f"{r['id']},{r['x1']}\\n")
"""

SPEC = """\
name = "inputs"
[data]
table = "samples.csv"
id = "id"
target = "target"
group = "patient"
task = "classification"
[split]
folds = 3
[models.inception]
train = "python inception.py {fold_table} {fold} {predictions} {out}"
features = ["path"]
manifests = { rename = { path = "image_rel_path", target = "label" } }
[models.qc]
train = "python qc.py {assignments} {fold} {test} {predictions} {out}"
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
features = ["x2"]
"""


def _project(root: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 30
    table = pd.DataFrame({"id": [f"{i:03d}" for i in range(n)],
                          "patient": [f"p{i // 3:02d}" for i in range(n)],
                          "path": [f"img/{i}.jpg" for i in range(n)],
                          "x1": rng.normal(size=n).round(3), "x2": rng.normal(size=n).round(3),
                          "target": np.tile([0, 1], n // 2)})  # fmt: skip
    table.to_csv(root / "samples.csv", index=False)
    (root / "inception.py").write_text(INCEPTION)
    (root / "qc.py").write_text(QC)
    (root / "foldrun.toml").write_text(SPEC)
    return root / "foldrun.toml"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inputs")
    outcome = fr.Project.load(_project(root)).run(jobs=2)
    assert outcome.ok, [(f.key, f.reason) for f in outcome.failures]
    return root


def _task(root: Path, model: str, fold: int = 0, stage: str = "train") -> Path:
    return root / f"runs/inputs/tasks/{model}/default/fold_{fold:02d}/{stage}"


def test_fold_table_holds_every_fold_in_the_programs_column_names(finished: Path) -> None:
    seen = json.loads((_task(finished, "inception") / "seen.json").read_text())
    # id, target and group kept, the model's one feature, renamed; x1/x2 dropped
    assert seen["columns"] == ["id", "label", "patient", "image_rel_path", "fold", "subset"]
    assert seen["n"] == 3 * 30  # every row in each of the 3 folds (train or test)
    table = pd.read_csv(_task(finished, "inception") / "fold_table.csv")
    assert table.groupby("fold")["subset"].value_counts().unstack()["test"].sum() == 30
    split = pd.read_csv(finished / "runs/inputs/split/fold_01/test.csv", dtype={"id": str})
    mine = table[(table["fold"] == 1) & (table["subset"] == "test")]
    assert sorted(mine["id"].map("{:03d}".format)) == sorted(split["id"])


def test_flat_assignments_map_is_by_group(finished: Path) -> None:
    seen = json.loads((_task(finished, "qc", 2) / "seen.json").read_text())
    nested = json.loads((finished / "runs/inputs/split/assignments.json").read_text())
    assert seen == nested["repeats"][0] and len(seen) == 10
    assert set(seen.values()) == {0, 1, 2}


def test_an_estimator_with_its_own_features_sees_only_them(finished: Path) -> None:
    model = joblib.load(_task(finished, "lr") / "model.joblib")
    fitted = model[-1] if hasattr(model, "steps") else model
    assert fitted.n_features_in_ == 1


def test_only_models_with_the_keys_change_fingerprints(tmp_path: Path) -> None:
    from foldrun.plan import build_plan
    from foldrun.spec import load_spec

    spec = _project(tmp_path)
    before = build_plan(load_spec(spec)).tasks
    spec.write_text(SPEC.replace('features = ["x2"]', 'features = ["x1"]'))
    after = build_plan(load_spec(spec)).tasks
    changed = {t.model for k, t in after.items() if t.fingerprint != before[k].fingerprint}
    assert changed == {"lr"}
    assert all("split" not in t.recipe.inputs for t in after.values() if t.model == "lr")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ('features = ["x2"]', 'models.lr.features: column \'x3\': not in samples.csv'),
        ('features = ["target"]', "features include 'target', the target column"),
        ("path = ", "models.inception.manifests.rename: column 'paht'"),
        ('target = "label"', "rename gives 'target' the name of the column 'patient'"),
    ],
)
def test_input_mistakes_are_check_lines(tmp_path: Path, edit: str, expected: str) -> None:
    from foldrun.plan.check import check_spec

    spec = _project(tmp_path)
    bad = {'features = ["x2"]': 'features = ["x3"]', 'features = ["target"]': None,
           "path = ": "paht = ", 'target = "label"': 'target = "patient"'}[edit]  # fmt: skip
    text = SPEC.replace('features = ["x2"]', 'features = ["target"]') if bad is None else (
        SPEC.replace(edit, bad))  # fmt: skip
    spec.write_text(text)
    lines = [p.line() for p in check_spec(spec)]
    assert len(lines) == 1 and expected in lines[0], lines


def test_an_external_set_needs_an_estimators_own_features(tmp_path: Path) -> None:
    from foldrun.plan.check import check_spec

    spec = _project(tmp_path)
    pd.DataFrame({"id": ["e1", "e2"], "target": [0, 1], "x1": [0.1, 0.2],
                  "path": ["a", "b"], "patient": ["q1", "q2"]}).to_csv(
        tmp_path / "bench.csv", index=False)  # fmt: skip
    spec.write_text(SPEC + '[external.bench]\ntable = "bench.csv"\n')
    lines = [p.line() for p in check_spec(spec)]
    assert len(lines) == 1 and "no column 'x2'" in lines[0], lines


# a predict reading its own column names, on the fold's test rows and on an external set
LOOK = """
import csv, json, os, sys
test, predictions, external = sys.argv[1:4]
rows = list(csv.DictReader(open(test)))
seen = os.path.join(os.path.dirname(predictions), f"seen_{external or 'fold'}.json")
json.dump(list(rows[0]), open(seen, "w"))
with open(predictions, "w") as fh:
    fh.write("id,score\\n")
    for r in rows:
        fh.write(f"{r['id']},{float(r['label'])}\\n")
"""


def test_external_sets_reach_the_program_reshaped_as_its_manifests(tmp_path: Path) -> None:
    spec = _project(tmp_path)
    (tmp_path / "look.py").write_text(LOOK)
    table = pd.read_csv(tmp_path / "samples.csv", dtype={"id": str, "patient": str})
    table.assign(id="b" + table["id"], patient="q" + table["patient"]).head(6).to_csv(
        tmp_path / "bench.csv", index=False)  # fmt: skip
    spec.write_text(SPEC + """
[external.bench]
table = "bench.csv"
[models.look]
train = "python -c pass"
predict = "python look.py {test} {predictions} {external}"
features = ["path"]
manifests = { rename = { path = "image_rel_path", target = "label" } }
""")
    outcome = fr.Project.load(spec).run(models=["look"], folds=[0])
    assert outcome.ok, [(f.key, f.reason, f.tail[-2:]) for f in outcome.failures]
    task = _task(tmp_path, "look", 0, "predict")
    expected = ["id", "label", "patient", "image_rel_path"]  # x1, x2 dropped, renamed
    assert json.loads((task / "seen_fold.json").read_text()) == expected
    assert json.loads((task / "seen_bench.json").read_text()) == expected
    preds = pd.read_parquet(task / "predictions.parquet")
    assert sorted(preds.loc[preds["subset"] == "external:bench", "id"]) == [
        f"b{i:03d}" for i in range(6)]  # fmt: skip
    assert not list(task.glob(".external.*"))  # the copy lived for the command only


# a program that reads the fold table and the flat map and checks them against its own
# {fold}, {repeat} and {test}: it fails (exit 1) when they are another repeat's folds
SELF_CHECK = """
import csv, json, os, sys
table, flat, fold, repeat, test, predictions = sys.argv[1:7]
rows = list(csv.DictReader(open(table)))
mine = sorted(r["id"] for r in rows if r["fold"] == fold and r["subset"] == "test")
tested = sorted(r["id"] for r in csv.DictReader(open(test)))
assert mine == tested, ("fold table", repeat, fold)
folds = json.load(open(flat))
assert {folds[r["patient"]] for r in csv.DictReader(open(test))} == {int(fold)}, "assignments"
seen = open(os.path.join(os.path.dirname(predictions), "seen.json"), "w")
json.dump({"repeat": int(repeat), "map": folds}, seen)
with open(predictions, "w") as fh:
    fh.write("id,score\\n" + "".join(f"{i},0.5\\n" for i in tested))
"""


def test_fold_table_and_assignments_are_the_tasks_repeat_and_dataset(tmp_path: Path) -> None:
    spec = _project(tmp_path)
    (tmp_path / "self_check.py").write_text(SELF_CHECK)
    head = SPEC.split("[models.inception]")[0].replace("folds = 3", "folds = 2\nrepeats = 2")
    spec.write_text(head + """
[datasets.all]
[datasets.few]
filter = "patient < 'p06'"
split = { seed = 7 }
[models.qc]
train = "python self_check.py {fold_table} {assignments} {fold} {repeat} {test} {predictions}"
""")
    outcome = fr.Project.load(spec).run(jobs=2)
    assert outcome.ok, [(f.key, f.reason, f.tail[-2:]) for f in outcome.failures]
    maps = {}
    for dataset in ("all", "few"):
        nested = json.loads((tmp_path / f"runs/inputs/split/{dataset}/assignments.json"
                             ).read_text())["repeats"]  # fmt: skip
        for repeat in (0, 1):
            for fold in (0, 1):
                seen = json.loads((tmp_path / f"runs/inputs/tasks/{dataset}/qc/default/repeat_"
                                   f"{repeat:02d}/fold_{fold:02d}/train/seen.json").read_text())
                assert seen == {"repeat": repeat, "map": nested[repeat]}
                maps[dataset, repeat] = seen["map"]
    assert maps["all", 0] != maps["all", 1]  # the repeats' folds differ: each got its own
    assert len(maps["few", 0]) == 6 and len(maps["all", 0]) == 10  # each dataset its own


def test_fold_table_with_inner_folds_is_a_check_line(tmp_path: Path) -> None:
    from foldrun.plan.check import check_spec

    spec = _project(tmp_path)
    spec.write_text(SPEC.replace("folds = 3", "folds = 3\ninner = 2").replace(
        'features = ["path"]\n', 'features = ["path"]\ngrid = { k = [1, 2] }\n'))  # fmt: skip
    lines = [p.line() for p in check_spec(spec)]
    assert len(lines) == 1 and "models.inception.train: {fold_table} holds the outer" in lines[0]
    spec.write_text(SPEC.replace("folds = 3", "folds = 3\ninner = 2"))  # one variant: no inner
    assert [p.line() for p in check_spec(spec)] == []
