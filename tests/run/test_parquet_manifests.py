"""`[split] manifests = "parquet"`: a run whose manifests are Parquet files, end to end for
an estimator, an entry and a command model; the key is part of the run's split (an edit
is refused, not silently ignored) and a bad value is refused by `check` in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import foldrun
from tests.reliability.helpers import foldrun as cli

ENTRY = """import pandas as pd
from sklearn.linear_model import LogisticRegression
def run_fold(ctx):
    assert ctx.train["id"].str.len().eq(4).all()  # ids as text, as in the table
    model = LogisticRegression().fit(ctx.train[ctx.features], ctx.train[ctx.target])
    test = ctx.test if ctx.test is not None else ctx.train.iloc[:0]  # the refit: no test
    p = model.predict_proba(test[ctx.features]) if len(test) else [[0.5, 0.5]][:0]
    return pd.DataFrame({"id": test[ctx.id], "proba_0": [r[0] for r in p],
                         "proba_1": [r[1] for r in p]})
"""
# reads {train} and {test} as Parquet: fails on a CSV manifest
COMMAND = """import sys, pandas as pd
stage, a, b = sys.argv[1:4]
assert a.endswith(".parquet"), a
if stage == "train":
    train = pd.read_parquet(a)
    assert train["site"].dtype == "category" and train["id"].str.len().eq(4).all()
    open(b + "/m.txt", "w").write(str(train["label"].mean()))
else:
    p = float(open(sys.argv[4] + "/m.txt").read())
    rows = pd.read_parquet(a)
    pd.DataFrame({"id": rows["id"], "pred": int(p > .5), "score": rows["a"] * p}).to_csv(
        b, index=False)
"""
SPEC = """name = "pq"
[data]
table = "samples.parquet"
id = "id"
target = "label"
features = ["a", "b"]
[split]
folds = 3
manifests = "parquet"
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
[models.ent]
entry = "ent:run_fold"
[models.cmd]
train = "python cmd.py train {train} {out}"
predict = "python cmd.py predict {test} {predictions} {out}"
"""


def _project(root: Path, spec: str = SPEC) -> Path:
    rng = np.random.default_rng(0)
    n = 60
    x = rng.normal(size=(n, 2))
    pd.DataFrame({
        "id": [f"{i:04d}" for i in range(n)],
        "a": x[:, 0], "b": x[:, 1],
        "site": pd.Categorical(rng.choice(["n", "s"], size=n)),
        "label": (x[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int),
    }).to_parquet(root / "samples.parquet", index=False)  # fmt: skip
    for name, text in (("ent.py", ENTRY), ("cmd.py", COMMAND), ("foldrun.toml", spec)):
        (root / name).write_text(text)
    return root / "foldrun.toml"


def test_every_model_kind_runs_on_parquet_manifests(tmp_path: Path) -> None:
    spec = _project(tmp_path)
    done = cli("run", str(spec))
    assert done.returncode == 0, done.stderr
    split = tmp_path / "runs/pq/split"
    assert (split / "fold_02" / "test.parquet").is_file()
    assert not list(split.rglob("*/*.csv"))
    refit = tmp_path / "runs/pq/.foldrun/refit_train.parquet"
    assert sorted(pd.read_parquet(refit)["id"]) == [f"{i:04d}" for i in range(60)]
    metrics = foldrun.load_results(spec).metrics
    tested = metrics[(metrics["subset"] == "test") & (metrics["fold"] >= 0)]
    assert set(tested["model"]) == {"lr", "ent", "cmd"}
    assert tested.groupby("model")["fold"].nunique().eq(3).all()
    for model in ("lr", "ent"):  # the refit read the all-rows manifest, a Parquet file
        assert (tmp_path / f"runs/pq/tasks/{model}/default/all/refit/DONE").is_file()
    again = cli("run", str(spec))  # nothing changed: nothing to do, the split reused
    assert again.returncode == 0, again.stderr


def test_a_command_reads_an_external_csv_set_as_parquet(tmp_path: Path) -> None:
    spec_text = SPEC.split("[models.lr]")[0] + '[external.bench]\ntable = "bench.csv"\n'
    spec = _project(tmp_path, spec_text + "[models.cmd]" + SPEC.split("[models.cmd]")[1])
    bench = pd.read_parquet(tmp_path / "samples.parquet").assign(id=lambda t: "9" + t["id"])
    bench.to_csv(tmp_path / "bench.csv", index=False)  # a CSV set, given as Parquet
    done = cli("run", str(spec))
    assert done.returncode == 0, done.stderr
    metrics = foldrun.load_results(spec).metrics
    external = metrics[metrics["subset"] == "external:bench"]
    assert set(external["model_set"]) == {"fold", "ensemble"} and len(external)


def test_an_edited_manifests_key_is_refused_not_ignored(tmp_path: Path) -> None:
    lr_only = SPEC.split("[models.ent]")[0]
    spec = _project(tmp_path, lr_only)
    assert cli("run", str(spec)).returncode == 0
    for edit in ('manifests = "csv"\n', ""):  # to CSV, or back to the default (CSV)
        spec.write_text(lr_only.replace('manifests = "parquet"\n', edit))
        done = cli("run", str(spec))
        assert done.returncode == 2
        assert "'split': [split] manifests changed since the run's split was made" in done.stderr
        assert "manifests are parquet files, not csv" in done.stderr
        assert cli("check", str(spec)).returncode == 2
    assert not list((tmp_path / "runs/pq/split").rglob("*/*.csv"))


def test_csv_run_refuses_a_switch_to_parquet(tmp_path: Path) -> None:
    base = SPEC.split("[models.ent]")[0]
    spec = _project(tmp_path, base.replace('manifests = "parquet"\n', ""))
    assert cli("run", str(spec)).returncode == 0
    spec.write_text(base)
    done = cli("run", str(spec))
    assert done.returncode == 2 and "manifests are csv files, not parquet" in done.stderr


def test_bad_value_is_refused_in_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    spec = _project(tmp_path, SPEC.replace('manifests = "parquet"', 'manifests = "xlsx"'))
    for command in ("check", "run"):
        done = cli(command, str(spec))
        assert done.returncode == 2
        line = [ln for ln in done.stderr.splitlines() if "xlsx" in ln]
        assert len(line) == 1 and "split.manifests" in line[0]
        assert "manifests must be 'csv' or 'parquet', got 'xlsx'" in line[0]
        assert not (tmp_path / "runs").exists()
    with_from = SPEC.replace("folds = 3\n", 'from = "somewhere"\n')
    spec.write_text(with_from)
    done = cli("check", str(spec))
    assert done.returncode == 2 and "manifests cannot be set with it" in done.stderr
