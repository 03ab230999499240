"""Fold tables: long `key, fold[, subset]` tables (one file or several that combine) that
say, per fold, which keys form its train, val and test parts, turned into the part each
row of the data table takes in each fold.

The rule (README "Fold tables"): the rows a fold lists as train (or val) are exactly its
train (or val) part; a fold that lists no train rows trains on every other row. Keys a fold
does not list take no part in it. `holdout` (or fold -1) keeps a key out of every fold.
Written here because no library reads published splits: scikit-learn's PredefinedSplit
only knows one test fold per sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from foldrun.data.table import read_header, read_table
from foldrun.errors import DataError, SplitError

OUT, TRAIN, VAL, TEST = 0, 1, 2, 3  # the part a row takes in a fold
PART_NAMES = {TRAIN: "train", VAL: "val", TEST: "test"}
_PARTS = {"train": TRAIN, "val": VAL, "validation": VAL, "test": TEST, "holdout": -1}
FOLD_COLUMNS = ("fold", "fold_iteration")
NO_TEST = -2  # test_fold of a row that no fold tests (it only trains, or takes no part)


@dataclass
class FoldTable:
    """What a fold table says about every row of the data table."""

    members: np.ndarray  # (folds, rows) int8: OUT, TRAIN, VAL or TEST
    holdout: np.ndarray  # (rows,) bool: kept out of every fold
    listed: bool  # some fold lists its train or val rows (else: test folds only)
    note: dict[str, Any] = field(default_factory=dict)  # what was understood (details.json)

    @property
    def n_folds(self) -> int:
        return int(self.members.shape[0])

    def test_fold(self) -> np.ndarray:
        """The fold testing each row; HOLDOUT (-1) or NO_TEST (-2) when none does."""
        tested = self.members == TEST
        fold = np.where(tested.any(axis=0), tested.argmax(axis=0), NO_TEST)
        return np.where(self.holdout, -1, fold).astype(np.int64)


def is_fold_table(value: str | list[str] | None, columns: pd.Index) -> bool:
    """A fold table (files) rather than a column of the data table."""
    if value is None:
        return False
    return isinstance(value, list) or value not in columns


def read_fold_table(
    paths: str | list[str], table: pd.DataFrame, id_col: str, group: str | None
) -> FoldTable:
    """The fold table file(s) applied to `table`; DataError/SplitError naming the file."""
    files = [paths] if isinstance(paths, str) else list(paths)
    if not files:
        raise DataError("fold_column lists no fold table file; name one", key="fold_column")
    parts = [_read_one(Path(p), table, id_col, group) for p in files]
    by = {p.attrs["by"] for p in parts}
    if len(by) > 1:
        raise DataError(
            f"the fold tables key on different columns ({', '.join(sorted(by))}); key all of "
            "them on the same one",
            file=files[0],
        )
    long = pd.concat(parts, ignore_index=True).drop_duplicates(["key", "fold", "part"])
    return _apply(long, table, by.pop(), group, files)


def fixed_table(
    table: pd.DataFrame, column: str, id_col: str, group: str | None
) -> FoldTable:
    """One fold from a data column holding train/val/test (holdout) per row."""
    values = table[column].astype(str).str.strip().str.lower()
    long = pd.DataFrame({"key": table[id_col].astype(str), "fold": 0, "part": values})
    long = long.assign(part=_parts(long["part"], column, file=None), file=column)
    return _apply(long, table, id_col, group, [column])


def _read_one(path: Path, table: pd.DataFrame, id_col: str, group: str | None) -> pd.DataFrame:
    if not path.is_file():
        raise DataError("fold column not found, and no fold table file of that name",
                        column=str(path))  # fmt: skip
    raw = read_table(path, text=_header(path))  # keys as written: `007` stays `007`
    names = list(raw.columns)
    fold_col = next((c for c in names if str(c).strip().lower() in FOLD_COLUMNS), None)
    if fold_col is None:
        raise DataError(
            f"a fold table needs a fold column ('fold' or 'fold_iteration'); found: "
            f"{', '.join(map(str, names))}",
            file=path,
        )
    part_col = next((c for c in names if str(c).strip().lower() == "subset"), None)
    key_col, by = _key_column(names, {fold_col, part_col}, table, id_col, group, path)
    keys = raw[key_col]
    if keys.isna().any():
        raise DataError(f"empty key in column {key_col!r} (row {int(keys.isna().argmax())}); "
                        "fill or drop it", file=path)  # fmt: skip
    if part_col is None:
        part = pd.Series("test", index=raw.index)
    else:
        part = raw[part_col].astype("string").str.strip().str.lower()
    out = pd.DataFrame({
        "key": keys.astype(str).str.strip(),
        "fold": _fold_numbers(raw[fold_col], path, fold_col),
        "part": _parts(part, part_col or "subset", file=path),
        "file": path.name,
    })  # fmt: skip
    out.attrs["by"] = by
    out.attrs["columns"] = {"key": key_col, "fold": fold_col, "subset": part_col}
    return out


def _header(path: Path) -> list[str]:
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except Exception:  # read_table names the damaged file in one line
            return []
    return read_header(path, "\t" if path.suffix.lower() == ".tsv" else ",")


def _key_column(
    names: list[str], taken: set[str | None], table: pd.DataFrame, id_col: str,
    group: str | None, path: Path,
) -> tuple[str, str]:
    """(the key column of the fold table, the data column it names)."""
    for candidate in (group, id_col):
        if candidate is not None and candidate in names:
            return candidate, candidate
    rest = [c for c in names if c not in taken]
    if len(rest) == 1 and rest[0] in table.columns:
        return rest[0], rest[0]
    if len(rest) == 1:  # a key column named otherwise: the group's keys when there are groups
        return rest[0], group or id_col
    raise DataError(
        f"cannot tell the key column of the fold table among {', '.join(map(str, rest))}; "
        f"name it like the id ({id_col}) or group ({group}) column",
        file=path,
    )


def _fold_numbers(values: pd.Series, path: Path, column: str) -> pd.Series:
    numbers = pd.to_numeric(values.astype("string").str.strip(), errors="coerce")
    bad = numbers.isna() | (numbers != numbers.round())
    if bad.any():
        first = values[bad].iloc[0]
        raise DataError(f"fold values must be whole numbers (-1 for holdout), found {first!r}",
                        file=path, column=column)  # fmt: skip
    return numbers.astype(np.int64)


def _parts(values: pd.Series, column: str, file: Path | None) -> pd.Series:
    parts = values.map(_PARTS)
    if parts.isna().any():
        first = values[parts.isna()].iloc[0]
        raise DataError(
            f"subset {first!r} is not train, val, test or holdout; fix that row",
            file=file, column=column,
        )  # fmt: skip
    return parts.astype(np.int64)


def _apply(
    long: pd.DataFrame, table: pd.DataFrame, by: str, group: str | None, files: list[str]
) -> FoldTable:
    held_keys = set(long.loc[(long["part"] == -1) | (long["fold"] < 0), "key"])
    folds = long[(long["part"] >= 0) & (long["fold"] >= 0)]
    _check_one_part(folds, files)
    labels = np.unique(folds["fold"].to_numpy())
    keys = pd.Index(pd.unique(long["key"]))
    row_key = keys.get_indexer(table[by].astype(str).to_numpy())
    _some_key_in_table(row_key, keys, by, files)
    per_key = np.zeros((len(labels), len(keys) + 1), dtype=np.int8)  # last column: unlisted
    fold_idx = np.searchsorted(labels, folds["fold"].to_numpy())
    per_key[fold_idx, keys.get_indexer(folds["key"])] = folds["part"].to_numpy()
    members = per_key[:, row_key]  # row_key -1 picks the unlisted column
    holdout = np.isin(row_key, keys.get_indexer(list(held_keys))) & (row_key >= 0)
    listed = bool(np.isin(folds["part"], [TRAIN, VAL]).any())
    _train_the_rest(members, holdout, folds, fold_idx)
    _check_holdout(members, holdout, files)
    _every_fold_trains_and_tests(members, labels, files)
    if group is not None and by != group:
        _check_groups(members, holdout, table[group].astype(str).to_numpy(), group, files)
    if not listed:
        _every_row_tested(members, holdout, table, by, files)
    note = {
        "files": [str(f) for f in files],
        "key": by,
        "n_folds": len(labels),
        "fold_values": [int(v) for v in labels],
        "lists_train_or_val": listed,
        **_unmatched(keys, table[by].astype(str), (members == OUT).all(axis=0) & ~holdout),
    }
    return FoldTable(members=members, holdout=holdout, listed=listed, note=note)


def _unmatched(keys: pd.Index, values: pd.Series, in_no_fold: np.ndarray) -> dict[str, Any]:
    """How far the fold table's keys and the data table's rows agree (details.json; a
    spec's check refuses a disagreement: `unlisted_problem`), with three examples each."""
    foreign = keys[~keys.isin(values)]
    return {
        "keys": len(keys),
        "keys_not_in_table": len(foreign),
        "keys_not_in_table_examples": [str(k) for k in foreign[:3]],
        "rows_in_no_fold": int(in_no_fold.sum()),
        "rows_in_no_fold_examples": [str(v) for v in pd.unique(values[in_no_fold])[:3]],
    }


def unlisted_problem(note: dict[str, Any] | None, foreign_keys: bool = True) -> str:
    """'' when every row of the data table is in some fold (or the holdout) and every key of
    the fold table is a row; else one line: how many keys matched, how many rows are in no
    part, three examples of each. A key written `7` for the id `007` leaves that row out
    of every fold without a word; `[split] unlisted = "sit out"` says it is meant.
    `foreign_keys=False`: keys the table lacks are no problem (a filter dropped rows)."""
    foreign = bool(note and note.get("keys_not_in_table")) and foreign_keys
    if not note or not (note.get("rows_in_no_fold") or foreign):
        return ""
    matched = note["keys"] - note["keys_not_in_table"]
    names = ", ".join(Path(f).name for f in note.get("files", []))
    text = f"{matched} of the {note['keys']} keys of fold table {names} match"
    text += f" a {note['key']!r} value"
    if note["keys_not_in_table"]:
        text += f" (not: {', '.join(map(repr, note['keys_not_in_table_examples']))})"
    text += f"; {note['rows_in_no_fold']} row(s) of the data table are in no fold"
    if note["rows_in_no_fold"]:
        text += f" (e.g. {', '.join(map(repr, note['rows_in_no_fold_examples']))})"
    return (
        f"{text}. Write the keys as the data table does ('007' is not '7'), or set "
        '[split] unlisted = "sit out" if those rows are meant to take no part'
    )


def _some_key_in_table(row_key: np.ndarray, keys: pd.Index, by: str, files: list[str]) -> None:
    """Keys that match no row (another column's values, another cohort) list nothing."""
    if len(keys) and not (row_key >= 0).any():
        raise DataError(
            f"none of the {len(keys)} keys of the fold table is a {by!r} value of the data "
            f"table (e.g. {keys[0]!r}); key the fold table on the id or group column",
            file=files[0],
        )


def _every_fold_trains_and_tests(
    members: np.ndarray, labels: np.ndarray, files: list[str]
) -> None:
    """A fold with no train or no test row of the data table cannot be fitted or scored."""
    for label, row in zip(labels, members, strict=True):
        for part in (TEST, TRAIN):
            if not (row == part).any():
                name = PART_NAMES[part]
                raise SplitError(
                    f"fold {label} has no {name} row in the data table (the fold table lists "
                    f"none of its rows as {name}); list them, or drop the fold",
                    file=files[0],
                )


def _check_one_part(folds: pd.DataFrame, files: list[str]) -> None:
    """A key in two parts of one fold would leak (must never happen)."""
    twice = folds.duplicated(["key", "fold"], keep=False)
    if twice.any():
        row = folds[twice].sort_values(["key", "fold"]).iloc[0]
        same = twice & (folds["key"] == row["key"]) & (folds["fold"] == row["fold"])
        seen = sorted(PART_NAMES[p] for p in folds.loc[same, "part"])
        raise SplitError(
            f"key {row['key']!r} is in {' and '.join(seen)} of fold {row['fold']}; give it "
            "one subset per fold",
            file=files[0],
        )
    tested = folds[folds["part"] == TEST]
    again = tested.duplicated("key")
    if again.any():
        key = tested[again]["key"].iloc[0]
        raise SplitError(f"key {key!r} is in two test folds of the fold table; give each "
                         "key one test fold", file=files[0])  # fmt: skip


def _train_the_rest(
    members: np.ndarray, holdout: np.ndarray, folds: pd.DataFrame, fold_idx: np.ndarray
) -> None:
    """A fold that lists no train rows trains on every row it does not test or validate."""
    with_train = set(fold_idx[folds["part"].to_numpy() == TRAIN].tolist())
    for f in range(members.shape[0]):
        if f not in with_train:
            members[f, (members[f] == OUT) & ~holdout] = TRAIN


def _check_holdout(members: np.ndarray, holdout: np.ndarray, files: list[str]) -> None:
    used = (members[:, holdout] != OUT).any(axis=0)
    if used.any():
        raise SplitError("a holdout key is also listed in a fold; keep holdout keys out of "
                         "every fold", file=files[0])  # fmt: skip


def _check_groups(
    members: np.ndarray, holdout: np.ndarray, groups: np.ndarray, group: str, files: list[str]
) -> None:
    """Rows of one group in two parts of a fold (or in a fold and the holdout) leak."""
    codes = pd.factorize(groups)[0]
    for f, row in enumerate(members):
        part = np.where(holdout, -1, row.astype(np.int64))
        pairs = np.unique(np.column_stack([codes, part])[part != OUT], axis=0)
        dup = np.flatnonzero(np.diff(pairs[:, 0]) == 0)
        if len(dup):
            name = groups[codes == pairs[dup[0], 0]][0]
            raise SplitError(
                f"group {name!r} has rows in two parts of fold {f} (or in the holdout), "
                "which leaks; list its rows in one part",
                file=files[0], column=group,
            )  # fmt: skip


def _every_row_tested(
    members: np.ndarray, holdout: np.ndarray, table: pd.DataFrame, by: str, files: list[str]
) -> None:
    """A table of test folds only must test every row once (or hold it out)."""
    missing = ~(members == TEST).any(axis=0) & ~holdout
    if missing.any():
        key = table[by].iloc[int(np.flatnonzero(missing)[0])]
        raise DataError(f"{by} {key!r} has no row in the fold table; add it, or list every "
                        "fold's train rows", file=files[0])  # fmt: skip
