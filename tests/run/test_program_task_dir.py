"""`{task_dir}`: this task's own folder, for a program that writes its files beside its
outputs (issue 24, seed 004): the evaluation writes metrics.csv in the output_dir its
eval.cfg names, once for the fold and once per external set; the declared metrics file
names that folder, so two evaluates running at once never read each other's file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import foldrun.api as fr

READ = "import sys\ncfg = dict(l.strip().split('=', 1) for l in open(sys.argv[1]) if '=' in l)\n"
PREDICT = """
import csv, sys
test, predictions = sys.argv[1:3]
with open(predictions, "w") as fh:
    fh.write("clip,prob\\n")
    for r in csv.DictReader(open(test)):
        fh.write(f"{r['clip']},{0.9 if r.get('label') == '1' else 0.2}\\n")
"""
EVALUATE = READ + """
import os
import pandas as pd
preds = pd.read_parquet(cfg["prediction_file"])
os.makedirs(cfg["output_dir"], exist_ok=True)
with open(os.path.join(cfg["output_dir"], "metrics.csv"), "w") as fh:
    fh.write(f"metric,value\\nrows,{len(preds)}\\nfold,{os.environ['FOLDRUN_FOLD']}\\n")
"""

SPEC = """\
name = "calls"
[data]
table = "clips.csv"
id = "clip"
target = "label"
task = "classification"
[split]
folds = 2
[external.bench]
table = "bench.csv"
[models.spot]
train = "python -c pass"
predict = "python predict.py {test} {predictions}"
evaluate = "python start_evaluation.py {config}"
predictions = { id = "clip", score = "prob" }
metrics = [{ file = "{task_dir}/{external}/metrics.csv", prefix = "test/" }]
[models.spot.stages.evaluate.config]
template = "cfg/eval.cfg"
set = { prediction_file = "{predictions}", output_dir = "{task_dir}/{external}" }
[models.plain]
estimator = "sklearn.dummy:DummyClassifier"
"""


def _project(root: Path) -> Path:
    n = 20
    clips = pd.DataFrame({"clip": [f"{i:03d}" for i in range(n)],  # 007 stays 007
                          "x": np.random.default_rng(0).normal(size=n),
                          "label": np.tile([0, 1], n // 2)})  # fmt: skip
    clips.to_csv(root / "clips.csv", index=False)
    clips.assign(clip="b" + clips["clip"]).head(7).to_csv(root / "bench.csv", index=False)
    (root / "cfg").mkdir()
    (root / "cfg/eval.cfg").write_text("prediction_file=\noutput_dir=\n")
    (root / "predict.py").write_text(PREDICT)
    (root / "start_evaluation.py").write_text(EVALUATE)
    (root / "foldrun.toml").write_text(SPEC)
    return root / "foldrun.toml"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("taskdir")
    outcome = fr.Project.load(_project(root)).run(jobs=2)
    assert outcome.ok, [(f.key, f.reason, f.tail[-2:]) for f in outcome.failures]
    return root


@pytest.mark.parametrize("fold", [0, 1])
def test_an_evaluates_metrics_csv_in_its_own_folder(finished: Path, fold: int) -> None:
    task = finished / f"runs/calls/tasks/spot/default/fold_{fold:02d}/evaluate"
    assert (task / "metrics.csv").is_file() and (task / "bench/metrics.csv").is_file()
    metrics = json.loads((task / "metrics.json").read_text())
    assert metrics["test/fold"] == fold  # its own file, never the other fold's
    assert metrics["test/rows"] == 10 and metrics["external:bench/rows"] == 7
    assert f"output_dir={task}/bench" in (task / "eval.bench.cfg").read_text()
    assert not (finished / "metrics.csv").exists()  # nothing beside the spec


def test_task_dir_is_a_built_in_name(tmp_path: Path) -> None:
    from foldrun.plan.check import check_spec

    spec = _project(tmp_path)
    spec.write_text(SPEC.replace('score = "prob" }', 'score = "prob" }\n'
                                 'params = { task_dir = "x" }'))  # fmt: skip
    lines = [p.line() for p in check_spec(spec)]
    assert len(lines) == 1 and "models.spot.params.task_dir" in lines[0], lines
    assert "foldrun's own placeholder {task_dir}" in lines[0]
    spec.write_text(SPEC.replace("{task_dir}/{external}/metrics", "{task_dri}/{external}/metrics"))
    lines = [p.line() for p in check_spec(spec)]
    assert len(lines) == 1 and "unknown placeholder {task_dri}" in lines[0], lines
