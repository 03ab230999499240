"""Fold tables as researchers publish them (seed 002): a common val/test file and a train
file per sub-database, keyed on the patient, header `fold_iteration,healthCode,subset`."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from foldrun.errors import DataError, SplitError
from foldrun.split import load_folds, make_folds
from tests.reliability.helpers import foldrun

FOLDS = 3


def _patients(n: int = 60, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [str(uuid.UUID(int=int(rng.integers(1 << 62)))) for _ in range(n)]


def _images(patients: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = [
        {"image": f"{p}_{j}", "healthCode": p, "x": rng.normal(), "label": i % 2}
        for i, p in enumerate(patients)
        for j in range(1 + i % 3)
    ]
    return pd.DataFrame(rows)


def _published(tmp: Path, patients: list[str]) -> tuple[Path, Path]:
    """Per fold: 10 test and 5 val patients (common), half of the rest as train."""
    common, train = [], []
    for f in range(FOLDS):
        block = patients[f * 20:(f + 1) * 20]
        common += [(f, p, "test") for p in block[:10]] + [(f, p, "val") for p in block[10:15]]
        rest = [p for p in patients if p not in block[:15]]
        train += [(f, p, "train") for p in rest[::2]]
    header = ["fold_iteration", "healthCode", "subset"]
    pd.DataFrame(common, columns=header).to_csv(tmp / "common.csv", index=False)
    pd.DataFrame(train, columns=header).to_csv(tmp / "subdb1_train.csv", index=False)
    return tmp / "common.csv", tmp / "subdb1_train.csv"


def _listed(images: pd.DataFrame, table: pd.DataFrame, fold: int, subset: str) -> set[str]:
    keys = table[(table["fold_iteration"] == fold) & (table["subset"] == subset)]["healthCode"]
    return set(images[images["healthCode"].isin(keys)]["image"])


def test_listed_train_val_test_rows_are_exactly_each_fold(tmp_path: Path) -> None:
    patients = _patients()
    images = _images(patients)
    common, train = _published(tmp_path, patients)
    folds = make_folds(images, id="image", group="healthCode", target="label",
                       fold_column=[str(common), str(train)])  # fmt: skip
    folds.save(tmp_path / "split")
    both = pd.concat([pd.read_csv(common), pd.read_csv(train)])
    for f in range(FOLDS):
        for subset in ("train", "val", "test"):
            got = set(pd.read_csv(tmp_path / f"split/fold_{f:02d}/{subset}.csv")["image"])
            assert got == _listed(images, both, f, subset), (f, subset)
    note = folds.details["fold_table"]
    assert note["key"] == "healthCode" and note["n_folds"] == FOLDS
    # patients listed nowhere in a fold take no part in it, and details.json says how many
    in_no_fold = ~images["image"].isin(set(folds.long["id"]))
    assert note["rows_in_no_fold"] == int(in_no_fold.sum()) > 0
    assert folds.details["n_folds"] == FOLDS
    # read back: the long table says the same
    back = load_folds(tmp_path / "split").long
    fold0 = back[(back["fold"] == 0) & (back["subset"] == "train")]
    assert set(fold0["id"]) == _listed(images, both, 0, "train")


def test_a_key_in_two_subsets_of_one_fold_is_refused(tmp_path: Path) -> None:
    patients = _patients()
    common, train = _published(tmp_path, patients)
    table = pd.read_csv(common)
    leak = table.iloc[[0]].assign(subset="train")  # a test patient of fold 0 also trains
    leaky = tmp_path / "leaky.csv"
    pd.concat([pd.read_csv(train), leak]).to_csv(leaky, index=False)
    with pytest.raises(SplitError, match="is in test and train of fold 0"):
        make_folds(_images(patients), id="image", group="healthCode",
                   fold_column=[str(common), str(leaky)])  # fmt: skip


def test_a_group_split_across_parts_by_id_rows_is_refused(tmp_path: Path) -> None:
    images = _images(_patients(12))
    two = images.groupby("healthCode").filter(lambda g: len(g) > 1)
    first, second = two["image"].iloc[0], two["image"].iloc[1]  # one patient's two images
    rows = [(0, first, "train"), (0, second, "test")]
    rows += [(0, i, "test") for i in images["image"] if i not in (first, second)][:3]
    path = tmp_path / "ids.csv"
    pd.DataFrame(rows, columns=["fold", "image", "subset"]).to_csv(path, index=False)
    with pytest.raises(SplitError, match="has rows in two parts of fold 0"):
        make_folds(images, id="image", group="healthCode", fold_column=str(path))


def test_test_only_table_keeps_train_as_every_other_row(tmp_path: Path) -> None:
    images = _images(_patients(30))
    keys = images["healthCode"].unique()
    path = tmp_path / "tests.csv"
    pd.DataFrame({"healthCode": keys, "fold": np.arange(len(keys)) % 3}).to_csv(path, index=False)
    folds = make_folds(images, id="image", group="healthCode", fold_column=str(path))
    for f in range(3):
        test, train = folds.indices(f, "test"), folds.indices(f, "train")
        assert len(test) + len(train) == len(images) and not set(test) & set(train)
    missing = tmp_path / "missing.csv"
    pd.read_csv(path).iloc[1:].to_csv(missing, index=False)
    with pytest.raises(DataError, match="has no row in the fold table"):
        make_folds(images, id="image", group="healthCode", fold_column=str(missing))


def test_fixed_split_from_a_column_is_one_fold(tmp_path: Path) -> None:
    images = _images(_patients(30)).assign(part="train")
    images.loc[images.index[::5], "part"] = "test"
    images.loc[images.index[1::5], "part"] = "val"
    folds = make_folds(images, id="image", strategy="fixed", fold_column="part")
    assert folds.details["strategy"] == "fixed" and folds.n_folds == 1
    for subset in ("train", "val", "test"):
        got = set(images["image"].iloc[folds.indices(0, subset)])
        assert got == set(images.loc[images["part"] == subset, "image"])
    auto = make_folds(images, id="image", fold_column="part")  # auto sees train/val/test
    assert auto.details["strategy"] == "fixed"
    with pytest.raises(SplitError, match="'fixed' is one train/val/test split"):
        make_folds(images.assign(f=np.arange(len(images)) % 2), id="image", strategy="fixed",
                   fold_column=str(_two_fold_table(tmp_path, images)))  # fmt: skip


def _two_fold_table(tmp: Path, images: pd.DataFrame) -> Path:
    path = tmp / "two.csv"
    pd.DataFrame({"image": images["image"], "fold": np.arange(len(images)) % 2}).to_csv(
        path, index=False
    )
    return path


def test_bad_fold_tables_are_one_line_errors(tmp_path: Path) -> None:
    images = _images(_patients(10))
    bad = {
        "nofold.csv": ("healthCode,part\na,test\n", "needs a fold column"),
        "subset.csv": ("fold,healthCode,subset\n0,x,training\n", "'training' is not train"),
        "foldtext.csv": ("fold,healthCode\nzero,x\n", "whole numbers"),
    }
    for name, (text, message) in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(DataError, match=message):
            make_folds(images, id="image", group="healthCode", fold_column=str(tmp_path / name))


def test_cli_combines_files_and_says_what_it_understood(tmp_path: Path) -> None:
    patients = _patients()
    _images(patients).to_csv(tmp_path / "images.csv", index=False)
    _published(tmp_path, patients)
    done = foldrun("split", "images.csv", "--out", "split", "--id", "image", "--group",
                   "healthCode", "--target", "label", "--fold-column", "common.csv",
                   "--fold-column", "subdb1_train.csv", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert "fold table common.csv, subdb1_train.csv: keyed on healthCode" in said
    assert "train/val/test as listed" in said
    assert (tmp_path / "split/fold_02/val.csv").is_file()
