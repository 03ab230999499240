"""External evaluation sets: every fold model and the refit model predict them, for every
kind of model; the fold ensemble is scored too; none of it mixes with the CV folds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

import foldrun
from tests.reliability.helpers import invoke as cli  # main() in this process

ENTRY = """import pandas as pd
from sklearn.linear_model import LogisticRegression
def run_fold(ctx):
    model = LogisticRegression().fit(ctx.train[ctx.features], ctx.train[ctx.target])
    parts = []
    for frame in [ctx.test, *ctx.external.values()]:
        if frame is not None:
            p = model.predict_proba(frame[ctx.features])
            parts.append(pd.DataFrame({"id": frame[ctx.id], "proba_0": p[:, 0],
                                       "proba_1": p[:, 1]}))
    return pd.concat(parts)
"""
COMMAND = """import sys, pandas as pd
stage, a, b = sys.argv[1:4]
if stage == "train":
    open(b + "/m.txt", "w").write(str(pd.read_csv(a)["label"].mean()))
else:
    p = float(open(sys.argv[4] + "/m.txt").read())
    rows = pd.read_csv(a, dtype={"id": str})
    pd.DataFrame({"id": rows["id"], "pred": int(p > .5), "score": rows["a"] * p}).to_csv(
        b, index=False)
"""
SPEC = """name = "ex"
[data]
table = "samples.csv"
id = "id"
target = "label"
features = ["a", "b", "c"]
[split]
folds = 3
[external.bench]
table = "bench.csv"
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
[models.ent]
entry = "ent:run_fold"
[models.cmd]
train = "python cmd.py train {train} {out}"
predict = "python cmd.py predict {test} {predictions} {out}"
"""


def _table(n: int, start: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = (x[:, 0] + 0.7 * rng.normal(size=n) > 0).astype(int)
    ids = [f"{i:04d}" for i in range(start, start + n)]  # `0007` stays `0007`
    return pd.DataFrame({"id": ids, "a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "label": y})


def _project(root: Path, bench_start: int = 5000) -> Path:
    _table(90, 0, 0).to_csv(root / "samples.csv", index=False)
    _table(40, bench_start, 1).to_csv(root / "bench.csv", index=False)
    (root / "ent.py").write_text(ENTRY)
    (root / "cmd.py").write_text(COMMAND)
    (root / "foldrun.toml").write_text(SPEC)
    return root / "foldrun.toml"


def test_every_model_kind_scores_external_sets_apart_from_the_folds(tmp_path: Path) -> None:
    spec = _project(tmp_path)
    done = cli("run", str(spec))
    assert done.returncode == 0, done.stderr
    results = foldrun.load_results(spec)
    m = results.metrics
    ext = m[(m["subset"] == "external:bench") & (m["metric"] == "roc_auc")]
    sets = ext.groupby("model")["model_set"].apply(lambda s: sorted(s))
    assert sets["lr"] == ["ensemble", "fold", "fold", "fold", "refit"]
    assert sets["ent"] == ["ensemble", "fold", "fold", "fold", "refit"]
    assert sets["cmd"] == ["ensemble", "fold", "fold", "fold"]  # no refit template
    bench = pd.read_csv(tmp_path / "bench.csv", dtype={"id": str})
    for model in ("lr", "ent"):
        # recomputed from the task folders: each fold model's predictions of the set
        folds = []
        for f in range(3):
            path = tmp_path / f"runs/ex/tasks/{model}/default/fold_{f:02d}/evaluate"
            preds = pd.read_parquet(path / "predictions.parquet")
            part = preds[preds["subset"] == "external:bench"].set_index("id")
            assert set(part.index) == set(bench["id"])  # every row, ids as written
            folds.append(part)
            score = roc_auc_score(part["y_true"], part["proba_1"])
            row = ext[(ext["model"] == model) & (ext["fold"] == f)]
            assert np.isclose(row["value"].item(), score)
        mean = sum(p["proba_1"] for p in folds) / 3
        ensemble = roc_auc_score(folds[0]["y_true"], mean)
        row = ext[(ext["model"] == model) & (ext["model_set"] == "ensemble")]
        assert np.isclose(row["value"].item(), ensemble) and row["fold"].item() == -1
    # the CV summary is over the test folds only
    summary = results.summary()
    auc = summary[summary["metric"] == "roc_auc"].set_index("model")
    tests = m[(m["subset"] == "test") & (m["metric"] == "roc_auc") & (m["fold"] >= 0)]
    assert np.allclose(auc.loc[tests.groupby("model")["value"].mean().index, "mean"],
                       tests.groupby("model")["value"].mean())  # fmt: skip
    assert (auc["n"] == 3).all()
    table = results.external()
    assert set(table["set"]) == {"bench"} and (table["folds"] == 3).all()
    assert cli("report", str(spec)).returncode == 0
    html = (tmp_path / "runs/ex/report/index.html").read_text()
    assert "External sets (never averaged with the folds)" in html


def test_external_rows_sharing_ids_with_the_data_are_refused(tmp_path: Path) -> None:
    spec = _project(tmp_path, bench_start=80)  # ids 0080..0089 are in both tables
    done = cli("run", str(spec))
    assert done.returncode == 2
    line = done.stderr.strip()
    assert "external.bench.table" in line and "also in the data table" in line
    assert "\n" not in line and not (tmp_path / "runs").exists()  # nothing written
    checked = cli("check", str(spec))
    assert checked.returncode == 2 and "external.bench.table" in checked.stderr


def test_external_set_without_the_target_is_refused(tmp_path: Path) -> None:
    spec = _project(tmp_path)
    pd.read_csv(tmp_path / "bench.csv").drop(columns="label").to_csv(
        tmp_path / "bench.csv", index=False
    )
    done = cli("run", str(spec))
    assert done.returncode == 2 and "no column 'label'" in done.stderr
    assert not (tmp_path / "runs").exists()


def test_an_external_set_with_a_header_and_no_rows_is_refused_by_check(tmp_path: Path) -> None:
    """Issue 22 item 9: check said ok, then every predict on it failed."""
    from foldrun.api import Project

    spec = _project(tmp_path)
    (tmp_path / "bench.csv").write_text("id,a,b,c,label\n")
    problems = Project(spec).check().problems
    assert any("external.bench.table" in p and "no rows" in p for p in problems), problems
    assert not (tmp_path / "runs").exists()
