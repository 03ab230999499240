"""The data settings every task gets (`meta["data"]`, `meta["task"]`).

When `[data] features` or `task` are absent they come from the table (numeric columns; the
target's values). The answer is cached in `.foldrun/data.json`, keyed by the table's size
and mtime and the `[data]` table, so a resume does not re-read a large table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foldrun.core.files import write_json
from foldrun.data.table import read_table
from foldrun.errors import DataError, PlanError, SpecError
from foldrun.spec.problems import did_you_mean
from foldrun.spec.table import read_table_info, table_columns

if TYPE_CHECKING:
    from foldrun.spec.model import DataSpec, Spec, SplitSpec


def data_meta(spec: Spec, *, write: bool = True) -> tuple[str, dict[str, Any]]:
    """(task kind, {"id", "target", "group", "features"}); the answer is cached only when
    `write` (planning that only looks writes nothing)."""
    check_columns(spec)
    data = spec.data
    base = {"id": data.id, "target": data.target, "group": data.group}
    if data.features is not None and data.task is not None:
        return data.task, {**base, "features": list(data.features)}
    cache = spec.layout.data_cache
    try:
        stat = spec.table_path.stat()
    except FileNotFoundError:
        raise DataError(
            "data table not found; check [data] table (relative to the spec)",
            file=spec.table_path,
            key="data.table",
        ) from None
    settings = [data.model_dump(mode="json"), spec.split.fold_column]
    key = [str(spec.table_path), stat.st_size, stat.st_mtime_ns, settings]
    cached = _read_json(cache)
    if cached is not None and cached.get("key") == key:
        return cached["task"], cached["data"]
    task, meta = _infer(spec, base)
    if write:
        _write_json(cache, {"key": key, "task": task, "data": meta})
    return task, meta


def check_columns(spec: Spec) -> None:
    """Every column the spec names is in the data table (its header only is read), so a
    misspelt feature stops planning instead of failing every task."""
    try:
        columns = table_columns(spec.table_path)
    except DataError as err:
        err.key = err.key or "data.table"
        raise
    for key, name in named_columns(spec.data, spec.split):
        if name not in columns:
            hint = did_you_mean(name, columns, "the columns are")
            raise DataError(
                f"not in {spec.table_path.name}{hint}; fix the name in the spec",
                file=spec.path,
                key=key,
                column=name,
            )


def excluded_columns(spec: Spec) -> set[str]:
    """Columns that are never default features: id, target(s), group, a fold column."""
    data = spec.data
    column = None if spec.split.fold_tables() else spec.split.fold_column
    extra = [data.id, *data.groups, column]
    return set(data.targets) | {c for c in extra if c}


def _infer(spec: Spec, base: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    data = spec.data
    target_cols = (data.target,) if isinstance(data.target, str) else ()
    info = read_table_info(spec.table_path, target_cols)
    # label-free: no task kind, the programs give the metrics
    task = data.task or (info.infer_task(data.target) if data.target is not None else "none")
    features = data.features
    if features is None:
        features = info.default_features(excluded_columns(spec))
    return task, {**base, "features": list(features)}


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _write_json(path: Path, value: dict[str, Any]) -> None:
    write_json(path, value, sort_keys=True)


def check_external(spec: Spec, tables: dict[str, Path]) -> None:
    """An external set must be readable, hold the id (and target) columns, and share no id
    with the data table: a row of it must never be in a training set."""
    data = spec.data
    if data.id is None:
        raise PlanError("external sets need [data] id (row numbers would collide with "
                        "theirs); name the id column", file=spec.path, key="data.id")  # fmt: skip
    # the rows that get into folds: a filter's (a dataset's), read as the split reads them;
    # an external set may hold the rows a filter leaves out (train on site A, test on B)
    rows = filtered(spec, read_table(spec.table_path, text=(data.id, *data.groups)))
    ids = set(rows[data.id].astype(str))
    table = spec.table_path.name if spec.dataset is None else (
        f"{spec.table_path.name} (dataset {spec.dataset})")  # fmt: skip
    for subset, path in tables.items():
        key = f"external.{subset.partition(':')[2]}.table"
        try:
            frame = read_table(path, text=[data.id])
        except DataError as err:
            err.key = key
            raise
        for column in [data.id, *_estimator_features(spec)]:
            if column not in frame.columns:
                raise DataError(f"no column {column!r} (a [data] id/target/feature column); "
                                "add it", file=path, key=key, column=column)  # fmt: skip
        labels = [c for c in data.targets if c in frame.columns]
        if len(labels) < len(data.targets):
            _check_label_free(spec, data.targets, path, key)
        _check_external_rows(frame, data.id, labels, path, key)
        shared = ids & set(frame[data.id].astype(str))
        if shared:
            raise PlanError(
                f"{len(shared)} id(s) of the external set are also in the data table "
                f"{table} (e.g. {sorted(shared)[0]!r}), so they would be in training sets; "
                "give the external set only rows the data table lacks",
                file=path, key=key,
            )  # fmt: skip


def _check_label_free(spec: Spec, targets: list[str], path: Path, key: str) -> None:
    """An external set without the target column is scored by the models' own evaluate
    programs only: every model must have one (foldrun's evaluate needs the labels)."""
    missing = [name for name, model in spec.models.items() if model.evaluate is None]
    if missing:
        raise DataError(
            f"no column {targets[0]!r} (the [data] target); add it, or give model "
            f"{missing[0]!r} an evaluate program that scores the set without labels",
            file=path, key=key, column=targets[0])  # fmt: skip


def _estimator_features(spec: Spec) -> list[str]:
    """The features an estimator model predicts from (entry and command models read the
    columns they choose)."""
    estimators = [m for m in spec.models.values() if m.kind == "estimator"]
    if not estimators:
        return []
    own = [f for m in estimators for f in m.features or []]  # a model's own features
    shared = [] if all(m.features is not None for m in estimators) else list(
        data_meta(spec, write=False)[1]["features"])  # fmt: skip
    return list(dict.fromkeys([*shared, *own]))


def _check_external_rows(
    frame: Any, id_col: str, targets: list[str] | tuple[str, ...], path: Path, key: str
) -> None:
    """Ids join the fold models' predictions into the ensemble, and every row is scored."""
    if frame.empty:  # a header alone: check passed and then every predict failed
        raise DataError("the external set has no rows (a header only); add its rows or "
                        "remove the [external] table", file=path, key=key)  # fmt: skip
    dup = frame[id_col].astype(str).duplicated()
    if dup.any():
        raise DataError(f"duplicate id {frame[id_col].astype(str)[dup].iloc[0]!r} "
                        f"({int(dup.sum())} duplicate(s)); ids must be unique",
                        file=path, key=key, column=id_col)  # fmt: skip
    for column in targets:
        empty = frame[column].isna() | (frame[column].astype(str).str.strip() == "")
        if empty.any():
            raise DataError(f"empty {column!r} value in {int(empty.sum())} row(s) (first: "
                            f"id {frame[id_col].astype(str)[empty].iloc[0]!r}); fill or drop "
                            "them", file=path, key=key, column=column)  # fmt: skip


def named_columns(data: DataSpec, split: SplitSpec | None) -> Iterator[tuple[str, str]]:
    """(key, column) of every column the spec names in the data table."""
    if data.id:
        yield "data.id", data.id
    for column in data.target if isinstance(data.target, list) else [data.target]:
        if column is not None:  # no target: a label-free experiment
            yield "data.target", column
    for column in data.groups:
        yield "data.group", column
    for column in data.features or []:
        yield "data.features", column
    if split is not None and split.from_ is None:
        stratify = split.stratify
        for column in [stratify] if isinstance(stratify, str) else stratify or []:
            yield "split.stratify", column
        if split.fold_column and not split.fold_tables():  # else fold table files
            yield "split.fold_column", str(split.fold_column)


def filtered(spec: Spec, table: Any) -> Any:
    """The rows of `[data] filter` (a dataset's `filter`): only they get into folds."""
    import pandas as pd

    query = spec.data.filter
    if query is None:
        return table
    key = f"datasets.{spec.dataset}.filter" if spec.dataset else "data.filter"
    # evaluated as a mask, not with `DataFrame.query`: a query that is no condition
    # (`label`, `a + b`) makes `query` index the rows by its values, which repeated rows
    # (`label` of 0/1: rows 0 and 1, over and over) or failed with the values dumped
    try:
        mask = table.eval(query, engine="python")
    except Exception as err:  # pandas raises many kinds for a bad query
        why = " ".join(str(err).split())[:200]  # one line, never a dump of the data
        raise SpecError(
            f"the filter {query!r} fails on {spec.table_path.name}: {why}; write a pandas "
            "query on its columns, e.g. \"site == 'A'\"",
            file=spec.path,
            key=key,
        ) from None
    if not isinstance(mask, pd.Series) or not pd.api.types.is_bool_dtype(mask.dtype):
        raise SpecError(
            f"the filter {query!r} is no condition on the rows of {spec.table_path.name} "
            "(it gives values, not true/false); write a comparison, e.g. \"site == 'A'\"",
            file=spec.path,
            key=key,
        )
    rows = table[mask.fillna(False).astype(bool)]
    if rows.empty:
        raise SpecError(
            f"the filter {query!r} keeps no row of {spec.table_path.name}; fix the query",
            file=spec.path,
            key=key,
        )
    return rows.reset_index(drop=True)
