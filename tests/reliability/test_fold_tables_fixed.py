"""Hostile round 3: fold tables, `strategy = "fixed"` and external sets, attacked as a
researcher with a published split (seed 002) would, through the console script's main()."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from tests.reliability.helpers import invoke, tree

FOLDS = 3


def _patients(n: int = 30) -> list[str]:
    rng = np.random.default_rng(0)
    return [str(uuid.UUID(int=int(rng.integers(1 << 62)))) for _ in range(n)]


def _seed002(root: Path) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """samples.csv (images as rows) and the published split: common.csv (val/test) and
    sub1.csv (train), header `fold_iteration,healthCode,subset`."""
    root.mkdir(parents=True, exist_ok=True)
    patients = _patients()
    rng = np.random.default_rng(1)
    rows = [
        {"image": f"img{i:02d}_{j}", "healthCode": p, "x1": rng.normal(), "x2": rng.normal(),
         "label": i % 2}
        for i, p in enumerate(patients) for j in range(1 + i % 3)
    ]  # fmt: skip
    pd.DataFrame(rows).to_csv(root / "samples.csv", index=False)
    common, train = [], []
    for f in range(FOLDS):
        block = patients[f * 10:(f + 1) * 10]
        common += [(f, p, "test") for p in block[:5]] + [(f, p, "val") for p in block[5:]]
        train += [(f, p, "train") for p in patients if p not in block]
    header = ["fold_iteration", "healthCode", "subset"]
    common_df = pd.DataFrame(common, columns=header)
    train_df = pd.DataFrame(train, columns=header)
    common_df.to_csv(root / "common.csv", index=False)
    train_df.to_csv(root / "sub1.csv", index=False)
    return patients, common_df, train_df


def _split(root: Path, *files: str) -> tuple[int, str]:
    args = [a for f in files for a in ("--fold-column", f)]
    done = invoke("split", "samples.csv", "--out", "split", "--id", "image", "--target",
                   "label", "--group", "healthCode", *args, cwd=root)  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def test_fold_table_whose_keys_match_no_row_is_refused(tmp_path: Path) -> None:
    """A key column named otherwise (`patient`) whose keys are not the data's: every fold
    would test nothing and train on everything."""
    _, common, _ = _seed002(tmp_path)
    other = common.rename(columns={"healthCode": "patient"})
    other["patient"] = "P" + other["patient"]
    other.to_csv(tmp_path / "other.csv", index=False)
    before = tree(tmp_path)
    code, out = _split(tmp_path, "other.csv")
    assert code == 2, out
    assert "other.csv" in out and "none of" in out, out
    assert tree(tmp_path) == before


def test_fold_that_tests_no_row_is_refused(tmp_path: Path) -> None:
    """Fold 0 of the common file lists only val rows: a fold with an empty test part."""
    _, common, _ = _seed002(tmp_path)
    common[(common["subset"] == "val") | (common["fold_iteration"] > 0)].to_csv(
        tmp_path / "common.csv", index=False)
    before = tree(tmp_path)
    code, out = _split(tmp_path, "common.csv", "sub1.csv")
    assert code == 2, out
    assert "fold 0" in out and "test" in out, out
    assert tree(tmp_path) == before


def test_fold_that_trains_on_no_row_is_refused(tmp_path: Path) -> None:
    """The train file of another sub-database: its keys are none of this data's rows, so
    fold 1 would train on nothing."""
    _, _, train = _seed002(tmp_path)
    train.loc[train["fold_iteration"] == 1, "healthCode"] = "not-a-patient-" + train.loc[
        train["fold_iteration"] == 1, "healthCode"]
    train.to_csv(tmp_path / "sub1.csv", index=False)
    code, out = _split(tmp_path, "common.csv", "sub1.csv")
    assert code == 2, out
    assert "fold 1" in out and "train" in out, out


EXTERNAL_SPEC = """name = "ext"
[data]
table = "samples.csv"
id = "id"
target = "label"
[split]
folds = 3
[external.bench]
table = "{table}"
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
{extra}"""


def _labelled(n: int, start: int, seed: int) -> pd.DataFrame:
    """Three classes; ids with leading zeros (`007`)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    label = np.digitize(x[:, 0] + 0.5 * rng.normal(size=n), [-0.5, 0.5])
    return pd.DataFrame({"id": [f"{i:03d}" for i in range(start, start + n)], "a": x[:, 0],
                         "b": x[:, 1], "c": x[:, 2], "label": label})  # fmt: skip


def _external_project(root: Path, bench: pd.DataFrame, extra: str = "",
                      name: str = "bench.csv") -> Path:  # fmt: skip
    root.mkdir(parents=True, exist_ok=True)
    _labelled(90, 100, 0).to_csv(root / "samples.csv", index=False)
    if name.endswith(".parquet"):
        bench.to_parquet(root / name, index=False)
    else:
        bench.to_csv(root / name, index=False)
    (root / "foldrun.toml").write_text(EXTERNAL_SPEC.format(table=name, extra=extra))
    return root / "foldrun.toml"


def _refused(root: Path, *words: str) -> None:
    """check and run both exit 2 naming the problem, and run writes nothing."""
    before = tree(root)
    for command in ("check", "run"):
        done = invoke(command, "foldrun.toml", cwd=root)
        out = done.stdout + done.stderr
        assert done.returncode == 2, (command, out)
        assert all(w in out for w in words), (command, out)
    assert tree(root) == before


def test_external_set_without_a_feature_column_is_refused_before_running(
    tmp_path: Path,
) -> None:
    """An estimator predicts the external set on the data's features: a missing one used to
    pass check and fail every predict task mid-run."""
    _external_project(tmp_path, _labelled(30, 0, 1).drop(columns="c"))
    _refused(tmp_path, "external.bench.table", "'c'")


def test_external_set_with_a_duplicate_id_is_refused(tmp_path: Path) -> None:
    """Rows of the ensemble are joined on the id: two rows with one id would be merged."""
    bench = _labelled(30, 0, 1)
    bench.loc[3, "id"] = bench.loc[2, "id"]
    _external_project(tmp_path, bench)
    _refused(tmp_path, "external.bench.table", "duplicate", "'002'")


def test_external_set_with_an_empty_target_is_refused(tmp_path: Path) -> None:
    """An empty label used to fail the refit with 'predictions hold ids that are not in the
    external:bench manifest'."""
    bench = _labelled(30, 0, 1).astype({"label": "float"})
    bench.loc[3, "label"] = np.nan
    _external_project(tmp_path, bench)
    _refused(tmp_path, "external.bench.table", "empty", "'label'")


NAMED = """import sys, pandas as pd
stage, a, b = sys.argv[1:4]
if stage == "train":
    open(b + "/m.txt", "w").write("1")
else:
    rows = pd.read_csv(a, dtype={"id": str})
    name = sys.argv[5] if len(sys.argv) > 5 else ""
    open(sys.argv[4] + "/seen.txt", "a").write((name or "-") + "\\n")
    pd.DataFrame({"id": rows["id"], "pred": 1}).to_csv(b, index=False)
"""


def test_external_placeholder_is_accepted_and_names_the_set(tmp_path: Path) -> None:
    """README: a command model's predict runs once more per set with `{external}` = its
    name; check and run refused `{external}` as an unknown placeholder."""
    extra = """[models.cmd]
train = "python named.py train {train} {out}"
predict = "python named.py predict {test} {predictions} {out} {external}"
"""
    _external_project(tmp_path, _labelled(30, 0, 1), extra=extra)
    (tmp_path / "named.py").write_text(NAMED)
    checked = invoke("check", "foldrun.toml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    done = invoke("run", "foldrun.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    seen = (tmp_path / "runs/ext/tasks/cmd/default/fold_00/train/seen.txt").read_text()
    assert seen.split() == ["''", "bench"] or seen.split() == ["-", "bench"], seen


CSV_ONLY = """import sys, pandas as pd
stage, a, b = sys.argv[1:4]
if stage == "train":
    open(b + "/m.txt", "w").write("1")
else:
    rows = pd.read_csv(a, dtype={"id": str})  # written for the CSV fold manifests
    pd.DataFrame({"id": rows["id"], "pred": 1}).to_csv(b, index=False)
"""


def test_command_model_reads_a_parquet_external_set_as_csv_like_its_manifests(
    tmp_path: Path,
) -> None:
    """Fold manifests are CSV, so a predict program reads CSV; a parquet external set was
    handed over as the parquet file and the program failed on it."""
    extra = """[models.cmd]
train = "python csv_only.py train {train} {out}"
predict = "python csv_only.py predict {test} {predictions} {out}"
"""
    bench = _labelled(30, 0, 1)
    _external_project(tmp_path, bench, extra=extra, name="bench.parquet")
    (tmp_path / "csv_only.py").write_text(CSV_ONLY)
    done = invoke("run", "foldrun.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    preds = pd.read_parquet(tmp_path / "runs/ext/tasks/cmd/default/fold_01/predict/"
                            "predictions.parquet")  # fmt: skip
    external = preds[preds["subset"] == "external:bench"]
    assert sorted(external["id"]) == sorted(bench["id"])  # `000` stays `000`
    assert not list((tmp_path / "runs/ext/tasks/cmd/default/fold_01/predict").glob("*.csv"))


def test_fold_ensemble_waits_for_every_fold_model(tmp_path: Path) -> None:
    """`run --folds 0` (or a stale or failed fold) left one fold model: its scores were
    reported as the fold ensemble of the external set."""
    _external_project(tmp_path, _labelled(30, 0, 1))
    done = invoke("run", "foldrun.toml", "--folds", "0", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    query = ("select count(*) as n from metrics where subset = 'external:bench' and "
             "model_set = 'ensemble'")  # fmt: skip
    one = invoke("query", "foldrun.toml", query, "--format", "csv", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert one.stdout.split() == ["n", "0"], one.stdout
    done = invoke("run", "foldrun.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    every = invoke("query", "foldrun.toml", query, "--format", "csv", cwd=tmp_path)
    assert every.stdout.split()[1] != "0", every.stdout
