"""DuckDB SQL over the result tables of one run, or of several as datasets (views on
results/*.parquet)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from foldrun.core.owned import writing
from foldrun.errors import ReportError
from foldrun.results import collect
from foldrun.results.query_text import Answer
from foldrun.results.refresh import refresh
from foldrun.results.source import RunSource, planned_tasks, resolve_runs, run_names, views

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")
Runs = str | Path | Sequence[str | Path]


def run_query(runs: Runs, sql: str, refresh_tables: bool = True) -> pd.DataFrame:
    """`sql`'s answer as a DataFrame (foldrun.api's query; see `answer`)."""
    return answer(runs, sql, refresh_tables, lambda result: result.df())


def query_answer(runs: Runs, sql: str, refresh_tables: bool = True) -> Answer:
    """`sql`'s answer as `foldrun query` prints it: rows and their text, without pandas
    for the usual column types (results/query_text.py)."""
    return answer(runs, sql, refresh_tables, Answer.of)


def answer(runs: Runs, sql: str, refresh_tables: bool, take: Callable[[Any], T]) -> T:
    """Refresh the tables (incremental), then answer `sql` over views tasks, metrics,
    predictions and folds: `take` of DuckDB's result. Several runs (specs or run folders)
    are one dataset each: every view is their union with a `dataset` column first (the
    spec's name, else the folder's, as in the report across datasets). A bad query raises
    ReportError with DuckDB's message."""
    import duckdb

    given = list(runs) if many_runs(runs) else [runs]  # type: ignore[call-overload]
    con = duckdb.connect()  # one connection checks the SQL and answers it (~25 ms each)
    try:
        read_only(sql, con)  # before anything is refreshed: a refused query writes nothing
        sources = [view for s in resolve_runs(given) for view in views(s)]  # a dataset: a view
        many = len(given) > 1 or sources[0].dataset is not None
        for source in sources:
            _fresh(source, refresh_tables)
        names = run_names(sources) if many else [None]
        return _answer(con, sources, names, sql, take)
    finally:
        con.close()


def _answer(con: Any, sources: list[RunSource], names: list[str | None], sql: str,
            take: Callable[[Any], T]) -> T:  # fmt: skip
    """`take` of `sql`'s result over the views of `sources` (one dataset each when `names`
    are given); DuckDB's errors while it runs or its rows are fetched are one line."""
    # lazy: DuckDB only for a query (results/ is imported by every command)
    import duckdb

    try:
        pairs = list(zip(sources, names, strict=True))
        for table in collect.TABLES:
            parts = [_select(source, table, name) for source, name in pairs]
            con.execute(f"CREATE VIEW {table} AS {' UNION ALL BY NAME '.join(parts)}")
        _sandbox(con, [s for s, _ in pairs])
        return take(con.execute(sql))
    except duckdb.PermissionException as err:
        raise ReportError(
            f"SQL error: query reads only the run's tables (tasks, metrics, predictions, "
            f"folds), no other file: {_first_line(err)}",
            key="SQL",
        ) from err
    except duckdb.Error as err:
        raise ReportError(f"SQL error: {_first_line(err)}", key="SQL") from err


# Statements that write or load files. With external access off DuckDB still lets COPY and
# EXPORT write to an allowed path (a run's own Parquet tables), so they are refused by type.
_WRITES = {"COPY", "COPY_DATABASE", "EXPORT", "ATTACH", "DETACH", "LOAD"}


def read_only(sql: str, con: Any = None) -> None:
    """Refuse an empty query, one DuckDB cannot parse, or a statement that writes or loads
    files (COPY, EXPORT, ATTACH, DETACH, INSTALL, LOAD): query only reads the run's tables.
    `con`: a DuckDB connection to parse with (else one of its own)."""
    import duckdb

    own = duckdb.connect() if con is None else None
    try:
        kinds = [s.type.name for s in (own if con is None else con).extract_statements(sql)]
    except duckdb.Error as err:
        raise ReportError(f"SQL error: {_first_line(err)}", key="SQL") from err
    finally:
        if own is not None:
            own.close()
    if not kinds:
        raise ReportError("the SQL is empty: give a query, e.g. 'SELECT * FROM metrics'", key="SQL")
    refused = sorted(set(kinds) & _WRITES)
    if refused:
        raise ReportError(
            f"query only reads the run's tables (tasks, metrics, predictions, folds): "
            f"{refused[0]} statements are refused; export with --format csv instead",
            key="SQL",
        )


def _sandbox(con: object, sources: Sequence[RunSource]) -> None:
    """Turn DuckDB's file access off except for the views' own Parquet files, and lock the
    configuration so the SQL cannot turn it back on (read_csv('/etc/passwd'), glob, ...)."""
    paths = [
        str(s.layout.results_dir / f"{t}.parquet").replace("'", "''")
        for s in sources
        for t in collect.TABLES
    ]
    allowed = ", ".join(f"'{p}'" for p in paths)
    con.execute(f"SET allowed_paths = [{allowed}]")  # type: ignore[attr-defined]
    con.execute("SET enable_external_access = false")  # type: ignore[attr-defined]
    con.execute("SET lock_configuration = true")  # type: ignore[attr-defined]


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


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
            planned = planned_tasks(source)
            refresh(source.run_dir, planned, source.task, source.dataset, source.planned,
                    tables=False)  # DuckDB reads the files: an unchanged run's are not read


def _select(source: RunSource, table: str, dataset: str | None) -> str:
    path = str(source.layout.results_dir / f"{table}.parquet").replace("'", "''")
    rows = f"read_parquet('{path}') r{_current(source, table)}"
    if dataset is None:
        return f"SELECT r.* FROM {rows}"
    name = dataset.replace("'", "''")
    return f"SELECT '{name}' AS dataset, r.* FROM {rows}"


def _current(source: RunSource, table: str) -> str:
    """A WHERE clause leaving out the metrics and predictions of stale tasks (done under
    other settings than the spec's now): the tables keep them, but they are not the spec's
    numbers (as collect.without_stale leaves them out of the report)."""
    if table not in ("metrics", "predictions"):
        return ""
    tasks = str(source.layout.results_dir / "tasks.parquet").replace("'", "''")
    same = " AND ".join(f"t.{k} IS NOT DISTINCT FROM r.{k}" for k in collect.PRED_KEYS)
    stages = "'train', 'evaluate', 'refit'" if table == "predictions" else "r.stage"
    return (f" WHERE NOT EXISTS (SELECT 1 FROM read_parquet('{tasks}') t WHERE "
            f"t.state = 'stale' AND t.stage IN ({stages}) AND {same})")
