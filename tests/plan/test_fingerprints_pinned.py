"""The fingerprints of representative plans, pinned: a change to how a task is described
(its fields, their types) must leave every fingerprint byte for byte as it was, so the task
folders of a run made by an older foldrun stay done.

The specs read hand-written tables and split folders (`[split] from`), never the split
code, and foldrun's version (part of every fingerprint) is held at the one the fixture was
made with. `FOLDRUN_PIN_FINGERPRINTS=1` rewrites the fixture (only when a fingerprint is
meant to change)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from foldrun.plan import build_plan
from foldrun.spec import load_spec
from tests.spec.helpers import write_split, write_table

FIXTURE = Path(__file__).parents[1] / "fixtures" / "fingerprints.json"
VERSION = "0.1.0"  # foldrun's version when the fixture was made

HEAD = """\
name = "pinned"
[data]
table = "samples.csv"
id = "id"
target = "label"
group = "patient"
{data}[split]
from = "split"
"""
# every kind of model in one spec, a model grid, a stage grid, preprocessing, a user
# evaluate program, scorers, an external set, a holdout, a seed, racing
MIXED = """\
seed = 7
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
preprocess = ["sklearn.preprocessing:StandardScaler"]
params = { max_iter = 200 }
grid = { C = [0.1, 1.0] }
[models.ent]
entry = "ent:run_fold"
params = { depth = 3 }
[models.cmd]
train = "python train.py {train} {out} {lr}"
predict = "python predict.py {test} {out} {predictions} {threshold}"
evaluate = "python score.py {predictions} {out}"
refit = "python train.py {train} {out} {lr}"
params = { lr = 0.01 }
[models.cmd.stages.predict]
grid = { threshold = [0.3, 0.5] }
[models.pred]
predict = "python predict.py {test} - {predictions} 0"
[external.site2]
table = "site2.csv"
[report]
primary_metric = "balanced_accuracy"
lower_is_better = ["brier"]
scorers = { mcc = "sklearn.metrics:matthews_corrcoef", mine = "myscores:f" }
[race]
after = 2
"""
REGRESSION = """\
[models.ridge]
estimator = "sklearn.linear_model:Ridge"
grid = { alpha = [0.1, 1.0, 10.0] }
[models.ent]
entry = "ent:run_fold"
"""
REPEATS = """\
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
[models.cmd]
train = "python train.py {train} {out} 1"
predict = "python predict.py {test} {out} {predictions} 0"
"""
NESTED = """\
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
grid = { C = [0.1, 1.0] }
[models.one]
estimator = "sklearn.dummy:DummyClassifier"
[models.cmd]
train = "python train.py {train} {out} {k}"
predict = "python predict.py {test} {out} {predictions} 0"
grid = { k = [1, 2] }
"""
DATASETS = """\
[datasets.whole]
[datasets.small]
split = { from = "split_small" }
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
grid = { C = [0.1, 1.0] }
[models.ent]
entry = "ent:run_fold"
"""
CODE = {
    "ent.py": "def run_fold(ctx):\n    return None\n",
    "train.py": "import sys\nprint(sys.argv)\n",
    "predict.py": "import sys\nprint(sys.argv, 'p')\n",
    "score.py": "import sys\nprint(sys.argv, 's')\n",
}
SPECS = {  # name -> (models and more, lines of [data], split folder options)
    "mixed": (MIXED, "", {"folds": 3, "holdout": 4}),
    "regression": (REGRESSION, 'task = "regression"\nfeatures = ["x1"]\n', {"folds": 3}),
    "repeats": (REPEATS, "", {"folds": 3, "repeats": 2}),
    "nested": (NESTED, "", {"folds": 3}),
    "datasets": (DATASETS, "", {"folds": 3}),
}


def project(folder: Path, name: str) -> Path:
    text, data, options = SPECS[name]
    rows = write_table(folder / "samples.csv")
    write_split(folder / "split", rows, **options)
    if name == "nested":  # two inner folds of every fold's training part
        _inner_folds(folder / "split")
    if name == "mixed":
        write_table(folder / "site2.csv", 10)
    if name == "datasets":  # a dataset of its own split folder: 24 of the rows, 2 folds
        write_split(folder / "split_small", rows[:24], folds=2)
    for file, code in CODE.items():
        (folder / file).write_text(code)
    path = folder / "foldrun.toml"
    path.write_text(HEAD.replace("{data}", data) + text)
    return path


def _inner_folds(root: Path) -> None:
    for fold in sorted(root.glob("fold_*")):
        with (fold / "train.csv").open(newline="") as fh:
            header, *rows = list(csv.reader(fh))
        for inner in range(2):
            folder = fold / f"inner_{inner:02d}"
            folder.mkdir()
            for part, chosen in (("train", 1 - inner), ("test", inner)):
                with (folder / f"{part}.csv").open("w", newline="") as fh:
                    writer = csv.writer(fh)
                    writer.writerow(header)
                    writer.writerows(r for i, r in enumerate(rows) if i % 2 == chosen)


def fingerprints(folder: Path, name: str) -> dict[str, str]:
    plan = build_plan(load_spec(project(folder, name)))
    return {key: task.fingerprint for key, task in plan.tasks.items()}


@pytest.fixture
def pinned_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("foldrun.plan.fingerprint.__version__", VERSION)


@pytest.mark.usefixtures("pinned_version")
def test_fingerprints_are_those_of_the_fixture(tmp_path: Path) -> None:
    found = {}
    for name in SPECS:
        (tmp_path / name).mkdir()
        found[name] = fingerprints(tmp_path / name, name)
    if os.environ.get("FOLDRUN_PIN_FINGERPRINTS") == "1":
        FIXTURE.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    expected = json.loads(FIXTURE.read_text())
    assert found.keys() == expected.keys()
    for name in SPECS:
        assert found[name] == expected[name], name
