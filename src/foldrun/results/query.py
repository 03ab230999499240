"""DuckDB SQL over the result tables of one run, or of several as datasets (views on
results/*.parquet)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from foldrun.core.owned import writing
from foldrun.errors import ReportError
from foldrun.results import collect
from foldrun.results.refresh import refresh
from foldrun.results.source import RunSource, planned_tasks, resolve, run_names, views


def run_query(
    runs: str | Path | Sequence[str | Path], sql: str, refresh_tables: bool = True
) -> pd.DataFrame:
    """Refresh the tables (incremental), then answer `sql` over views tasks, metrics,
    predictions and folds. Several runs (specs or run folders) are one dataset each: every
    view is their union with a `dataset` column first (the spec's name, else the folder's,
    as in the report across datasets). A bad query raises ReportError with DuckDB's
    message."""
    import duckdb

    given = list(runs) if many_runs(runs) else [runs]  # type: ignore[call-overload]
    sources = [view for r in given for view in views(resolve(r))]  # a dataset: a view
    many = len(given) > 1 or sources[0].dataset is not None
    for source in sources:
        _fresh(source, refresh_tables)
    names = run_names(sources) if many else [None]
    con = duckdb.connect()
    try:
        pairs = list(zip(sources, names, strict=True))
        for table in collect.TABLES:
            parts = [_select(source, table, name) for source, name in pairs]
            con.execute(f"CREATE VIEW {table} AS {' UNION ALL BY NAME '.join(parts)}")
        return con.execute(sql).df()
    except duckdb.Error as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ReportError(f"SQL error: {first}", key="SQL") from err
    finally:
        con.close()


def many_runs(runs: object) -> bool:
    return not isinstance(runs, str | Path)


def _fresh(source: RunSource, refresh_tables: bool) -> None:
    if not source.run_dir.is_dir():
        raise ReportError(
            f"the run folder {source.run_dir} does not exist; run `foldrun run SPEC` first",
            file=source.spec_path,
            key="output",
        )
    results_dir = source.layout.results_dir
    missing = any(not (results_dir / f"{t}.parquet").is_file() for t in collect.TABLES)
    if refresh_tables or missing:
        with writing(source.run_dir, ReportError):  # results/ on a full or read-only disk
            refresh(source.run_dir, planned_tasks(source), source.task, source.dataset)


def _select(source: RunSource, table: str, dataset: str | None) -> str:
    path = str(source.layout.results_dir / f"{table}.parquet").replace("'", "''")
    if dataset is None:
        return f"SELECT * FROM read_parquet('{path}')"
    name = dataset.replace("'", "''")
    return f"SELECT '{name}' AS dataset, * FROM read_parquet('{path}')"
