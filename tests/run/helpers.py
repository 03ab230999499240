"""Hand-built plans for the run tests: a split folder in foldrun's format and
PlannedTask objects, so the runner is tested without the spec/plan code."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import StratifiedKFold

from foldrun.core.task import PlannedTask, Resources, TaskRecipe
from foldrun.layout import RunLayout


def cancer_table() -> pd.DataFrame:
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" ", "_"))
    frame.insert(0, "id", [f"s{i:03d}" for i in range(len(frame))])
    return frame


def write_split(run_dir: Path, table: pd.DataFrame, folds: int = 3) -> list[tuple[list, list]]:
    """split/fold_XX/{train,test}.csv, rows in input-table order; returns the index pairs."""
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    pairs = list(cv.split(table, table["target"]))
    for f, (train, test) in enumerate(pairs):
        folder = RunLayout(run_dir).split_dir / f"fold_{f:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        table.iloc[train].to_csv(folder / "train.csv", index=False)
        table.iloc[test].to_csv(folder / "test.csv", index=False)
    return pairs


def task(
    run_dir: Path,
    model: str,
    stage: str,
    fold: int = 0,
    variant: str = "default",
    deps: tuple[str, ...] = (),
    cpus: int = 1,
    gpus: int = 0,
    **recipe: object,
) -> PlannedTask:
    """A task of a command model on `split/<fold dir>`; `recipe` sets TaskRecipe fields."""
    fold_dir = "all" if fold == -1 else f"fold_{fold:02d}"
    key = f"{model}/{variant}/{fold_dir}/{stage}"
    split = RunLayout(run_dir).split_dir / fold_dir
    base: dict[str, Any] = {
        "kind": "command",
        "problem": "classification",
        "params": {},
        "inputs": {
            "train": str(split / "train.csv"),
            "val": None,
            "test": str(split / "test.csv"),
            "holdout": None,
        },
        "data": {"id": "id", "target": "target", "group": None, "features": []},
        "seed": 0,
        "spec_path": run_dir / "foldrun.toml",
        "run_dir": run_dir,
        "n_repeats": 1,
        "upstream": {d.split("/")[-1]: str(run_dir / "tasks" / d) for d in deps},
    }
    base.update(recipe)
    digest = hashlib.sha256(repr(sorted(base.items(), key=str)).encode()).hexdigest()
    return PlannedTask(
        key=key,
        model=model,
        variant=variant,
        fold=fold,
        repeat=0,
        stage=stage,
        deps=deps,
        resources=Resources(cpus=cpus, gpus=gpus),
        fingerprint=digest,
        task_dir=run_dir / "tasks" / key,
        recipe=TaskRecipe(**base),
    )


def chain(run_dir: Path, model: str, fold: int, **recipe: object) -> list[PlannedTask]:
    """train -> predict -> evaluate of one fold."""
    fd = f"{model}/default/fold_{fold:02d}"
    train = task(run_dir, model, "train", fold, **recipe)
    predict = task(run_dir, model, "predict", fold, deps=(f"{fd}/train",), **recipe)
    evaluate = task(
        run_dir, model, "evaluate", fold, deps=(f"{fd}/predict",), **{**recipe, "command": None}
    )
    return [train, predict, evaluate]


def save_plan(run_dir: Path, tasks: list[PlannedTask]) -> Path:
    path = run_dir / ".foldrun" / "plan.pickle"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps({t.key: t for t in tasks}))
    return path


TOY_MODEL = """
import csv, sys
train, test, out, predictions, counter, key = sys.argv[1:7]
with open(counter, "a") as fh:
    fh.write(key + "\\n")
if predictions == "-":  # train: remember the majority class
    rows = list(csv.DictReader(open(train)))
    labels = [r["target"] for r in rows]
    open(out + "/majority.txt", "w").write(max(set(labels), key=labels.count))
else:
    rows = list(csv.DictReader(open(test)))
    cls = open(out + "/majority.txt").read()
    with open(predictions, "w") as fh:
        fh.write("id,pred,score\\n")
        for i, r in enumerate(rows):
            fh.write(f"{r['id']},{cls},{(float(r['mean_radius']) % 7) / 7:.6f}\\n")
"""


def toy_project(root: Path, folds: int = 3, grid: int = 2) -> Path:
    """A spec with a command model (the runner makes the split); returns the spec path."""
    root.mkdir(parents=True, exist_ok=True)
    cancer_table().to_csv(root / "samples.csv", index=False)
    (root / "toy.py").write_text(TOY_MODEL)
    values = ", ".join(str(v) for v in range(grid))
    (root / "foldrun.toml").write_text(f'''
name = "toy"
[data]
table = "samples.csv"
id = "id"
target = "target"
task = "classification"
[split]
folds = {folds}
seed = 0
[models.toy]
train = "python toy.py {{train}} - {{out}} - {{counter}} {{model}}/{{variant}}/{{fold}}/train"
predict = """python toy.py - {{test}} {{out}} {{predictions}} {{counter}} \\
  {{model}}/{{variant}}/{{fold}}/predict"""
params = {{ counter = "{root / "counter.txt"}" }}
grid = {{ k = [{values}] }}
''')
    return root / "foldrun.toml"
