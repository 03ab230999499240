"""The metric a race decides on when `[report] primary_metric` is not set: the report's rule
(results/metrics.primary_among) on the test metrics the tasks wrote, so a program that
writes its own scores without the kind's default metric is raced on what it wrote, and the
race and the report rank on the same metric."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from foldrun.results.metrics import primary_among
from tests.reliability.helpers import invoke

# a train-only program that scores itself: balanced_accuracy only (no roc_auc), near 0.9
# for k=good and 0.5 for k=bad, a little noise per fold
MODEL = """
import json, os, sys
k, fold = sys.argv[1], int(os.environ["FOLDRUN_FOLD"])
base = 0.9 if k == "good" else 0.5
value = base + 0.01 * ((fold * 7) % 5)
with open(os.path.join(os.environ["FOLDRUN_TASK_DIR"], "metrics.json"), "w") as fh:
    json.dump({"test/balanced_accuracy": value, "test/accuracy": value - 0.01}, fh)
"""

SPEC = """name = "own"
[data]
table = "samples.csv"
id = "id"
target = "y"
task = "classification"
[split]
folds = 6
seed = 3
[models.m]
train = "python model.py {k}"
grid = { k = ["good", "bad"] }
[race]
after = 3
alpha = 0.05
"""


def test_a_race_without_the_default_metric_decides_on_what_the_tasks_wrote(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(0)
    ids = [f"{i:03d}" for i in range(60)]
    table = pd.DataFrame({"id": ids, "x": rng.normal(size=60), "y": np.arange(60) % 2})
    table.to_csv(tmp_path / "samples.csv", index=False)
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "foldrun.toml").write_text(SPEC)
    done = invoke("run", str(tmp_path / "foldrun.toml"), "--jobs", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads((tmp_path / "runs/own/.foldrun/race.json").read_text())
    # roc_auc (the kind's default) is written by no task: its fallback balanced_accuracy
    assert record["metric"] == "balanced_accuracy"
    [decision] = record["decisions"]
    assert decision["variant"] == "k_bad" and decision["best"] == "k_good"
    assert decision["stopped"] and 3 <= decision["folds"] < 6
    assert record["pruned"], "the worse variant's later folds never ran"
    query = invoke("query", str(tmp_path / "foldrun.toml"), "--format", "json",
                   "SELECT DISTINCT metric FROM metrics WHERE subset = 'test'", cwd=tmp_path)
    assert query.returncode == 0, query.stderr
    written = {row["metric"] for row in json.loads(query.stdout)}
    assert primary_among("classification", written) == record["metric"]  # the report's too


@pytest.mark.parametrize(
    ("kind", "present", "expected"),
    [
        ("classification", {"accuracy", "roc_auc"}, "roc_auc"),
        ("classification", {"accuracy", "balanced_accuracy"}, "balanced_accuracy"),
        ("regression", {"r2", "mae"}, "mae"),
        ("", {"psnr", "ssim"}, "psnr"),  # label-free: the first in name order
        ("classification", set(), None),
    ],
)
def test_primary_among_takes_the_default_then_its_fallbacks(
    kind: str, present: set[str], expected: str | None
) -> None:
    assert primary_among(kind, present) == expected
