"""DuckDB SQL over a run's result tables (views on results/*.parquet)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from foldrun.core.owned import writing
from foldrun.errors import ReportError
from foldrun.layout import RunLayout
from foldrun.results import collect
from foldrun.results.refresh import refresh
from foldrun.results.source import planned_tasks, resolve


def run_query(run_dir_or_spec: str | Path, sql: str, refresh_tables: bool = True) -> pd.DataFrame:
    """Refresh the tables (incremental), then answer `sql` over views tasks, metrics,
    predictions and folds. A bad query raises ReportError with DuckDB's message."""
    import duckdb

    source = resolve(run_dir_or_spec)
    if not source.run_dir.is_dir():
        raise ReportError(
            f"the run folder {source.run_dir} does not exist; run `foldrun run SPEC` first",
            file=source.spec_path,
            key="output",
        )
    results_dir = RunLayout(source.run_dir).results_dir
    missing = any(not (results_dir / f"{t}.parquet").is_file() for t in collect.TABLES)
    if refresh_tables or missing:
        with writing(source.run_dir, ReportError):  # results/ on a full or read-only disk
            refresh(source.run_dir, planned_tasks(source), source.task)
    con = duckdb.connect()
    try:
        for table in collect.TABLES:
            path = str(results_dir / f"{table}.parquet").replace("'", "''")
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")
        return con.execute(sql).df()
    except duckdb.Error as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ReportError(f"SQL error: {first}", key="SQL") from err
    finally:
        con.close()
