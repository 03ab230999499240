"""Your program as it is: train-only self-evaluating programs, label-free experiments, a
user evaluate stage, and metric direction, through the console script's main (in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from tests.reliability.helpers import invoke

# a denoiser-like program: no label; it scores itself into $FOLDRUN_TASK_DIR/metrics.json
SELF_SCORING = """
import csv, json, os, sys
train, test, out, lr = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
n_test = sum(1 for _ in csv.DictReader(open(test)))
metrics = {"test/psnr": 30 + 10 * lr + n_test / 100, "test/sam": 0.1 / (1 + lr), "epochs": 7}
json.dump(metrics, open(os.path.join(os.environ["FOLDRUN_TASK_DIR"], "metrics.json"), "w"))
open(os.path.join(out, "model.pt"), "w").write("weights")
"""

# trains and predicts in one go: writes {predictions}, foldrun scores them
TRAIN_PREDICTS = """
import csv, sys
train, test, predictions = sys.argv[1:4]
rows = list(csv.DictReader(open(test)))
with open(predictions, "w") as fh:
    fh.write("id,score\\n")
    for r in rows:
        fh.write(f"{r['id']},{float(r['x1']) * 0.5 + float(r['target']) * 0.5:.6f}\\n")
"""

# a user evaluate program: reads the predict step's predictions and the test manifest
EVALUATE = """
import json, os, sys
import pandas as pd
preds, test = pd.read_parquet(sys.argv[1]), pd.read_csv(sys.argv[2], dtype={"id": str})
joined = preds.merge(test, on="id")
hits = float(((joined["score"] > 0.5).astype(int) == joined["target"]).mean())
json.dump({"test/hit_rate": hits}, open(os.path.join(os.environ["FOLDRUN_TASK_DIR"],
          "metrics.json"), "w"))
"""


def _spec(root: Path, models: str, extra: str = "") -> None:
    """A classification spec on samples.csv (3 folds) with the given model tables."""
    (root / "foldrun.toml").write_text(
        f'name = "p"\n[data]\ntable = "samples.csv"\nid = "id"\ntarget = "target"\n'
        f'task = "classification"\n[split]\nfolds = 3\n{models}\n{extra}'
    )


def _table(root: Path, n: int = 48, target: bool = True) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"id": [f"{i:03d}" for i in range(n)],
                          "sample": [f"s{i % 8}" for i in range(n)],
                          "x1": rng.normal(size=n).round(4)})
    if target:
        frame["target"] = np.tile([0, 1], n // 2)
    frame.to_csv(root / "samples.csv", index=False)


def test_label_free_train_only_program_with_lower_is_better(tmp_path: Path) -> None:
    _table(tmp_path, target=False)
    (tmp_path / "denoise.py").write_text(SELF_SCORING)
    (tmp_path / "foldrun.toml").write_text("""
name = "denoise"
[data]
table = "samples.csv"
id = "id"
group = "sample"
[split]
folds = 4
[models.mamba]
train = "python denoise.py {train} {test} {out} {lr}"
grid = { lr = [0.1, 1.0] }
[report]
primary_metric = "sam"
lower_is_better = ["sam"]
""")
    check = invoke("check", "foldrun.toml", cwd=tmp_path)
    assert check.returncode == 0 and "8 task(s)" in check.stdout, check.stdout + check.stderr
    done = invoke("run", "foldrun.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    status = json.loads(invoke("status", "foldrun.toml", "--format", "json",
                               cwd=tmp_path).stdout)
    assert status["complete"] and {t["stage"] for t in status["tasks"]} == {"train"}
    report = invoke("report", "foldrun.toml", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    summary = json.loads((tmp_path / "runs/denoise/report/cv_summary.json").read_text())
    assert summary["primary_metric"] == "sam" and summary["greater_is_better"] is False
    best = summary["models"][0]
    assert best["variant"] == "lr1.0"  # the smaller SAM wins
    assert abs(best["mean"] - 0.05) < 1e-9
    # no fake accuracy from a label-free run
    metrics = pd.read_parquet(tmp_path / "runs/denoise/results/metrics.parquet")
    assert set(metrics.loc[metrics["subset"] == "test", "metric"]) == {"psnr", "sam"}


def test_primary_metric_no_task_has_lists_those_that_exist(tmp_path: Path) -> None:
    test_label_free_train_only_program_with_lower_is_better(tmp_path)
    spec = tmp_path / "foldrun.toml"
    spec.write_text(spec.read_text().replace('primary_metric = "sam"', 'primary_metric = "ssim"'))
    done = invoke("report", "foldrun.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert "ssim" in done.stderr and "psnr, sam" in done.stderr


def test_train_only_program_that_predicts_is_scored_by_foldrun(tmp_path: Path) -> None:
    _table(tmp_path)
    (tmp_path / "fit.py").write_text(TRAIN_PREDICTS)
    _spec(tmp_path, '[models.net]\ntrain = "python fit.py {train} {test} {predictions}"')
    done = invoke("run", "foldrun.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    train = tmp_path / "runs/p/tasks/net/default/fold_00/train/metrics.json"
    assert json.loads(train.read_text())["test/roc_auc"] > 0.5  # scored in its own task
    assert not (tmp_path / "runs/p/tasks/net/default/fold_00/evaluate").exists()  # no evaluate
    preds = pd.read_parquet(tmp_path / "runs/p/tasks/net/default/fold_00/train/"
                            "predictions.parquet")
    assert preds["id"].str.len().eq(3).all()  # ids stay text: 007, not 7


def test_user_evaluate_program_is_its_own_stage(tmp_path: Path) -> None:
    _table(tmp_path)
    (tmp_path / "fit.py").write_text(TRAIN_PREDICTS)
    (tmp_path / "score.py").write_text(EVALUATE)
    _spec(tmp_path, """[models.net]
predict = "python fit.py {train} {test} {predictions}"
evaluate = "python score.py {predictions} {test}"
[models.net.stages.evaluate]
resources = { cpus = 1, mem = "1G" }""", '[report]\nprimary_metric = "hit_rate"')
    assert invoke("check", "foldrun.toml", cwd=tmp_path).returncode == 0
    done = invoke("run", "foldrun.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    folder = tmp_path / "runs/p/tasks/net/default/fold_01/evaluate"
    assert "score.py" in (folder / "cmd.txt").read_text()
    assert set(json.loads((folder / "metrics.json").read_text())) == {"test/hit_rate"}
    report = invoke("report", "foldrun.toml", cwd=tmp_path)
    assert report.returncode == 0 and "hit_rate" in report.stdout


def test_evaluate_program_that_writes_no_metrics_fails(tmp_path: Path) -> None:
    _table(tmp_path)
    (tmp_path / "fit.py").write_text(TRAIN_PREDICTS)
    _spec(tmp_path, '[models.net]\npredict = "python fit.py {train} {test} {predictions}"\n'
          'evaluate = "true"')
    done = invoke("run", "foldrun.toml", cwd=tmp_path)
    assert done.returncode == 1 and "metrics.json" in done.stderr


def test_estimator_needs_a_target(tmp_path: Path) -> None:
    _table(tmp_path, target=False)
    (tmp_path / "foldrun.toml").write_text("""
name = "x"
[data]
table = "samples.csv"
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
""")
    done = invoke("check", "foldrun.toml", cwd=tmp_path)
    assert done.returncode == 2 and "models.lr" in done.stderr and "target" in done.stderr


def test_audit_log_carries_commands_paths_forced_reruns_and_completed_folds(
    tmp_path: Path,
) -> None:
    from tests.reliability.helpers import project

    spec = project(tmp_path, folds=2, grid=1)
    (tmp_path / "fault-toy_k0_1_train").write_text("kill")
    assert invoke("run", "foldrun.toml", cwd=tmp_path).returncode == 1
    assert invoke("run", "foldrun.toml", cwd=tmp_path).returncode == 0
    spec.write_text(spec.read_text().replace("params = { ", "params = { extra = 1, "))
    assert invoke("run", "foldrun.toml", "--force", cwd=tmp_path).returncode == 0
    lines = (tmp_path / "runs/toy/audit.log").read_text().splitlines()
    fields = [[f.strip() for f in line.split(" | ")] for line in lines]
    commands = [f for f in fields if f[4] == "command" and f[3] == "train"]
    assert commands and "model.py" in commands[0][5] and "params" in commands[0][6]
    finished = [f for f in fields if f[4] == "finished" and f[3] == "train"]
    assert finished[0][5].startswith("out ") and finished[0][5].endswith("/train")
    failed = [f for f in fields if f[4] == "failed"]
    assert failed == [failed[0]] and "SIGKILL" in failed[0][5]
    assert len([f for f in fields if f[4] == "forced"]) == 6
    completed = [f for f in fields if f[4] == "fold completed"]
    assert {f[1] for f in completed} == {"fold_00", "fold_01"}
    assert all(f[3] == "evaluate" for f in completed)
