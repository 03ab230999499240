"""Hostile round 3: fold tables, `strategy = "fixed"` and external sets, attacked as a
researcher with a published split (seed 002) would, through the real console script."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from tests.reliability.helpers import foldrun, tree

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
    done = foldrun("split", "samples.csv", "--out", "split", "--id", "image", "--target",
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
