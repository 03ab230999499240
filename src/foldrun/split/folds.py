"""`make_folds`: the folds of a table (test fold per repeat, validation, holdout, inner folds),
and the `Folds` object with the statistics that go into details.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from foldrun._version import __version__
from foldrun.data.table import read_table
from foldrun.errors import DataError, SplitError
from foldrun.layout import SplitLayout
from foldrun.split import core
from foldrun.split import details as stats
from foldrun.split.assign import (
    HOLDOUT,
    Choice,
    assigner,
    choose,
    column,
    composite_name,
    group_columns,
    rng_for,
    verify,
)
from foldrun.split.fold_table import (
    OUT,
    TEST,
    TRAIN,
    VAL,
    FoldTable,
    fixed_table,
    is_fold_table,
    read_fold_table,
)
from foldrun.split.store import manifest_format, save_folds

_HOLDOUT_STREAM = 1_000_003  # SeedSequence path entries that no repeat number reaches
_VAL_STREAM = 1
_INNER_STREAM = 2
# fold folders (repeats x folds, times inner folds) a split may have: each holds manifests
# of the whole table, so beyond this the split writes for minutes and the run plans
# hundreds of thousands of tasks (100 repeats x 10 folds x 10 inner folds still fits)
MAX_FOLDERS = 10_000
PARTS = {"train": TRAIN, "val": VAL, "test": TEST}
NAMES = np.array(["", "train", "val", "test"], dtype=object)  # by part code


@dataclass
class Folds:
    """A fold assignment: in memory after `make_folds`, or read back by `load_folds`."""

    details: dict[str, Any]
    id: str = "id"
    table: pd.DataFrame | None = None  # the input rows (with the id column), when made here
    test_fold: np.ndarray | None = None  # (repeats, rows): test fold, -1 for holdout
    val: np.ndarray | None = None  # (repeats, folds, rows) bool, None without validation sets
    inner: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    # (repeats, folds, rows) part per row (fold_table.OUT/TRAIN/VAL/TEST) when a fold table
    # lists the folds; None when train is "every row not tested, validated or held out"
    members: np.ndarray | None = None
    columns: list[str] = field(default_factory=list)  # group/target/strata for assignments
    group: str | None = None
    root: Path | None = None  # the saved split folder
    manifests: str = "csv"  # the format of its manifests: csv or parquet
    _long: pd.DataFrame | None = None
    _assignments: pd.DataFrame | None = None
    _group_codes: np.ndarray | None = None  # the group column's codes, where made here

    @property
    def n_folds(self) -> int:
        return int(self.details["n_folds"])

    @property
    def n_repeats(self) -> int:
        return int(self.details["n_repeats"])

    @property
    def has_holdout(self) -> bool:
        return bool(self.details.get("holdout"))

    @property
    def has_val(self) -> bool:
        return self.details["params"]["val"] != "none"

    @property
    def long(self) -> pd.DataFrame:
        """id, repeat, fold, subset (train|val|test|holdout): the folds.parquet table."""
        if self._long is None:
            self._long = self._build_long()
        return self._long

    @property
    def assignments(self) -> pd.DataFrame:
        """One row per sample and repeat: id, group/target columns, fold (-1 holdout), repeat."""
        if self._assignments is None:
            self._assignments = self._build_assignments()
        return self._assignments

    def manifest(self, fold: int, subset: str, repeat: int = 0) -> Path:
        """The path of a manifest in the saved folder (`holdout` ignores fold and repeat)."""
        if self.root is None:
            raise SplitError("these folds are not saved yet; call .save(dir) first")
        split = SplitLayout(self.root)
        if subset == "holdout":
            return split.holdout(self.manifests)
        folder = split.fold_dir(fold, repeat, self.n_repeats)
        return split.manifest(folder, subset, self.manifests)

    def indices(self, fold: int, subset: str, repeat: int = 0) -> np.ndarray:
        """Row numbers (input order) of one subset of one fold."""
        if self.test_fold is None:
            raise SplitError("row numbers are known only for folds made in this process")
        tf = self.test_fold[repeat]
        if subset == "holdout":
            return np.flatnonzero(tf == HOLDOUT)
        if self.members is not None:
            return np.flatnonzero(self.members[repeat, fold] == PARTS[subset])
        if subset == "test":
            return np.flatnonzero(tf == fold)
        val = self.val[repeat, fold] if self.val is not None else np.zeros(len(tf), bool)
        if subset == "val":
            return np.flatnonzero(val)
        return np.flatnonzero((tf >= 0) & (tf != fold) & ~val)

    def save(
        self, dir: str | Path, *, overwrite: bool = False, long: bool = True,
        manifests: str = "csv",
    ) -> Path:
        """Write the split folder atomically; see `foldrun.split.store.save_folds`.
        `long=False` leaves folds.parquet out (a plan's scratch copy reads the manifests);
        `manifests="parquet"` writes them as Parquet files (same rows, same dtypes)."""
        return save_folds(self, Path(dir), overwrite=overwrite, long=long, manifests=manifests)

    def _build_long(self) -> pd.DataFrame:
        long = pd.concat([p.to_pandas() for p in self.long_parts()], ignore_index=True)
        return long.astype({"repeat": "int64", "fold": "int64"})

    def long_parts(self) -> Iterator[pa.Table]:
        """The folds.parquet rows a fold at a time (then the holdout): id, repeat, fold,
        subset; a big fold in pieces of LONG_ROWS rows, never repeats x folds of them. Its
        ids are taken from the Arrow column and its subsets from their codes, so no Python
        object is made per row. The schema (pandas' own) is the one pandas would give."""
        assert self.test_fold is not None and self.table is not None
        ids, schema = _long_ids(self.table[self.id])
        for r in range(self.n_repeats):
            tf = self.test_fold[r]
            kept = np.flatnonzero(tf != HOLDOUT)
            for f in range(self.n_folds):
                if self.members is not None:
                    kept = np.flatnonzero(self.members[r, f] != OUT)
                    subset = self.members[r, f, kept]
                else:
                    subset = np.where(tf[kept] == f, TEST, TRAIN)
                    if self.val is not None:
                        subset[self.val[r, f, kept]] = VAL
                yield from _long_part(ids, schema, kept, r, f, subset)
        held = np.flatnonzero(self.test_fold[0] == HOLDOUT)
        if len(held):
            yield from _long_part(ids, schema, held, 0, HOLDOUT, np.full(len(held), _HELD))

    def _build_assignments(self) -> pd.DataFrame:
        assert self.test_fold is not None and self.table is not None
        base = self.table[[self.id, *self.columns]]
        parts = [base.assign(fold=self.test_fold[r], repeat=r) for r in range(self.n_repeats)]
        # one repeat: the rows as they are (index 0..n-1 already), not a copy of every id
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _long_ids(ids: pd.Series) -> tuple[pa.Array, pa.Schema]:
    """The id column as one Arrow array, and the schema of folds.parquet for it: that of
    the pandas frame (id, repeat, fold, subset of Python strings) folds.parquet was."""
    sample = pd.DataFrame({
        "id": ids.iloc[:1].reset_index(drop=True),
        "repeat": np.zeros(1, np.int64),
        "fold": np.zeros(1, np.int64),
        "subset": np.array(["test"], dtype=object),
    })  # fmt: skip
    schema = pa.Schema.from_pandas(sample, preserve_index=False)
    values = pa.array(ids, from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(schema.field("id").type), schema


_HELD = len(NAMES)  # the subset code of holdout rows, after the part codes
LONG_ROWS = 1 << 18  # folds.parquet rows made and written at a time
_SUBSETS = pa.array([*NAMES.tolist(), "holdout"], type=pa.string())


def _long_part(
    ids: pa.Array, schema: pa.Schema, rows: np.ndarray, repeat: int, fold: int,
    subset: np.ndarray,
) -> Iterator[pa.Table]:
    """`subset`: a part code per row (fold_table.TRAIN ...; `_HELD` for holdout); in
    pieces of LONG_ROWS rows (one row group each: a fold of a big table is never whole)."""
    for start in range(0, len(rows), LONG_ROWS):
        part, codes = rows[start : start + LONG_ROWS], subset[start : start + LONG_ROWS]
        n = len(part)
        # rows come sorted: a run of consecutive ones (every row of a fold without holdout)
        # is a slice of the ids, not a copy of them
        run = n > 0 and int(part[-1]) - int(part[0]) == n - 1
        yield pa.Table.from_arrays(
            [ids.slice(int(part[0]), n) if run else ids.take(pa.array(part)),
             pa.array(np.full(n, repeat, np.int64)),
             pa.array(np.full(n, fold, np.int64)), _SUBSETS.take(pa.array(codes))],
            schema=schema,
        )  # fmt: skip


def make_folds(
    df: pd.DataFrame,
    *,
    id: str | None = None,
    target: str | list[str] | None = None,
    group: str | list[str] | None = None,
    stratify: str | list[str] | None = None,
    strategy: str = "auto",
    folds: int = 5,
    val: str | float = "none",
    holdout: float | None = None,
    repeats: int = 1,
    inner: int | None = None,
    bins: int | None = None,
    seed: int = 0,
    fold_column: str | list[str] | None = None,
    source: str | Path | None = None,
) -> Folds:
    """Assign every row of `df` to folds without leakage; nothing is written.

    Raises DataError (bad columns or values) or SplitError (impossible options).
    """
    strat_cols = [stratify] if isinstance(stratify, str) else list(stratify or [])
    requested = strategy
    strategy, repeats = _repeated(strategy, repeats)
    val = _val(val)
    _check_numbers(folds, repeats, inner, holdout, bins, seed)
    df = _keys_as_text(df, source, (id or "id", *group_columns(group)))
    named_group, (df, group) = group, composite_group(df, group)
    table, id_col = _with_id(df, id)
    params = {
        "id": id_col, "target": target, "group": named_group, "stratify": strat_cols,
        "strategy": requested, "folds": folds, "val": val, "holdout": holdout,
        "repeats": repeats, "inner": inner, "bins": bins, "seed": seed,
        "fold_column": fold_column,
    }  # fmt: skip
    listed = _listed_folds(table, fold_column, strategy, id_col, group)
    if listed is not None and (listed.listed or strategy == "fixed" or listed.n_folds == 1):
        return _from_listed(listed, table, params, strategy, target, group, source)
    if listed is not None:  # test folds only: a fold column like any other
        table, fold_column = table.assign(__fold__=listed.test_fold()), "__fold__"
    choice = choose(table, strategy, target, group, strat_cols, fold_column, bins)
    if choice.strategy == "predefined":
        folds = _predefined_checks(choice, repeats, holdout)
    if "__fold__" in table.columns and "__fold__" not in df.columns:
        table = table.drop(columns="__fold__")  # from a fold table: not part of the rows
    params["folds"] = folds
    test_fold = _test_folds(choice, len(table), folds, repeats, holdout, seed)
    val_mask = _val_masks(choice, test_fold, folds, val, seed)
    inner_folds = _inner_folds(choice, _train_masks(test_fold, val_mask, folds), inner, seed)
    verify(test_fold, choice.groups, group)
    result = Folds(
        details={},
        id=id_col,
        table=table,
        test_fold=test_fold,
        val=val_mask,
        inner=inner_folds,
        columns=_kept_columns(table, id_col, group, target, strat_cols, fold_column),
        group=group,
        _group_codes=choice.groups,
    )
    result.details = _details(result, choice, params, source)
    return result


def _repeated(strategy: str, repeats: int) -> tuple[str, int]:
    if not isinstance(strategy, str):
        raise SplitError(f"strategy must be a name, got {strategy!r}")
    if strategy.startswith("repeated-"):
        if repeats < 2:
            raise SplitError(
                f"strategy {strategy!r} needs repeats >= 2, got {repeats}; pass --repeats R",
                key="repeats",
            )
        return strategy.removeprefix("repeated-"), repeats
    return strategy, repeats


def _val(val: str | float | None) -> str | float:
    if val is None or val == "none":
        return "none"
    if val == "next-fold":
        return val
    try:
        fraction = float(val)
    except (TypeError, ValueError):
        raise SplitError(
            f"val must be 'next-fold', 'none' or a fraction in (0, 1), got {val!r}", key="val"
        ) from None
    if not 0 < fraction < 1:
        raise SplitError(f"val fraction must be in (0, 1), got {val!r}", key="val")
    return fraction


def _check_numbers(
    folds: int, repeats: int, inner: int | None, holdout: float | None, bins: int | None,
    seed: int,
) -> None:
    whole_seed = isinstance(seed, int | np.integer) and not isinstance(seed, bool)
    checks = [
        ("folds", folds, isinstance(folds, int) and folds >= 2, "an integer >= 2"),
        ("repeats", repeats, isinstance(repeats, int) and repeats >= 1, "an integer >= 1"),
        ("inner", inner, inner is None or (isinstance(inner, int) and inner >= 2), ">= 2"),
        ("holdout", holdout, holdout is None or 0 < float(holdout) < 1, "a fraction in (0, 1)"),
        ("bins", bins, bins is None or (isinstance(bins, int) and bins >= 2), ">= 2"),
        ("seed", seed, whole_seed and 0 <= seed < 2**63, "a whole number from 0 to 2**63 - 1"),
    ]
    for name, value, ok, rule in checks:
        if not ok:
            raise SplitError(f"{name} must be {rule}, got {value!r}", key=name)
    folders = repeats * folds * (1 + (inner or 0))
    if folders > MAX_FOLDERS:
        raise SplitError(
            f"repeats x folds{' x (1 + inner)' if inner else ''} = {folders} fold folders, "
            f"more than {MAX_FOLDERS} (each holds manifests of the whole table); "
            "lower --repeats or --folds",
            key="repeats",
        )


def composite_group(
    df: pd.DataFrame, group: str | list[str] | None
) -> tuple[pd.DataFrame, str | None]:
    """(the rows, their group column): a composite key [a, b] is one more column `a+b`
    holding `x|y` (a row missing either part has no group, which `column` refuses)."""
    columns, name = group_columns(group), composite_name(group)
    if len(columns) < 2 or name in df.columns:
        return df, name
    parts = [column(df, c, "group") for c in columns]  # each part named when missing
    key = parts[0].astype(str)
    for part in parts[1:]:
        key = key + "|" + part.astype(str)
    return df.assign(**{str(name): key}), name


def _keys_as_text(
    df: pd.DataFrame, source: str | Path | None, names: tuple[str | None, ...]
) -> pd.DataFrame:
    """Ids and groups are text (`007` stays `007`). A frame read from a CSV/TSV `source`
    with numbers in those columns gets them again as written in the file."""
    from pandas.api.types import is_string_dtype

    parsed = [n for n in names if n and n in df.columns and not is_string_dtype(df[n])]
    if not parsed or source is None or not str(source).lower().endswith((".csv", ".tsv")):
        return df
    try:
        text = read_table(source, text=parsed)
    except DataError:
        return df  # not the file the frame came from: keep the frame as it is
    if len(text) != len(df) or list(text.columns) != list(df.columns):
        return df
    return df.assign(**{n: text[n].to_numpy() for n in parsed})


def _with_id(df: pd.DataFrame, id: str | None) -> tuple[pd.DataFrame, str]:
    """The table with its id column first-class; a row-number `id` column when there is none."""
    if not isinstance(df, pd.DataFrame) or len(df) == 0:
        raise DataError("the table has no rows; give a table with at least one row per fold")
    if id is None and "id" not in df.columns:
        table = df.reset_index(drop=True)
        table.insert(0, "id", np.arange(len(df)))
        return table, "id"
    name = id or "id"
    ids = column(df, name, "id")
    if core.all_distinct(ids):  # the common case, in little memory; then which one repeats
        return df.reset_index(drop=True), name
    dup = ids.duplicated()
    if dup.any():
        raise DataError(
            f"duplicate id {ids[dup].iloc[0]!r} ({int(dup.sum())} duplicate(s)); "
            "ids must be unique: fix the table or name another --id column",
            column=name,
        )
    return df.reset_index(drop=True), name


def _listed_folds(
    table: pd.DataFrame, fold_column: str | list[str] | None, strategy: str, id_col: str,
    group: str | None,
) -> FoldTable | None:
    """The folds a fold table (or a fixed train/val/test column) lists; None otherwise."""
    if fold_column is None:
        return None
    if is_fold_table(fold_column, table.columns):
        return read_fold_table(fold_column, table, id_col, group)
    values = column(table, fold_column, "fold")
    named = set(values.astype(str).str.strip().str.lower()) <= {"train", "val", "test", "holdout"}
    if strategy == "fixed" or (strategy == "auto" and named):
        return fixed_table(table, fold_column, id_col, group)
    return None


def _from_listed(
    listed: FoldTable, table: pd.DataFrame, params: dict[str, Any], strategy: str,
    target: str | list[str] | None, group: str | None, source: str | Path | None,
) -> Folds:
    """Folds exactly as a fold table lists them (or one fixed train/val/test split)."""
    n = listed.n_folds
    if strategy not in ("auto", "fixed", "predefined"):
        raise SplitError(f"a fold table gives the folds itself; drop strategy {strategy!r}",
                         key="strategy")  # fmt: skip
    if strategy == "fixed" and n != 1:
        raise SplitError(f"strategy 'fixed' is one train/val/test split, and the fold table "
                         f"has {n} folds; use strategy 'predefined'", key="strategy")  # fmt: skip
    if strategy == "predefined" and n == 1:
        raise SplitError("the fold table has one fold; use strategy 'fixed' for a single "
                         "train/val/test split", key="strategy")  # fmt: skip
    for key, bad in (("repeats", params["repeats"] > 1), ("holdout", params["holdout"]),
                     ("val", params["val"] != "none" and listed.listed)):  # fmt: skip
        if bad:
            raise SplitError(f"the fold table gives the folds; drop {key} (list val or holdout "
                             "rows in the table instead)", key=key)  # fmt: skip
    name = "fixed" if n == 1 else "predefined"
    why = "one train/val/test split was given" if n == 1 else "the fold table lists each fold"
    groups = None if group is None else core.text_codes(table[group])
    choice = Choice(name, why, groups=groups, notes={"fold_table": listed.note})
    members = listed.members[None, :, :]
    val = members == VAL if (members == VAL).any() else None
    inner = _inner_folds(choice, members == TRAIN, params["inner"], params["seed"])
    params = {**params, "folds": n, "val": "listed" if val is not None else "none"}
    named = params["fold_column"]  # a column of the table is kept in assignments.csv
    kept = named if isinstance(named, str) and named in table.columns else None
    result = Folds(
        details={}, id=params["id"], table=table, test_fold=listed.test_fold()[None, :],
        val=val, inner=inner, members=members, group=group,
        columns=_kept_columns(table, params["id"], group, target, params["stratify"], kept),
    )
    result.details = _details(result, choice, params, source)
    return result


def _predefined_checks(choice: Choice, repeats: int, holdout: float | None) -> int:
    if repeats > 1:
        raise SplitError("a predefined split cannot be repeated; drop --repeats", key="repeats")
    if holdout is not None:
        raise SplitError(
            "a predefined split takes its holdout from the fold column (-1 or 'holdout'); "
            "drop --holdout",
            key="holdout",
        )
    n_folds = len(np.unique(choice.predefined[choice.predefined >= 0]))
    if n_folds < 2:
        raise SplitError("the fold column holds fewer than 2 folds; give at least 2")
    return n_folds


def _test_folds(
    choice: Choice, n: int, k: int, repeats: int, holdout: float | None, seed: int
) -> np.ndarray:
    if choice.predefined is not None:
        return choice.predefined[None, :].copy()
    assign = assigner(choice)
    rows = np.arange(n)
    held = np.zeros(n, dtype=bool)
    if holdout is not None:
        parts = max(2, round(1 / holdout))
        _fraction_fits(choice, rows, holdout, parts, "holdout")
        _feasible(choice, rows, parts, "holdout")
        held = assign(rows, parts, rng_for(seed, _HOLDOUT_STREAM)) == 0
        rows = np.flatnonzero(~held)
    _feasible(choice, rows, k, "folds")
    test_fold = np.full((repeats, n), HOLDOUT, dtype=np.int64)
    for r in range(repeats):
        test_fold[r, rows] = assign(rows, k, rng_for(seed, r))
    return test_fold


def _units(choice: Choice, rows: np.ndarray) -> tuple[int, str]:
    """How many of what a part needs one of: groups when rows are grouped, else rows."""
    if choice.groups is not None:
        return core.n_distinct(choice.groups[rows]), "groups"
    return len(rows), "rows"


def _fraction_fits(
    choice: Choice, rows: np.ndarray, fraction: float, parts: int, key: str
) -> None:
    """A fraction F takes one part of round(1/F): there must be a row (group) per part."""
    n_units, name = _units(choice, rows)
    if parts > n_units:
        smallest = 1 / max(n_units, 2)
        raise SplitError(
            f"{key} {fraction:g} is too small for {n_units} {name} (it is taken as 1 part in "
            f"{parts}, and each part needs at least one of the {name}); the smallest {key} "
            f"for these {name} is {smallest:.4g}: raise --{key}",
            key=key,
        )


def _feasible(choice: Choice, rows: np.ndarray, k: int, key: str) -> None:
    """Enough rows, groups and class members for k non-empty, balanced parts."""
    what = " after the holdout" if key == "folds" and rows.size else ""
    # a fraction F is cut into round(1/F) parts: fewer parts means a larger fraction
    parts, fix = (f"the {k} parts of --{key}", "raise") if key in ("holdout", "val") else (
        f"{k} {key}", "lower")  # fmt: skip
    n_units, name = _units(choice, rows)
    if n_units < k:
        raise SplitError(
            f"{parts} need at least {k} {name}, found {n_units}{what}; "
            f"{fix} --{key} or give more data",
            key=key,
        )
    if choice.codes is None or choice.strategy == "continuous":
        return
    counts = np.bincount(choice.codes[rows])
    small = np.flatnonzero((counts > 0) & (counts < k))
    if len(small):
        raise SplitError(
            f"a class (stratum {int(small[0])}) has {int(counts[small[0]])} member(s){what}, "
            f"fewer than {parts}; {fix} --{key}, merge rare classes, or drop them",
            key=key,
        )


def _val_masks(
    choice: Choice, test_fold: np.ndarray, k: int, val: str | float, seed: int
) -> np.ndarray | None:
    if val == "none":
        return None
    repeats, n = test_fold.shape
    masks = np.zeros((repeats, k, n), dtype=bool)
    if val == "next-fold":
        if k < 3:
            raise SplitError("val 'next-fold' needs folds >= 3 (train/val/test)", key="val")
        for r in range(repeats):
            for f in range(k):
                masks[r, f] = test_fold[r] == (f + 1) % k
        return masks
    parts = max(2, round(1 / float(val)))
    assign = assigner(choice)
    for r in range(repeats):
        for f in range(k):
            rows = np.flatnonzero((test_fold[r] >= 0) & (test_fold[r] != f))
            _fraction_fits(choice, rows, float(val), parts, "val")
            masks[r, f, rows[assign(rows, parts, rng_for(seed, r, f, _VAL_STREAM)) == 0]] = True
    return masks


def _train_masks(test_fold: np.ndarray, val: np.ndarray | None, k: int) -> np.ndarray:
    """(repeats, folds, rows) bool: the rows each fold trains on."""
    train = np.stack([(test_fold >= 0) & (test_fold != f) for f in range(k)], axis=1)
    return train & ~val if val is not None else train


def _inner_folds(
    choice: Choice, train: np.ndarray, inner: int | None, seed: int
) -> dict[tuple[int, int], np.ndarray]:
    if inner is None:
        return {}
    assign = assigner(choice)
    out = {}
    repeats, k, n = train.shape
    for r in range(repeats):
        for f in range(k):
            rows = np.flatnonzero(train[r, f])
            _feasible(choice, rows, inner, "inner")
            fold = np.full(n, -1, dtype=np.int64)
            fold[rows] = assign(rows, inner, rng_for(seed, r, f, _INNER_STREAM))
            out[(r, f)] = fold
    return out


def _kept_columns(
    table: pd.DataFrame,
    id_col: str,
    group: str | None,
    target: str | list[str] | None,
    stratify: list[str],
    fold_column: str | None,
) -> list[str]:
    targets = target if isinstance(target, list) else [target]
    names = [group, *targets, *stratify, fold_column]
    seen: list[str] = []
    for name in names:
        if name and name != id_col and name in table.columns and name not in seen:
            seen.append(name)
    return seen


def _details(
    folds: Folds, choice: Choice, params: dict[str, Any], source: str | Path | None
) -> dict[str, Any]:
    assert folds.table is not None and folds.test_fold is not None
    n_repeats, k = folds.test_fold.shape[0], int(params["folds"])
    out: dict[str, Any] = {
        "foldrun_version": __version__,
        "strategy": choice.strategy,
        "requested_strategy": params["strategy"],
        "reason": choice.reason,
        "params": params,
        "seed": params["seed"],
        "n_folds": k,
        "n_repeats": n_repeats,
        "n_rows": len(folds.table),
        "input": {
            "path": str(source) if source is not None else None,
            "sha256": stats.sha256_of(source, folds.table),
        },
        **choice.notes,
    }
    if choice.groups is not None:
        out["n_groups"] = core.n_distinct(choice.groups)
    describe = _describer(folds.table, params, choice)
    out["folds"] = [
        {"repeat": r, "fold": f, **_fold_entry(folds, describe, f, r)}
        for r in range(n_repeats)
        for f in range(k)
    ]
    held = folds.indices(0, "holdout")
    out["holdout"] = {"size": len(held), **describe(held)} if len(held) else None
    out["balance"] = _balance(out["folds"])
    return out


def _fold_entry(folds: Folds, describe: Any, f: int, r: int) -> dict[str, Any]:
    test = folds.indices(f, "test", r)
    entry = {
        "train_size": len(folds.indices(f, "train", r)),
        "val_size": len(folds.indices(f, "val", r)),
        "test_size": len(test),
        **describe(test),
    }
    entry["balance"] = stats.num(1.0 - (entry.get("max_share_deviation") or entry.get("ks") or 0))
    return entry


def _describer(table: pd.DataFrame, params: dict[str, Any], choice: Choice) -> Any:
    """fn(rows) -> the statistics of the target over those rows."""
    target = params["target"]
    if isinstance(target, list):
        labels = choice.labels if choice.labels is not None else table[target].to_numpy(bool)
        whole = labels.mean(axis=0)
        return lambda rows: stats.label_stats(labels[rows], list(target), whole)
    if target is None:
        return lambda rows: {}
    if choice.y is not None:
        whole_sorted = np.sort(choice.y)
        return lambda rows: stats.target_stats(choice.y[rows], whole_sorted)
    if isinstance(table[target].dtype, pd.CategoricalDtype):  # its classes sort by category
        values = table[target].to_numpy()
        whole_counts = pd.Series(values).value_counts().sort_index()
        return lambda rows: stats.class_stats(values[rows], whole_counts)
    return _class_counter(table[target])


def _class_counter(values: pd.Series) -> Any:
    """fn(rows) -> `details.class_stats` of those rows, counted from class codes (the column
    hashed once) instead of a Python object per row (1e6 text labels: ~100 MB less)."""
    codes, classes = pd.factorize(values)
    whole = pd.Series(np.bincount(codes, minlength=len(classes)), index=classes).sort_index()
    place = whole.index.get_indexer(classes)[codes]  # each row's class, in whole's order

    def describe(rows: np.ndarray) -> dict[str, Any]:
        counts = np.bincount(place[rows], minlength=len(whole))
        return stats.count_stats(pd.Series(counts, index=whole.index), len(rows), whole)

    return describe


def _balance(entries: list[dict[str, Any]]) -> dict[str, Any]:
    sizes = [e["test_size"] for e in entries]
    out = {
        "min_test_size": min(sizes),
        "max_test_size": max(sizes),
        "size_ratio": stats.num(min(sizes) / max(sizes)) if max(sizes) else None,
    }
    deviations = [e["max_share_deviation"] for e in entries if "max_share_deviation" in e]
    if deviations:
        out["max_share_deviation"] = max(deviations)
    ks = [e["ks"] for e in entries if e.get("ks") is not None]
    if ks:
        out["max_ks"] = max(ks)
    return out


def load_folds(dir: str | Path) -> Folds:
    """Read a split folder written by `foldrun split` / `Folds.save` (split/store.py writes
    its files, layout.SplitLayout names them; the class is built here, so store needs Folds
    only as a type)."""
    root = Path(dir)
    split = SplitLayout(root)
    try:
        details = json.loads(split.details.read_text())
        long = pd.read_parquet(split.folds_parquet)
        assignments = pd.read_csv(split.assignments_csv)
    except FileNotFoundError as err:
        raise SplitError(
            f"not a split folder ({Path(err.filename).name} missing); run 'foldrun split' first",
            file=root,
        ) from None
    except (ValueError, OSError) as err:
        raise SplitError(f"the split folder is damaged ({err}); make it again", file=root) from err
    return Folds(
        details=details,
        id=str(details["params"]["id"]),
        group=composite_name(details["params"].get("group")),
        root=root,
        manifests=manifest_format(root),
        _long=long,
        _assignments=assignments,
    )
