"""Config files rendered per task (issue 24 item 4): seed 004's programs are driven by
alpaca_server.cfg, predict.cfg and eval.cfg (key=value files its factory scripts wrote per
variant); here foldrun writes them, passes each as {config}, keeps it in the task folder,
records it in audit.log and fingerprints template and values. No factory, no wrapper."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import foldrun.api as fr

TRAIN_CFG = """\
# ANIMAL-SPOT training config
src_dir=/opt/animal-spot
data_dir=
model_dir=
sequence_len=300
n_fft=1024
hop_length=256
max_train_epochs=150
"""
PREDICT_CFG = "model_path=\ninput_file=\noutput_file=\nthreshold=0.5\n"
EVAL_CFG = "prediction_file=\ntruth_file=\nthreshold=0.5\n"

READ = "import sys\ncfg = dict(l.strip().split('=', 1) for l in open(sys.argv[1]) if '=' in l)\n"
TRAIN = READ + """
import os
assert os.path.exists(cfg["data_dir"]), cfg
open(os.path.join(cfg["model_dir"], "model.txt"), "w").write(cfg["sequence_len"])
"""
PREDICT = READ + """
import csv
assert open(cfg["model_path"]).read() == "400"
with open(cfg["output_file"], "w") as fh:
    fh.write("id,score\\n")
    for r in csv.DictReader(open(cfg["input_file"])):
        fh.write(f"{r['id']},{float(r['target'])}\\n")
"""
EVALUATE = READ + """
import json, os
import pandas as pd
preds = pd.read_parquet(cfg["prediction_file"]).merge(pd.read_csv(cfg["truth_file"]), on="id")
hits = ((preds["score"] > float(cfg["threshold"])) == (preds["target"] == 1)).mean()
task_dir = os.environ["FOLDRUN_TASK_DIR"]
json.dump({"test/accuracy": float(hits)}, open(os.path.join(task_dir, "metrics.json"), "w"))
"""

SPEC = """\
name = "calls"
[data]
table = "clips.csv"
id = "id"
target = "target"
task = "classification"
[split]
folds = 3
[models.spot]
train = "python start_training.py {config}"
predict = "python start_prediction.py {config}"
evaluate = "python start_evaluation.py {config}"
params = { sequence_len = 400, n_fft = 2048, threshold = 0.3 }
grid = { hop_length = [512, 1024] }
[models.spot.config]
template = "cfg/alpaca_server.cfg"
set = { data_dir = "{train}", model_dir = "{out}", sequence_len = "{sequence_len}", \
        n_fft = "{n_fft}", hop_length = "{hop_length}" }
[models.spot.stages.predict.config]
template = "cfg/predict.cfg"
set = { model_path = "{out}/model.txt", input_file = "{test}", output_file = "{predictions}" }
[models.spot.stages.evaluate.config]
template = "cfg/eval.cfg"
set = { prediction_file = "{predictions}", truth_file = "{test}", threshold = "{threshold}" }
[models.plain]
estimator = "sklearn.dummy:DummyClassifier"
"""


def _project(root: Path) -> Path:
    n = 24
    rng = np.random.default_rng(0)
    pd.DataFrame({"id": [f"c{i:02d}" for i in range(n)], "x": rng.normal(size=n),
                  "target": np.tile([0, 1], n // 2)}).to_csv(root / "clips.csv", index=False)
    (root / "cfg").mkdir()
    for name, text in (("alpaca_server.cfg", TRAIN_CFG), ("predict.cfg", PREDICT_CFG),
                       ("eval.cfg", EVAL_CFG)):  # fmt: skip
        (root / "cfg" / name).write_text(text)
    for name, code in (("start_training", TRAIN), ("start_prediction", PREDICT),
                       ("start_evaluation", EVALUATE)):  # fmt: skip
        (root / f"{name}.py").write_text(code)
    (root / "foldrun.toml").write_text(SPEC)
    return root / "foldrun.toml"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("calls")
    outcome = fr.Project.load(_project(root)).run(jobs=2)
    assert outcome.ok, [(f.key, f.reason) for f in outcome.failures]
    return root


def test_three_cfg_files_per_task_in_the_task_folders(finished: Path) -> None:
    tasks = finished / "runs/calls/tasks/spot"
    variants = sorted(p.name for p in tasks.iterdir())
    assert len(variants) == 2
    cfg = (tasks / variants[1] / "fold_02/train/alpaca_server.cfg").read_text().splitlines()
    assert cfg[0] == "# ANIMAL-SPOT training config" and cfg[1] == "src_dir=/opt/animal-spot"
    assert cfg[4:7] == ["sequence_len=400", "n_fft=2048", "hop_length=512"] or cfg[4:7] == [
        "sequence_len=400", "n_fft=2048", "hop_length=1024"]
    assert cfg[2].startswith("data_dir=/") and cfg[2].endswith("fold_02/train.csv")
    assert cfg[7] == "max_train_epochs=150"  # the template's own values stay
    predict = (tasks / variants[0] / "fold_00/predict/predict.cfg").read_text()
    assert "threshold=0.5" in predict and "/fold_00/train/model.txt" in predict
    evaluate = (tasks / variants[0] / "fold_00/evaluate/eval.cfg").read_text()
    assert "threshold=0.3" in evaluate
    metrics = json.loads((tasks / variants[0] / "fold_00/evaluate/metrics.json").read_text())
    assert metrics["test/accuracy"] == 1.0


def test_the_config_is_in_the_audit_log(finished: Path) -> None:
    lines = [line for line in (finished / "runs/calls/audit.log").read_text().splitlines()
             if "| command | config " in line]  # fmt: skip
    assert len(lines) == 2 * 3 * 3  # variants x folds x (train, predict, evaluate)
    assert any("eval.cfg sha256 " in line and '"threshold": 0.3' in line for line in lines)


def test_an_edited_template_makes_only_its_tasks_stale(finished: Path, tmp_path: Path) -> None:
    from foldrun.plan import build_plan
    from foldrun.spec import load_spec

    root = tmp_path / "copy"
    shutil.copytree(finished, root)
    before = build_plan(load_spec(root / "foldrun.toml")).tasks
    (root / "cfg/predict.cfg").write_text(PREDICT_CFG.replace("0.5", "0.6"))
    after = build_plan(load_spec(root / "foldrun.toml")).tasks
    changed = {(t.model, t.stage) for k, t in after.items()
               if t.fingerprint != before[k].fingerprint}  # fmt: skip
    assert changed == {("spot", "predict"), ("spot", "evaluate")}  # evaluate follows predict
    assert all(t.recipe.program_inputs is None for t in after.values() if t.model == "plain")
    status = fr.Project.load(root / "foldrun.toml").status()
    assert {t.state for t in status.tasks if t.model == "plain"} == {"done"}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("cfg/eval.cfg", "cfg/evil.cfg"), "models.spot.stages.evaluate.config.template: "
         "template 'cfg/evil.cfg' not found"),
        (('threshold = "{threshold}"', 'threshold = "{treshold}"'),
         "models.spot.evaluate: config.set: unknown placeholder {treshold}"),
        (('estimator = "sklearn.dummy:DummyClassifier"',
          'train = "python start_training.py {config}"'),
         "models.plain.train: {config} is used but this stage has no config file"),
    ],
)
def test_config_mistakes_are_check_lines(
    tmp_path: Path, edit: tuple[str, str], expected: str
) -> None:
    from foldrun.plan.check import check_spec

    spec = _project(tmp_path)
    spec.write_text(SPEC.replace(*edit))
    lines = [p.line() for p in check_spec(spec)]
    assert len(lines) == 1 and expected in lines[0], lines


def test_the_config_is_never_written_outside_the_task_folder(tmp_path: Path) -> None:
    """The template itself, or any file of the user's, is never replaced by a rendering."""
    from foldrun.plan.check import check_spec

    spec = _project(tmp_path)
    for file in ("../cfg/alpaca_server.cfg", "/tmp/x.cfg", "~/x.cfg"):
        spec.write_text(SPEC.replace('template = "cfg/alpaca_server.cfg"',
                                     f'template = "cfg/alpaca_server.cfg"\nfile = "{file}"'))
        lines = [p.line() for p in check_spec(spec)]
        assert len(lines) == 1 and "must be a path inside the task folder" in lines[0], lines
    # a value that leaves the folder: the task fails in one line, nothing written there
    spec.write_text(SPEC.replace('template = "cfg/alpaca_server.cfg"',
                                 'template = "cfg/alpaca_server.cfg"\nfile = "{dest}"')
                    .replace("threshold = 0.3 }", 'threshold = 0.3, dest = "../../../../x.cfg" }'))
    outcome = fr.Project.load(spec).run(models=["spot"], folds=[0], stages=["train"])
    assert not outcome.ok
    assert all("outside the task folder" in f.reason + " ".join(f.tail) for f in outcome.failures)
    assert (tmp_path / "cfg/alpaca_server.cfg").read_text() == TRAIN_CFG
    assert not list(tmp_path.rglob("x.cfg"))


FOLD_ROWS_ONLY = READ + """
import json, os
import pandas as pd
preds = pd.read_parquet(cfg["prediction_file"])
assert preds["subset"].nunique() == 1, sorted(set(preds["subset"]))  # one part at a time
truth = pd.read_csv(cfg["truth_file"])
assert set(preds["id"]) == set(truth["id"].astype(str)), "predictions of another table"
hits = ((preds["score"] > 0.5) == preds["id"].map(truth.set_index("id")["target"]).eq(1)).mean()
task_dir = os.environ["FOLDRUN_TASK_DIR"]
json.dump({"test/accuracy": float(hits)}, open(os.path.join(task_dir, "metrics.json"), "w"))
"""


def test_a_config_driven_program_scores_an_external_set(tmp_path: Path) -> None:
    """Seed 004 predicts and evaluates its benchmark corpus through predict.cfg and eval.cfg:
    the config is rendered again for each external set ({test}, {predictions}, {external}
    of the set, `predict.bench.cfg` beside the fold's), and for the evaluate's fold rows
    (the predictions without the set's). The config named the fold's files: the predict
    failed ('wrote no predictions for external set bench') and the evaluate scored the
    fold together with the set."""
    spec = _project(tmp_path)
    (tmp_path / "start_evaluation.py").write_text(FOLD_ROWS_ONLY)
    pd.DataFrame({"id": [f"b{i:02d}" for i in range(8)], "x": 0.0,
                  "target": np.tile([0, 1], 4)}).to_csv(tmp_path / "bench.csv", index=False)
    spec.write_text(SPEC.replace('[models.plain]\nestimator = "sklearn.dummy:DummyClassifier"\n',
                                 '[external.bench]\ntable = "bench.csv"\n'))
    outcome = fr.Project.load(spec).run(folds=[0], jobs=2)
    assert outcome.ok, [(f.key, f.reason, f.tail) for f in outcome.failures]
    task = next((tmp_path / "runs/calls/tasks/spot").glob("*/fold_00"))
    again = dict(line.split("=", 1) for line in (task / "predict/predict.bench.cfg")
                 .read_text().splitlines() if "=" in line)  # fmt: skip
    assert again["output_file"].endswith("predictions.bench.csv")
    assert "fold_00" not in again["input_file"]  # the set's table, not the fold's test rows
    assert (task / "evaluate/eval.bench.cfg").is_file()
    metrics = json.loads((task / "evaluate/metrics.json").read_text())
    assert {"test/accuracy", "external:bench/accuracy"} <= set(metrics)
