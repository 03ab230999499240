"""External sets with a command model whose evaluate is the user's own program: the program
scores every fold model on the external set too (`external:<name>/<metric>`), the fold
ensemble is scored, and the external rows never reach the program's CV scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

import foldrun
from tests.reliability.helpers import invoke as cli  # main() in this process

# train: the mean label; predict: a score from feature `a` and the decision at --threshold;
# evaluate: accuracy and the number of rows scored, the way a researcher's script does it
# (every row of {predictions} against the labels of {test})
SPOT = """import json, os, sys
from pathlib import Path
import pandas as pd
step, args = sys.argv[1], dict(zip(sys.argv[2::2], sys.argv[3::2]))
if step == "train":
    Path(args["--out"], "m.txt").write_text(str(pd.read_csv(args["--train"])["label"].mean()))
elif step == "predict":
    rows = pd.read_csv(args["--test"], dtype={"id": str})
    bias = float(Path(args["--out"], "m.txt").read_text())
    score = 1 / (1 + (-(rows["a"] + bias - 0.5)).map(__import__("math").exp))
    pd.DataFrame({"id": rows["id"], "score": score,
                  "pred": (score >= float(args["--at"])).astype(int)}).to_csv(
        args["--preds"], index=False)
else:
    pred = pd.read_parquet(args["--preds"])
    truth = pd.read_csv(args["--test"], dtype={"id": str}).set_index("id")["label"]
    hit = pred["pred"] == pred["id"].map(truth)
    Path(os.environ["FOLDRUN_TASK_DIR"], "metrics.json").write_text(json.dumps(
        {"test/hit_rate": float(hit.mean()), "test/n": len(pred)}))
"""
SPEC = """name = "ex"
[data]
table = "samples.csv"
id = "id"
target = "label"
[split]
folds = 3
[external.benchmark]
table = "bench.csv"
[models.spot]
train = "python spot.py train --train {train} --out {out}"
predict = "python spot.py predict --test {test} --out {out} --preds {predictions} --at {threshold}"
evaluate = "python spot.py evaluate --preds {predictions} --test {test}"
[models.spot.stages.predict]
grid = { threshold = [0.4, 0.6] }
"""


def _table(n: int, start: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    y = (a + 0.7 * rng.normal(size=n) > 0).astype(int)
    return pd.DataFrame({"id": [f"{i:04d}" for i in range(start, start + n)], "a": a.round(4),
                         "label": y})  # fmt: skip


def test_user_evaluate_scores_external_sets_per_fold_and_ensemble(tmp_path: Path) -> None:
    _table(60, 0, 0).to_csv(tmp_path / "samples.csv", index=False)
    bench = _table(30, 5000, 1)
    bench.to_csv(tmp_path / "bench.csv", index=False)
    (tmp_path / "spot.py").write_text(SPOT)
    (tmp_path / "foldrun.toml").write_text(SPEC)
    done = cli("run", str(tmp_path / "foldrun.toml"))
    assert done.returncode == 0, done.stdout + done.stderr
    m = foldrun.load_results(tmp_path / "foldrun.toml").metrics
    run = tmp_path / "runs/ex"
    truth = bench.set_index("id")["label"]
    for t in ("0.4", "0.6"):
        variant = f"default+thresh{t}"
        rows = m[(m["variant"] == variant) & (m["metric"] == "hit_rate")]
        ext = rows[rows["subset"] == "external:benchmark"]
        assert sorted(ext["model_set"]) == ["fold"] * 3, ext
        folds = []
        for f in range(3):
            folder = run / f"tasks/spot/{variant}/fold_{f:02d}"
            preds = pd.read_parquet(folder / "predict/predictions.parquet")
            part = preds[preds["subset"] == "external:benchmark"].set_index("id")
            assert set(part.index) == set(bench["id"])  # every row of the set, ids as text
            folds.append(part)
            # the user's program scored this fold model on the set (recomputed here)
            value = ext[ext["fold"] == f]["value"].item()
            assert np.isclose(value, (part["pred"] == part.index.map(truth)).mean())
            # and its CV score saw the fold's test rows only, never the external rows
            test = pd.read_csv(run / f"split/fold_{f:02d}/test.csv")
            scored = json.loads((folder / "evaluate/metrics.json").read_text())
            assert scored["test/n"] == len(test)
        # the fold ensemble: the majority of the fold models' decisions per row
        votes = pd.concat([p["pred"] for p in folds], axis=1).sum(axis=1) >= 2
        ensemble = m[(m["variant"] == variant) & (m["subset"] == "external:benchmark")
                     & (m["model_set"] == "ensemble") & (m["metric"] == "accuracy")]  # fmt: skip
        assert ensemble["fold"].tolist() == [-1]
        expected = (votes.astype(int) == votes.index.map(truth)).mean()
        assert np.isclose(ensemble["value"].item(), expected)
    # never averaged with the CV folds: the test rows are the folds' own
    tests = m[(m["subset"] == "test") & (m["metric"] == "n")]
    assert len(tests) == 6 and (tests["model_set"] == "fold").all()
