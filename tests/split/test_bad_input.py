"""Every bad input is a one-line FoldrunError naming the column/file, and writes nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from foldrun.errors import DataError, FoldrunError, SplitError
from foldrun.split import make_folds
from tests.split.helpers import make_table


def _table():
    return make_table(n=200, n_groups=30)


def _nan(column: str):
    table = _table()
    table[column] = table[column].astype(object)
    table.loc[5, column] = np.nan
    return table


def _empty_string(column: str):
    table = _table()
    table.loc[7, column] = " "
    return table


CASES = {
    "nan target": (lambda: _nan("label"), dict(target="label"), DataError, "label"),
    "empty target": (lambda: _empty_string("label"), dict(target="label"), DataError, "label"),
    "nan group": (lambda: _nan("subject"), dict(group="subject"), DataError, "subject"),
    "nan stratify": (lambda: _nan("site"), dict(stratify="site", strategy="stratified"),
                     DataError, "site"),
    "nan continuous": (lambda: _nan("value"), dict(target="value"), DataError, "value"),
    "missing column": (_table, dict(target="nope"), DataError, "nope"),
    "missing group": (_table, dict(group="nope"), DataError, "nope"),
    "tiny class": (lambda: _table().assign(label=["rare"] * 2 + ["x"] * 198),
                   dict(target="label"), SplitError, "2 member"),
    "duplicate ids": (lambda: _table().assign(sample="same"), dict(id="sample"), DataError,
                      "duplicate"),
    "folds < 2": (_table, dict(folds=1), SplitError, "folds"),
    "more folds than groups": (_table, dict(group="subject", folds=40), SplitError, "groups"),
    "bad strategy": (_table, dict(strategy="magic"), SplitError, "magic"),
    "grouped without group": (_table, dict(strategy="grouped"), SplitError, "--group"),
    "bad val": (_table, dict(val="sometimes"), SplitError, "val"),
    "next-fold with 2 folds": (_table, dict(val="next-fold", folds=2), SplitError, "folds >= 3"),
    "holdout out of range": (_table, dict(holdout=1.5), SplitError, "holdout"),
    "repeated without repeats": (_table, dict(strategy="repeated-kfold"), SplitError, "repeats"),
    "multilabel not 0/1": (_table, dict(target=["l0", "value"]), DataError, "0/1"),
    "predefined group spans folds": (
        lambda: _table().assign(fold=np.arange(200) % 3),
        dict(fold_column="fold", group="subject"), SplitError, "two folds"),
    "continuous not numeric": (_table, dict(target="label", strategy="continuous"), DataError,
                               "numeric"),
    "empty table": (lambda: _table().iloc[:0], {}, DataError, "no rows"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_clear_line(case: str, tmp_path: Path) -> None:
    build, options, error, words = CASES[case]
    with pytest.raises(error) as info:
        make_folds(build(), **options).save(tmp_path / "split")
    line = info.value.one_line()
    assert "\n" not in line
    assert words in line
    assert not (tmp_path / "split").exists()
    assert list(tmp_path.iterdir()) == []


def test_errors_are_foldrun_errors() -> None:
    assert issubclass(DataError, FoldrunError) and issubclass(SplitError, FoldrunError)
