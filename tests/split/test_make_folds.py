from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from foldrun.split import make_folds
from tests.split.helpers import check_invariants, fold_sizes, make_table

TABLE = make_table()

CASES = {
    "kfold": dict(strategy="kfold"),
    "stratified": dict(strategy="stratified", target="label"),
    "stratified+site": dict(strategy="stratified", target="label", stratify=["site"]),
    "grouped": dict(strategy="grouped", group="subject"),
    "stratified-grouped": dict(strategy="stratified-grouped", target="label", group="subject"),
    "continuous": dict(strategy="continuous", target="value"),
    "continuous-bins": dict(strategy="continuous", target="value", bins=4),
    "continuous-grouped": dict(strategy="continuous", target="value", group="subject"),
    "multilabel": dict(strategy="multilabel", target=["l0", "l1", "l2"]),
    "multilabel-grouped": dict(strategy="multilabel", target=["l0", "l1", "l2"], group="subject"),
    "auto": dict(target="label", group="subject"),
    "repeated": dict(strategy="repeated-stratified-grouped", target="label", group="subject",
                     repeats=3),
}  # fmt: skip
EXTRAS = {
    "plain": {},
    "next-fold": dict(val="next-fold"),
    "val-fraction": dict(val=0.2),
    "holdout": dict(holdout=0.2),
    "inner": dict(inner=3, val="next-fold"),
}


@pytest.mark.parametrize("extra", EXTRAS)
@pytest.mark.parametrize("case", CASES)
def test_invariants_every_strategy(case: str, extra: str) -> None:
    options = {**CASES[case], **EXTRAS[extra]}
    folds = make_folds(TABLE, id="sample", seed=7, **options)
    check_invariants(folds, options.get("group"))
    again = make_folds(TABLE, id="sample", seed=7, **options)
    assert np.array_equal(folds.test_fold, again.test_fold), "same seed, other folds"
    if options.get("group") is None:
        sizes = fold_sizes(folds)
        assert sizes.max() - sizes.min() <= 1 + (extra == "holdout")
    for (r, f), inner in folds.inner.items():
        outer_train = folds.indices(f, "train", r)
        assert set(np.flatnonzero(inner >= 0)) == set(outer_train)


def test_seed_changes_folds() -> None:
    a = make_folds(TABLE, target="label", seed=0, id="sample")
    b = make_folds(TABLE, target="label", seed=1, id="sample")
    assert not np.array_equal(a.test_fold, b.test_fold)


def test_stratified_class_counts_within_one() -> None:
    folds = make_folds(TABLE, target="label", strategy="stratified", id="sample")
    for label in "abc":
        rows = TABLE["label"].to_numpy() == label
        counts = np.bincount(folds.test_fold[0][rows], minlength=5)
        assert counts.max() - counts.min() <= 1


def test_stratified_grouped_balance_bounds() -> None:
    folds = make_folds(TABLE, target="label", group="subject", id="sample", seed=3)
    sizes = fold_sizes(folds)
    biggest_group = TABLE["subject"].value_counts().max()
    assert sizes.max() - sizes.min() <= biggest_group
    assert folds.details["balance"]["max_share_deviation"] < 0.08


def test_continuous_each_fold_spans_the_distribution() -> None:
    folds = make_folds(TABLE, target="value", strategy="continuous", id="sample", seed=2)
    assert folds.details["balance"]["max_ks"] < 0.05
    means = [e["mean"] for e in folds.details["folds"]]
    assert np.ptp(means) < 0.05


def test_multilabel_per_label_balance() -> None:
    folds = make_folds(TABLE, target=["l0", "l1", "l2"], id="sample", seed=2)
    assert folds.details["strategy"] == "multilabel"
    for label in ("l0", "l1", "l2"):
        counts = np.bincount(folds.test_fold[0][TABLE[label].to_numpy() == 1], minlength=5)
        assert counts.max() - counts.min() <= 2


@pytest.mark.parametrize(
    ("options", "chosen"),
    [
        (dict(target="label", group="subject"), "stratified-grouped"),
        (dict(target="label"), "stratified"),
        (dict(target="value"), "continuous"),
        (dict(target=["l0", "l1"]), "multilabel"),
        (dict(group="subject"), "grouped"),
        ({}, "kfold"),
    ],
)
def test_auto_choice_and_reason(options: dict, chosen: str) -> None:
    folds = make_folds(TABLE, id="sample", **options)
    assert folds.details["strategy"] == chosen
    assert folds.details["requested_strategy"] == "auto"
    assert folds.details["reason"]


def test_predefined_fold_column_and_holdout() -> None:
    table = TABLE.assign(fold=[(-1 if i % 10 == 0 else i % 3) for i in range(len(TABLE))])
    folds = make_folds(table, id="sample", fold_column="fold", strategy="predefined")
    assert folds.n_folds == 3
    assert np.array_equal(folds.test_fold[0], table["fold"].to_numpy())
    assert folds.has_holdout


def test_kfold_with_group_column_still_keeps_groups_whole() -> None:
    folds = make_folds(TABLE, id="sample", strategy="kfold", group="subject")
    check_invariants(folds, "subject")


def test_row_number_ids_when_no_id_column() -> None:
    table = TABLE.drop(columns=["sample"])
    folds = make_folds(table, target="label")
    assert folds.table.columns[0] == "id"
    assert folds.table["id"].tolist() == list(range(len(table)))


def test_long_table_shape() -> None:
    folds = make_folds(TABLE, id="sample", target="label", val="next-fold", holdout=0.2)
    long = folds.long
    assert list(long.columns) == ["id", "repeat", "fold", "subset"]
    assert set(long.subset) == {"train", "val", "test", "holdout"}
    per_fold = long[long.fold >= 0].groupby("fold").size()
    assert (per_fold == (long.fold >= 0).sum() / 5).all()
    assert isinstance(long, pd.DataFrame)


def test_predefined_long_table_expands_groups_to_items(tmp_path) -> None:
    subjects = sorted(TABLE["subject"].unique())
    long = pd.DataFrame({"subject": subjects, "fold": [i % 3 for i in range(len(subjects))],
                         "subset": "test"})  # fmt: skip
    long.loc[0, "subset"] = "holdout"
    path = tmp_path / "folds.csv"
    long.to_csv(path, index=False)
    folds = make_folds(TABLE, id="sample", group="subject", fold_column=str(path))
    assert folds.details["strategy"] == "predefined" and folds.n_folds == 3
    check_invariants(folds, "subject")
    held = TABLE["subject"].to_numpy() == subjects[0]
    assert (folds.test_fold[0][held] == -1).all()
    assert list(folds.table.columns) == list(TABLE.columns)


def test_auto_with_stratify_and_groups_stratifies() -> None:
    import numpy as np
    import pandas as pd

    from foldrun.split import make_folds

    n = 120
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "g": [f"p{i // 3}" for i in range(n)],
                          "t": np.repeat(["a", "b", "c"], n // 3)})
    folds = make_folds(frame, id="id", group="g", stratify=["t"], folds=4, seed=0)
    assert folds.details["strategy"] == "stratified-grouped"
    long = folds.long.merge(frame, on="id")
    test = long[long["subset"] == "test"]
    assert (test.groupby("g")["fold"].nunique() == 1).all()  # groups whole
    shares = pd.crosstab(test["fold"], test["t"], normalize="index")
    assert (shares.sub(1 / 3).abs() < 0.15).all().all()  # every treatment in every fold
