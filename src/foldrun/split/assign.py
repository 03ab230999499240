"""From a data table and the options of `foldrun split` to fold numbers: checks the input,
chooses the strategy (`auto`), and assigns test folds, holdout, validation and inner folds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from foldrun.core.strategies import GROUPED, STRATEGIES
from foldrun.errors import DataError, SplitError
from foldrun.split import core
from foldrun.split.fold_table import NO_TEST

DEFAULT_GROUP_BINS = 10  # quantile bins of a continuous target when groups must stay whole
HOLDOUT = -1

Assign = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


@dataclass
class Choice:
    """The strategy actually used and what the data gave it."""

    strategy: str
    reason: str
    groups: np.ndarray | None = None  # group codes per row
    codes: np.ndarray | None = None  # class / stratum codes per row
    y: np.ndarray | None = None  # continuous target
    labels: np.ndarray | None = None  # multilabel 0/1 matrix
    predefined: np.ndarray | None = None  # fold per row (predefined)
    notes: dict[str, Any] = field(default_factory=dict)


def rng_for(seed: int, *path: int) -> np.random.Generator:
    """An independent stream per (seed, repeat, ...) so repeats never share randomness."""
    return np.random.default_rng(np.random.SeedSequence([seed, *path]))


def column(df: pd.DataFrame, name: str, what: str) -> pd.Series:
    if name not in df.columns:
        raise DataError(
            f"{what} column not found; the table has: {', '.join(map(str, df.columns[:20]))}",
            column=name,
        )
    values = df[name]
    bad = values.isna() | _blank(values)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        bad |= np.isinf(values.to_numpy(dtype=float))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{int(bad.sum())} empty, NaN or infinite value(s) in the {what} column "
            f"(first at row {row}); fill or drop those rows",
            column=name,
        )
    return values


def _blank(values: pd.Series) -> np.ndarray:
    """Per row: the value's text is empty or whitespace (`str.strip() == ""`), found
    without a stripped copy of every string (a number's text never is: not formatted)."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return np.zeros(len(values), dtype=bool)
    text = values
    if not pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
        text = values.astype(str)
    blank = (text.str.len() == 0) | text.str.isspace()
    return blank.fillna(False).to_numpy(dtype=bool)


def is_continuous(values: pd.Series) -> bool:
    """A float target with many values (or non-integer values) is a regression target."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    if values.nunique() > 20:
        return True
    arr = values.to_numpy(dtype=float)
    return bool(np.any(arr != np.round(arr)))


def choose(
    df: pd.DataFrame,
    strategy: str,
    target: str | list[str] | None,
    group: str | None,
    stratify: list[str],
    fold_column: str | None,
    bins: int | None,
) -> Choice:
    """The strategy to use and the arrays it needs; DataError/SplitError for bad input."""
    if strategy not in STRATEGIES:
        raise SplitError(
            f"unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)} "
            "(each also as 'repeated-<strategy>')"
        )
    groups = None
    if group is not None:
        groups = core.text_codes(column(df, group, "group"))
    if strategy == "auto":
        strategy, reason = _auto(df, target, group, fold_column, bool(stratify))
    else:
        reason = "chosen by the user"
    choice = Choice(strategy, reason, groups=groups)
    if strategy in GROUPED and groups is None:
        raise SplitError(f"strategy {strategy!r} needs a group column; pass --group COL")
    _fill(choice, df, target, stratify, fold_column, bins)
    return choice


def _auto(
    df: pd.DataFrame,
    target: str | list[str] | None,
    group: str | None,
    fold_column: str | None,
    stratify: bool = False,
) -> tuple[str, str]:
    if fold_column is not None:
        return "predefined", f"a fold column ({fold_column}) was given"
    if isinstance(target, list):
        return "multilabel", f"the target is {len(target)} 0/1 columns"
    if target is None:
        if stratify:  # --stratify asks for stratification: honour it (with groups: whole)
            if group:
                return "stratified-grouped", "no target; stratify columns, groups kept whole"
            return "stratified", "no target; stratified on the stratify columns"
        if group:
            return "grouped", "no target; a group column keeps groups whole"
        return "kfold", "no target and no group column"
    values = column(df, target, "target")
    if is_continuous(values):
        kind = f"numeric with {values.nunique()} distinct values"
        if group:
            return "continuous", f"the target is {kind} (continuous) and groups must stay whole"
        return "continuous", f"the target is {kind} (continuous)"
    kind = f"categorical with {values.nunique()} classes"
    if group:
        return "stratified-grouped", f"the target is {kind} and there is a group column"
    return "stratified", f"the target is {kind}"


def _fill(
    choice: Choice,
    df: pd.DataFrame,
    target: str | list[str] | None,
    stratify: list[str],
    fold_column: str | None,
    bins: int | None,
) -> None:
    strategy = choice.strategy
    if strategy == "multilabel":
        choice.labels = _labels(df, target)
    elif strategy == "continuous":
        if not isinstance(target, str):
            raise SplitError("strategy 'continuous' needs one numeric target; pass --target COL")
        choice.y = _numeric(df, target)
        if bins or choice.groups is not None:
            n_bins = bins or DEFAULT_GROUP_BINS
            choice.codes = _combine(df, [], core.quantile_codes(choice.y, n_bins))
            choice.notes["bins"] = n_bins
    elif strategy in ("stratified", "stratified-grouped"):
        names = ([target] if isinstance(target, str) else []) + stratify
        if not names:
            raise SplitError(f"strategy {strategy!r} needs --target or --stratify columns")
        choice.codes = _combine(df, names)
    elif strategy == "predefined":
        if fold_column is None:
            raise SplitError("strategy 'predefined' needs a fold column; pass --fold-column COL")
        choice.predefined = _predefined(df, fold_column, choice.groups)
    elif stratify:
        raise SplitError(f"strategy {strategy!r} does not stratify; drop --stratify")


def _labels(df: pd.DataFrame, target: str | list[str] | None) -> np.ndarray:
    if not isinstance(target, list) or len(target) < 2:
        raise SplitError("strategy 'multilabel' needs the target as several 0/1 columns")
    out = []
    for name in target:
        values = column(df, name, "label")
        if not values.isin([0, 1, True, False]).all():
            bad = values[~values.isin([0, 1, True, False])].iloc[0]
            raise DataError(f"multilabel columns must hold 0/1, found {bad!r}", column=name)
        out.append(values.to_numpy().astype(bool))
    return np.column_stack(out)


def _numeric(df: pd.DataFrame, name: str) -> np.ndarray:
    values = column(df, name, "target")
    if not pd.api.types.is_numeric_dtype(values):
        raise DataError(
            "a continuous target must be numeric; use --strategy stratified for labels",
            column=name,
        )
    return values.to_numpy(dtype=np.float64)


def _combine(df: pd.DataFrame, names: list[str], extra: np.ndarray | None = None) -> np.ndarray:
    """One code per combination of the values of the stratification columns."""
    parts = [core.text_codes(column(df, n, "stratify")) for n in names]
    if extra is not None:
        parts.append(extra)
    return core.row_codes(parts)


def _predefined(df: pd.DataFrame, name: str, groups: np.ndarray | None) -> np.ndarray:
    values = column(df, name, "fold")
    if pd.api.types.is_numeric_dtype(values):
        raw = values.to_numpy()
        if np.any(raw != np.round(raw)):
            raise DataError("fold numbers must be whole numbers", column=name)
        raw = raw.astype(np.int64)
        kept = np.unique(raw[raw >= 0])
        fold = np.where(raw < 0, HOLDOUT, np.searchsorted(kept, raw))
    else:
        text = values.astype(str).to_numpy()
        is_hold = text == "holdout"
        kept = np.unique(text[~is_hold])
        fold = np.where(is_hold, HOLDOUT, np.searchsorted(kept, text))
    if groups is not None:
        _check_groups_whole(groups, fold, name)
    return fold.astype(np.int64)


def _check_groups_whole(groups: np.ndarray, fold: np.ndarray, name: str) -> None:
    pairs = np.unique(np.column_stack([groups, fold]), axis=0)
    dup = np.flatnonzero(np.diff(pairs[:, 0]) == 0)
    if len(dup):
        raise SplitError(
            "the fold column puts one group in two folds, which leaks between folds; "
            "give every row of a group the same fold",
            column=name,
        )


def assigner(choice: Choice) -> Assign:
    """fn(rows, k, rng) -> test fold of each of `rows` with the chosen strategy."""
    strategy = choice.strategy
    groups, codes = choice.groups, choice.codes

    def assign(rows: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
        if strategy == "multilabel":
            if groups is not None:
                return _multilabel_grouped(choice.labels[rows], groups[rows], k, rng)
            return core.multilabel(choice.labels[rows], k, rng)
        if strategy == "continuous" and codes is None:
            return core.continuous(choice.y[rows], k, rng)
        if groups is not None:  # whatever the strategy, a group never spans test folds
            sub = None if codes is None else codes[rows]
            return core.stratified_grouped(groups[rows], sub, k, rng)
        if codes is not None:
            return core.stratified(codes[rows], k, rng)
        return core.kfold(len(rows), k, rng)

    return assign


def _multilabel_grouped(
    labels: np.ndarray, groups: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Multilabel with groups: stratify on each row's rarest label, keep groups whole."""
    freq = labels.sum(axis=0)
    rank = np.where(labels, freq[None, :], np.inf)
    codes = np.where(labels.any(axis=1), np.argmin(rank, axis=1) + 1, 0)
    return core.stratified_grouped(groups, codes.astype(np.int64), k, rng)


def group_columns(group: str | list[str] | None) -> list[str]:
    """The columns of a group key: one, or several for a composite key."""
    return [group] if isinstance(group, str) else list(group or [])


def composite_name(group: str | list[str] | None) -> str | None:
    """The column a group key is read from: itself, or `a+b` for the composite key [a, b]."""
    columns = group_columns(group)
    return "+".join(columns) if columns else None


def verify(test_fold: np.ndarray, groups: np.ndarray | None, group: str | None) -> None:
    """What must never happen: a group in two test folds of one repeat, a row in none.
    `groups` are integer codes >= 0 (`core.class_codes`)."""
    for r, tf in enumerate(test_fold):
        if groups is None:
            continue
        tested = tf != NO_TEST  # a listed fold table's untested rows: checked where read
        codes, folds = groups[tested], tf[tested]
        # one fold per group code (the last row's): any row elsewhere splits its group
        fold_of = np.zeros(int(codes.max(initial=-1)) + 1, dtype=tf.dtype)
        fold_of[codes] = folds
        if np.any(fold_of[codes] != folds):
            raise SplitError(
                f"internal check failed: a group is in two folds of repeat {r}; "
                "nothing was written, please report this",
                column=group,
            )
