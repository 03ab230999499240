"""The faster ways `foldrun split` codes groups and strata and writes folds.parquet and
assignments.json give what the slower ones gave (issue 12 item 8)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from foldrun.split import folds as folds_module
from foldrun.split import make_folds
from foldrun.split.core import all_distinct, class_codes, n_distinct, row_codes, text_codes
from tests.split.helpers import make_table


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["b", "a", "b", "c", "a"]),
        pd.Series(["b", "a", "b", "c", "a"], dtype=object),
        pd.Series([3, 1, 3, 2, 10]),
        pd.Series([1.0, 1.5, 1.0, 2.0]),
        pd.Series([1, "1", 1.0, "x"], dtype=object),  # `1` and `1.0` are two groups
        pd.Series(pd.Categorical(["n", "s", "n"], categories=["s", "n", "w"])),
    ],
)
def test_text_codes_are_the_codes_of_the_values_as_python_strings(values: pd.Series) -> None:
    want = class_codes(values.astype(str).to_numpy())
    assert text_codes(values).tolist() == want.tolist()


def test_row_codes_number_combinations_as_unique_rows_does() -> None:
    rng = np.random.default_rng(1)
    for radix in ([5], [5, 3], [2, 7, 4], [40, 1, 9]):
        parts = [rng.integers(0, k, 500) * (i + 1) for i, k in enumerate(radix)]
        stacked = np.column_stack(parts)
        want = np.unique(stacked, axis=0, return_inverse=True)[1].ravel()
        assert row_codes(parts).tolist() == want.tolist()
    huge = [rng.integers(0, 2**40, 100), rng.integers(0, 2**40, 100)]  # key would overflow
    want = np.unique(np.column_stack(huge), axis=0, return_inverse=True)[1].ravel()
    assert row_codes(huge).tolist() == want.tolist()
    assert n_distinct(np.array([4, 0, 4, 2])) == 3 and n_distinct(np.array([], int)) == 0


def _old_long(folds) -> pd.DataFrame:
    """folds.parquet's rows as the code before wrote them (a pandas frame per fold)."""
    parts = []
    for r in range(folds.n_repeats):
        for f in range(folds.n_folds):
            subset = pd.Series("", index=range(len(folds.table)), dtype=object)
            for name in ("train", "val", "test"):
                subset[folds.indices(f, name, r)] = name
            kept = np.flatnonzero(subset != "")
            ids = folds.table[folds.id].take(kept).to_numpy()
            part = {"id": ids, "repeat": r, "fold": f, "subset": subset[kept].to_numpy()}
            parts.append(pd.DataFrame(part))
    held = folds.indices(0, "holdout")
    if len(held):
        parts.append(pd.DataFrame({"id": folds.table[folds.id].take(held).to_numpy(),
                                   "repeat": 0, "fold": -1, "subset": "holdout"}))  # fmt: skip
    long = pd.concat(parts, ignore_index=True).astype({"repeat": "int64", "fold": "int64"})
    return long.astype({"id": folds.table[folds.id].dtype})


@pytest.mark.parametrize(
    "options",
    [
        {"id": "sample", "group": "subject", "val": "next-fold", "holdout": 0.2, "repeats": 2},
        {"id": None, "val": 0.25},  # integer row-number ids
        {"id": "sample", "group": "subject"},  # no holdout: runs of rows are slices
    ],
)
def test_folds_parquet_and_assignments_json_read_back_as_before(
    tmp_path, options, monkeypatch
) -> None:
    monkeypatch.setattr(folds_module, "LONG_ROWS", 17)  # pieces of a fold, runs and not
    table = make_table(n=120, n_groups=30, seed=4)
    folds = make_folds(table, target="label", folds=3, seed=5, **options)
    out = folds.save(tmp_path / "s")
    back = pd.read_parquet(out / "folds.parquet")
    want = _old_long(folds)
    old_file = tmp_path / "old.parquet"
    want.to_parquet(old_file, index=False)  # as the code before wrote it
    pd.testing.assert_frame_equal(back, pd.read_parquet(old_file))
    key = folds.group or folds.id
    values = folds.table[key].astype(str).tolist()
    assignments = json.loads((out / "assignments.json").read_text())
    assert assignments["key"] == key
    for r, pairs in enumerate(assignments["repeats"]):
        assert pairs == dict(zip(values, folds.test_fold[r].tolist(), strict=True))


@pytest.mark.parametrize("dtype", ["str", object, "string[pyarrow]"])
def test_all_distinct_finds_a_repeat_anywhere(dtype) -> None:
    ids = [f"{i:06d}" for i in range(200_000)]  # more than one slice of the sorted ids
    assert all_distinct(pd.Series(ids, dtype=dtype))
    for at in (0, 70_000, 199_999):
        repeated = [*ids[:at], ids[(at * 7919) % len(ids) or 1], *ids[at + 1 :]]
        assert not all_distinct(pd.Series(repeated, dtype=dtype))
    assert not all_distinct(pd.Series([3, 1, 3])) and all_distinct(pd.Series([3, 1, 2]))


@pytest.mark.parametrize("mix", [None, 0])  # 0: every hash meets, the bytes decide
def test_all_distinct_of_one_width_text_compares_bytes(mix, monkeypatch) -> None:
    """Text of one byte length is hashed 8 bytes at a time (issue 26): a repeat is found
    wherever it is, equal hashes of different ids are not a repeat, and text of several
    lengths, missing values or several chunks takes the sorting path."""
    from foldrun.split import core

    if mix is not None:
        monkeypatch.setattr(core, "_MIX", mix)
    ids = [f"{i:011d}-\u00e9x" for i in range(3000)]  # 15 bytes: a partial second word
    assert all_distinct(pd.Series(ids, dtype="str"))
    for at, other in ((0, 1), (1500, 2999), (2999, 7)):
        repeated = pd.Series([*ids[:at], ids[other], *ids[at + 1 :]], dtype="str")
        assert not all_distinct(repeated)
    assert not all_distinct(pd.Series(["ab", "ab"], dtype="str"))
    assert all_distinct(pd.Series(["ab", "ba", "abc"], dtype="str"))  # several lengths
    assert not all_distinct(pd.Series(["ab", "ba", "ab", "abc"], dtype="str"))
    assert not all_distinct(pd.Series(["ab", None, "ab"], dtype="str"))
    assert all_distinct(pd.Series(["", "a"], dtype="str"))
    chunks = pa.chunked_array([["aa", "bb"], [], ["cc", "aa"]], type=pa.large_string())
    assert not all_distinct(pd.Series(pd.arrays.ArrowStringArray(chunks)))
    assert all_distinct(pd.Series(pd.arrays.ArrowStringArray(chunks[:3])))


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["a", "", "  ", "\t\n", "\u3000", " b ", None, "\xa0"]),
        pd.Series(["a", "", "  ", None, 3, 2.5], dtype=object),
        pd.Series(pd.Categorical(["a", " ", "a"])),
        pd.Series([1.0, np.nan, 0.0]),
        pd.Series([True, False]),
        pd.Series(pd.to_datetime(["2020-01-01", None])),
    ],
)
def test_blank_values_are_those_whose_text_strips_to_nothing(values: pd.Series) -> None:
    from foldrun.split.assign import _blank

    want = (values.astype(str).str.strip() == "").fillna(False).to_numpy(dtype=bool)
    assert _blank(values).tolist() == want.tolist()


def _stratified_by_lexsort(codes: np.ndarray, k: int, rng: np.random.Generator | None):
    """core.stratified as it was (two lexsorts, 0.36x scikit-learn's speed; issue 26 item 3)."""
    n = len(codes)
    order = np.lexsort((np.arange(n), codes) if rng is None else (rng.random(n), codes))
    dealt = np.arange(n) % k
    fold = np.empty(n, dtype=np.int64)
    fold[order] = dealt[np.lexsort((dealt, codes[order]))]
    return fold


@pytest.mark.parametrize(("n", "n_classes", "k"), [
    (200_003, 5, 5), (1000, 3, 7), (17, 4, 3), (20_000, 300, 10), (5, 1, 2), (3000, 2000, 4),
])  # fmt: skip
@pytest.mark.parametrize("seed", [None, 0, 7])
def test_stratified_deals_the_folds_the_two_lexsorts_dealt(n, n_classes, k, seed) -> None:
    from foldrun.split.assign import rng_for
    from foldrun.split.core import stratified

    codes = class_codes(np.random.default_rng(n).integers(0, n_classes, n))
    rng = (lambda: None) if seed is None else (lambda: rng_for(seed, 0))
    assert stratified(codes, k, rng()).tolist() == _stratified_by_lexsort(codes, k, rng()).tolist()


def test_rank_order_is_the_stable_argsort_even_when_keys_tie() -> None:
    from foldrun.split.core import _rank_order

    keys = np.random.default_rng(0).random(5000)
    tied = np.repeat(keys[:300], 3)  # every key three times: the stable order of the ties
    for values in (keys, tied, keys[:1], keys[:0]):
        assert _rank_order(values).tolist() == np.argsort(values, kind="stable").tolist()


@pytest.mark.parametrize(("n", "k"), [(10, 4), (1003, 5), (7, 7), (40_001, 3), (300, 130)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_split_yields_what_the_base_class_split_yielded(n, k, shuffle) -> None:
    """issue 26 item 3: KFold, GroupKFold ... yield train and test rows from the fold numbers
    directly (and unshuffled KFold its blocks); the rows are those of scikit-learn's
    `BaseCrossValidator.split`, which the splitters used before, for every splitter."""
    from sklearn.model_selection import BaseCrossValidator

    from foldrun.split import splitters

    rng = np.random.default_rng(n)
    X = np.zeros((n, 1))
    y = rng.integers(0, 3, n)
    groups = rng.integers(0, max(k, n // 4), n)
    groups[:k] = np.arange(k)  # every fold can get a group
    kw = {"shuffle": True, "random_state": 3} if shuffle else {}
    for name in ("KFold", "StratifiedKFold", "GroupKFold", "StratifiedGroupKFold"):
        if name.startswith("Stratified") and k * 10 > n:
            continue  # 3 classes of about n / 3 rows each cannot be dealt over k folds
        cv = getattr(splitters, name)(k, **kw)
        got = list(cv.split(X, y, None if "Group" not in name else groups))
        want = list(BaseCrossValidator.split(cv, X, y, None if "Group" not in name else groups))
        assert len(got) == len(want) == k
        for (train, test), (train_w, test_w) in zip(got, want, strict=True):
            assert train.tolist() == train_w.tolist() and test.tolist() == test_w.tolist()
            assert train.dtype == train_w.dtype and test.dtype == test_w.dtype


def test_kfold_in_bytes_is_the_same_folds() -> None:
    from foldrun.split.assign import rng_for
    from foldrun.split.core import kfold

    for n, k in ((10, 4), (99_999, 7), (5, 5)):
        for rng in (lambda: None, lambda: rng_for(4, 0)):
            assert kfold(n, k, rng(), np.int8).tolist() == kfold(n, k, rng()).tolist()


@pytest.mark.parametrize(
    "groups",
    [
        [0, 1, 0, 2, 1, 3],  # already in order of first appearance: kept
        [0, 2, 1, 2],  # 2 before 1
        [1, 0, 1],  # not starting at 0
        [0, 1, -1, 1],  # a negative value
        [0, 0, 0],
        ["b", "a", "b"],
    ],
)
def test_first_appearance_codes_are_factorize_codes(groups) -> None:
    from foldrun.split.core import _first_appearance

    values = np.array(groups)
    codes, n = _first_appearance(values)
    want, uniques = pd.factorize(values)
    assert codes.tolist() == want.tolist() and n == len(uniques)


def _pareto_table(seed: int, n: int, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Skewed (Pareto) group sizes, 5 imbalanced classes drawn independently of groups."""
    rng = np.random.default_rng(seed)
    weights = rng.pareto(1.5, n_groups) + 1
    groups = rng.choice(n_groups, n, p=weights / weights.sum())
    return groups, rng.choice(5, n, p=[0.55, 0.25, 0.12, 0.06, 0.02])


@pytest.mark.parametrize("seed", [0, 1])
def test_many_groups_independent_classes_sizes_and_classes_even(seed: int) -> None:
    """issue 26 item 3: past 5,000 groups, with classes independent of groups, folds are as
    even as whole rows allow: sizes within one row, every class count within one of its
    share (the class-first polish alone left sizes 0.09% apart at 1e6 rows, 30x
    scikit-learn's spread)."""
    from foldrun.split.assign import rng_for
    from foldrun.split.core import stratified_grouped

    groups, y = _pareto_table(seed, 120_000, 12_000)
    fold = stratified_grouped(class_codes(groups), y, 5, rng_for(seed, 0))
    sizes = np.bincount(fold, minlength=5)
    assert sizes.max() - sizes.min() <= 1
    per_class = np.stack([np.bincount(y[fold == f], minlength=5) for f in range(5)])
    assert np.all(np.abs(per_class - np.bincount(y) / 5) < 1)
    codes = class_codes(groups)  # groups kept whole
    assert np.all(np.bincount(codes, weights=fold) / np.bincount(codes) % 1 == 0)


def test_many_groups_no_worse_than_sklearn_on_classes_or_sizes() -> None:
    """The same, against scikit-learn's StratifiedGroupKFold on 6,000 groups (just past
    the reference path): class deviation and size spread both at most scikit-learn's."""
    from sklearn.model_selection import StratifiedGroupKFold as SkSGKF

    from foldrun.split.splitters import StratifiedGroupKFold

    groups, y = _pareto_table(3, 30_000, 6_000)
    X = np.zeros((len(y), 1))

    def measures(cv) -> tuple[float, int]:
        fold = np.empty(len(y), dtype=np.int64)
        for f, (_, test) in enumerate(cv.split(X, y, groups)):
            fold[test] = f
        share = np.bincount(y) / len(y)
        dev = max(np.abs(np.bincount(y[fold == f], minlength=5) / (fold == f).sum() - share).max()
                  for f in range(5))  # fmt: skip
        sizes = np.bincount(fold)
        return float(dev), int(sizes.max() - sizes.min())

    ours = measures(StratifiedGroupKFold(5, shuffle=True, random_state=0))
    theirs = measures(SkSGKF(5, shuffle=True, random_state=0))
    assert ours[0] <= theirs[0] * (1 + 1e-9) and ours[1] <= theirs[1]


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["b", "a", "c", "Z", "é"] * 40),
        pd.Series(["b", "a", "c"] * 60, dtype=object),
        pd.Series([-3, 0, 2, 2] * 50),
        pd.Series([True, False, False] * 60),
        pd.Series([1, "1", "a", 2.0] * 50, dtype=object),
    ],
)
def test_class_stats_from_codes_are_those_from_the_values(values: pd.Series) -> None:
    """details.json's class counts and shares, counted from class codes (no Python object
    per row: a 1e6-row text target held ~100 MB), are those counted from the values."""
    from foldrun.split import details as stats
    from foldrun.split.folds import _class_counter

    objects = values.to_numpy()
    try:
        whole = pd.Series(objects).value_counts().sort_index()
    except TypeError:  # classes 1 and "a" do not sort: neither way makes details.json
        with pytest.raises(TypeError):
            _class_counter(values)
        return
    describe = _class_counter(values)
    for rows in (np.arange(len(values)), np.arange(0, len(values), 3), np.array([7]),
                 np.array([], dtype=np.int64)):  # fmt: skip
        assert describe(rows) == stats.class_stats(objects[rows], whole)


@pytest.mark.parametrize("kind", ["object", "unicode", "with None", "with a number"])
def test_class_codes_of_many_strings_are_the_object_codes(kind: str) -> None:
    """Past _ARROW_TEXT_ROWS strings, class_codes hashes them as Arrow text: the same
    codes (first appearance) as pandas' factorize of the objects; None or a number among
    them keeps the objects' own path (`1` and `"1"` stay two classes)."""
    values = np.array([f"k{i % 997:04d}é" for i in range(30_011)], dtype=object)
    if kind == "unicode":
        values = values.astype(str)
    elif kind == "with None":
        values[5000] = None
    elif kind == "with a number":
        values[[7, 9]] = [1, "1"]
    want, _ = pd.factorize(values.astype(object), use_na_sentinel=False)
    assert class_codes(values).tolist() == want.tolist()


@pytest.mark.parametrize("mix", [None, 0])  # 0: every value one hash, text hashed instead
def test_class_codes_of_one_width_text_by_hashes_are_the_factorized_ones(
    mix, monkeypatch
) -> None:
    """Many strings of one byte length are numbered by a 64-bit hash of each (issue 26),
    checked byte for byte: the codes pandas' factorize gives, in order of first appearance."""
    from foldrun.split import core

    if mix is not None:
        monkeypatch.setattr(core, "_MIX", mix)
    rng = np.random.default_rng(7)
    names = np.array([f"{v:08x}-\u00e9" for v in rng.integers(0, 2**32, 3000)], dtype=object)
    for labels in (names[rng.integers(0, 3000, 40_000)], names[rng.integers(0, 4, 40_000)]):
        want, _ = pd.factorize(labels)
        assert np.array_equal(class_codes(labels), want)
        assert np.array_equal(class_codes(labels.astype(str)), want)  # numpy "U" text


def test_linear_sum_assignment_is_scipys_without_importing_scipy_optimize() -> None:
    """The stratified-grouped rounds use scipy's compiled assignment alone: the same
    function as `scipy.optimize.linear_sum_assignment`, without that package's import."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from foldrun.split import core\n"
        "lsap = core.linear_sum_assignment()\n"
        "assert 'scipy.optimize' not in sys.modules, 'scipy.optimize imported'\n"
        "cost = np.random.default_rng(0).random((20, 25))\n"
        "got = lsap(cost)\n"
        "import scipy.optimize\n"
        "assert scipy.optimize._lsap is sys.modules['scipy.optimize._lsap']\n"  # on its package
        "want = scipy.optimize.linear_sum_assignment(cost)\n"
        "assert all((a == b).all() for a, b in zip(got, want))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
