"""Programs that keep their own files, read by the spec (issue 24): a train script writing
fold_N/metadata.json with nested metrics (seed 003), a model writing `record_id,prob`
(seed 002), a denoiser whose predict writes only files and whose evaluate writes a long
metrics CSV (seed 001). No converter, no edited program."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import foldrun.api as fr

# seed 003: the fold's metrics nested in <output>/fold_<N>/metadata.json
FIT = """
import csv, json, os, sys
train, test, out, fold1 = sys.argv[1:5]
n = sum(1 for _ in csv.DictReader(open(test)))
os.makedirs(os.path.join(out, f"fold_{fold1}"), exist_ok=True)
json.dump({"fold": int(fold1), "model_type": "svm",
           "metrics": {"val": {"acc": 0.5 + int(fold1) / 100}, "test": {"acc": n / 100}}},
          open(os.path.join(out, f"fold_{fold1}", "metadata.json"), "w"))
"""

# seed 002: the model's own columns, record_id and prob
AUDIO = """
import csv, sys
train, test, predictions = sys.argv[1:4]
with open(predictions, "w") as fh:
    fh.write("record_id,prob,healthCode\\n")
    for r in csv.DictReader(open(test)):
        fh.write(f"{r['id']},{0.8 if r['target'] == '1' else 0.3},{r['id']}x\\n")
"""

# seed 001: predict writes denoised files only; the ROI script scores them in long CSV rows
DENOISE = """
import csv, os, sys
test, out = sys.argv[1:3]
os.makedirs(os.path.join(out, "denoised"), exist_ok=True)
for r in csv.DictReader(open(test)):
    open(os.path.join(out, "denoised", r["id"] + "_denoised.npy"), "w").write(r["x1"])
"""
ROI = """
import os, sys
out, target = sys.argv[1:3]
n = len(os.listdir(os.path.join(out, "denoised")))
os.makedirs(os.path.dirname(target), exist_ok=True)
with open(target, "w") as fh:
    fh.write("metric,value,split\\n")
    fh.write(f"psnr,{30 + n / 10},test\\nsam,0.1,test\\n")
"""

SPEC = """\
name = "own"
[data]
table = "samples.csv"
id = "id"
target = "target"
task = "classification"
[split]
folds = 3
[models.deepfake]
train = "python fit.py {train} {test} {out} {fold1}"
metrics = [
  { file = "{out}/fold_{fold1}/metadata.json", keys = { "test/acc" = "metrics.test.acc" } },
  { file = "{out}/fold_{fold1}/metadata.json", prefix = "all/" },
]
[models.audio]
train = "python audio.py {train} {test} {predictions}"
predictions = { id = "record_id", proba = "prob" }
[models.denoiser]
train = "python -c pass"
predict = "python denoise.py {test} {out}"
evaluate = "python roi.py {out} roi/{model}_fold{fold1}.csv"
metrics = [{ file = "roi/{model}_fold{fold1}.csv", format = "long", split = "split" }]
"""


def _project(root: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 30
    table = pd.DataFrame({"id": [f"{i:03d}" for i in range(n)], "x1": rng.normal(size=n).round(3),
                          "target": np.tile([0, 1], n // 2)})  # fmt: skip
    table.to_csv(root / "samples.csv", index=False)
    for name, code in (("fit", FIT), ("audio", AUDIO), ("denoise", DENOISE), ("roi", ROI)):
        (root / f"{name}.py").write_text(code)
    (root / "foldrun.toml").write_text(SPEC)
    return root / "foldrun.toml"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("own")
    outcome = fr.Project.load(_project(root)).run(jobs=2)
    assert outcome.ok, [(f.key, f.reason) for f in outcome.failures]
    return root


def _metric(root: Path, model: str, metric: str, subset: str = "test") -> pd.Series:
    metrics = fr.Project.load(root / "foldrun.toml").results().metrics
    rows = metrics[(metrics["model"] == model) & (metrics["metric"] == metric)
                   & (metrics["subset"] == subset) & (metrics["fold"] >= 0)]  # fmt: skip
    return rows.set_index("fold")["value"].sort_index()


def test_nested_metadata_json_is_read_by_path(finished: Path) -> None:
    acc = _metric(finished, "deepfake", "acc")
    assert list(acc.index) == [0, 1, 2] and np.allclose(acc, 0.1)  # 10 test rows per fold
    train = json.loads((finished / "runs/own/tasks/deepfake/default/fold_01/train/metrics.json"
                        ).read_text())  # fmt: skip
    assert train["all/metrics/val/acc"] == 0.52 and train["all/fold"] == 2
    assert "all/model_type" not in train  # text is not a metric


def test_record_id_and_prob_are_scored_without_a_converter(finished: Path) -> None:
    auc = _metric(finished, "audio", "roc_auc")
    assert list(auc.index) == [0, 1, 2] and np.allclose(auc, 1.0)
    preds = fr.Project.load(finished / "foldrun.toml").results().predictions
    mine = preds[preds["model"] == "audio"]
    assert len(mine) == 30 and set(mine["id"]) == {f"{i:03d}" for i in range(30)}
    assert "healthCode" not in mine.columns and "score" in mine.columns


def test_a_train_only_model_is_one_task_per_fold_scored_as_it_completes(finished: Path) -> None:
    results = fr.Project.load(finished / "foldrun.toml").results()
    tasks = results.tasks[results.tasks["model"].isin(["audio", "deepfake"])]
    assert set(tasks["stage"]) == {"train"} and len(tasks) == 6 and set(tasks["state"]) == {"done"}
    auc = results.metrics[(results.metrics["model"] == "audio")
                          & (results.metrics["metric"] == "roc_auc")]  # fmt: skip
    assert set(auc["stage"]) == {"train", "evaluate"}  # the folds, and the pooled row
    pooled = auc[auc["subset"] == "pooled"]
    assert len(pooled) == 1 and pooled["value"].iloc[0] == 1.0
    preds = results.predictions[results.predictions["model"] == "audio"]
    assert (preds["y_true"].astype(int) == (preds["score"] > 0.5).astype(int)).all()


def test_a_predict_that_writes_only_files_then_a_long_metrics_csv(finished: Path) -> None:
    psnr = _metric(finished, "denoiser", "psnr")
    assert list(psnr.index) == [0, 1, 2] and np.allclose(psnr, 31.0)
    assert np.allclose(_metric(finished, "denoiser", "sam"), 0.1)


def test_a_declared_file_the_program_did_not_write_fails_the_task(
    finished: Path, tmp_path: Path
) -> None:
    root = tmp_path / "copy"
    shutil.copytree(finished, root)
    spec = root / "foldrun.toml"
    extra = 'split = "split" },\n  { file = "roi/x.json" }'
    spec.write_text(SPEC.replace('split = "split" }', extra))
    outcome = fr.Project.load(spec).run(models=["denoiser"], folds=[0], force=True)
    assert not outcome.ok
    failed = outcome.failed[0]
    assert failed.key == "denoiser/default/fold_00/evaluate"
    assert failed.tail[-1] == (f"foldrun: metrics file {root}/roi/x.json (metrics[1]): the "
                               "program wrote no such file; it must write it")  # fmt: skip
    states = {t.key: t.state for t in fr.Project.load(spec).status().tasks}
    assert states["denoiser/default/fold_00/evaluate"] != "done"  # never counted as done


# seed 004: the evaluation writes metrics.csv (one row per metric) for the fold and again
# for the benchmark corpus (an external set), to the same path each time
SCORE_CSV = """
import csv, sys
test, target = sys.argv[1:3]
n = sum(1 for _ in csv.DictReader(open(test)))
open(target, "w").write(f"metric,value\\nrows,{n}\\nf1_call,0.5\\n")
"""


def test_declared_metrics_of_a_user_evaluate_on_an_external_set(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "score_csv.py").write_text(SCORE_CSV)
    table = pd.read_csv(tmp_path / "samples.csv", dtype={"id": str})
    table.assign(id="b" + table["id"]).head(7).to_csv(tmp_path / "bench.csv", index=False)
    (tmp_path / "foldrun.toml").write_text(SPEC.split("[models.deepfake]")[0] + """
[external.bench]
table = "bench.csv"
[models.spot]
train = "python -c pass"
predict = "python audio.py {train} {test} {predictions}"
evaluate = "python score_csv.py {test} metrics.csv"
predictions = { id = "record_id", proba = "prob" }
metrics = [{ file = "metrics.csv", prefix = "test/" }]
""")
    # one job: with two, two folds' evaluates write the one metrics.csv at once (a race of
    # the program's fixed path that foldrun does not yet serialise; see the note)
    outcome = fr.Project.load(tmp_path / "foldrun.toml").run(jobs=1)
    assert outcome.ok, [(f.key, f.reason, f.tail[-2:]) for f in outcome.failures]
    metrics = json.loads((tmp_path / "runs/own/tasks/spot/default/fold_00/evaluate/"
                          "metrics.json").read_text())  # fmt: skip
    assert metrics["test/rows"] == 10 and metrics["external:bench/rows"] == 7
    assert metrics["test/f1_call"] == metrics["external:bench/f1_call"] == 0.5
