from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import foldrun
from foldrun.cli import cli
from foldrun.errors import ReportError
from foldrun.results.query import run_query
from tests.reliability.helpers import invoke  # in-process: each process took 1-2 s

GROUP_BY = (
    "SELECT model, variant, avg(value) AS mean, count(*) AS n FROM metrics "
    "WHERE subset = 'test' AND metric = 'roc_auc' GROUP BY model, variant ORDER BY model, variant"
)


def test_query_matches_pandas(run_dir: Path) -> None:
    got = run_query(run_dir, GROUP_BY)
    m = foldrun.load_results(run_dir).metrics
    m = m[(m.subset == "test") & (m.metric == "roc_auc")]
    expected = m.groupby(["model", "variant"])["value"].agg(["mean", "count"]).reset_index()
    assert got["mean"].tolist() == pytest.approx(expected["mean"].tolist())
    assert got["n"].tolist() == expected["count"].tolist()


def test_every_view_exists(run_dir: Path) -> None:
    for table in ["tasks", "metrics", "predictions", "folds"]:
        n = run_query(run_dir, f"SELECT count(*) AS n FROM {table}")["n"].item()
        assert n == len(getattr(foldrun.load_results(run_dir), table))
    joined = run_query(
        run_dir,
        "SELECT count(*) AS n FROM predictions p JOIN folds f "
        "ON p.id = f.id AND p.fold = f.fold AND p.repeat = f.repeat WHERE p.subset = 'test'",
    )
    assert joined["n"].item() > 0


def test_cli_formats(run_dir: Path) -> None:
    runner = CliRunner()
    csv = runner.invoke(cli, ["query", str(run_dir), GROUP_BY, "--format", "csv"])
    assert csv.exit_code == 0, csv.output
    df = pd.read_csv(io.StringIO(csv.output))
    assert list(df.columns) == ["model", "variant", "mean", "n"] and len(df) == 5
    js = runner.invoke(cli, ["query", str(run_dir), GROUP_BY, "--format", "json"])
    assert [r["variant"] for r in json.loads(js.output)] == df["variant"].tolist()
    table = runner.invoke(cli, ["query", str(run_dir), GROUP_BY])
    assert "n300-m8" in table.output and "variant" in table.output


def test_sql_error_one_line_exit_2(run_dir: Path) -> None:
    with pytest.raises(ReportError, match="SQL error"):
        run_query(run_dir, "SELECT nope FROM tasks")
    done = invoke("query", str(run_dir), "SELEC 1")
    assert done.returncode == 2
    assert done.stderr.startswith("foldrun: error:") and done.stderr.count("\n") == 1


def test_console_script_csv(run_dir: Path) -> None:
    done = subprocess.run(
        ["foldrun", "query", str(run_dir), "SELECT state, count(*) AS n FROM tasks GROUP BY 1 "
         "ORDER BY 1", "--format", "csv"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["state,n", "done,153", "failed,1"]


def test_query_before_any_run(tmp_path: Path) -> None:
    spec = tmp_path / "foldrun.toml"
    (tmp_path / "t.csv").write_text("id,x,y\na,1,0\nb,2,1\nc,3,0\nd,4,1\n")
    spec.write_text('name = "x"\n[data]\ntable = "t.csv"\nid = "id"\ntarget = "y"\n'
                    '[models.m]\nestimator = "sklearn.dummy:DummyClassifier"\n')
    result = CliRunner().invoke(cli, ["query", str(spec), "SELECT 1"])
    assert result.exit_code != 0 and isinstance(result.exception, ReportError)
    assert "does not exist" in str(result.exception)
    assert not (tmp_path / "runs").exists()


def test_several_runs_are_datasets(run_template: Path, tmp_path: Path) -> None:
    import shutil

    first, second = tmp_path / "alpha", tmp_path / "beta"
    shutil.copytree(run_template, first)
    shutil.copytree(run_template, second)
    sql = ("SELECT dataset, model, variant, avg(value) AS mean, count(*) AS n FROM metrics "
           "WHERE subset = 'test' AND metric = 'roc_auc' GROUP BY ALL ORDER BY ALL")  # fmt: skip
    with pytest.raises(ReportError, match="same run folder"):  # one run, two datasets: no
        run_query([first, second, tmp_path / "beta" / ".." / "alpha"], sql)
    (tmp_path / "x").mkdir()
    third = shutil.copytree(run_template, tmp_path / "x" / "alpha")
    both = run_query([first, second, third], sql)
    one = run_query(first, GROUP_BY)
    assert list(both.columns[:1]) == ["dataset"]
    assert sorted(set(both["dataset"])) == ["alpha", "alpha-2", "beta"]  # named, made unique
    for name in ("alpha", "alpha-2", "beta"):
        part = both[both["dataset"] == name].reset_index(drop=True)
        assert part["mean"].tolist() == pytest.approx(one["mean"].tolist())
        assert part["n"].tolist() == one["n"].tolist()
    done = invoke("query", str(first), str(second),
                  "SELECT DISTINCT dataset FROM tasks ORDER BY 1", "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["dataset", "alpha", "beta"]


HOSTILE_SQL = [
    "COPY (SELECT * FROM metrics) TO '../elsewhere.csv'",
    "COPY metrics TO '{results}/metrics.parquet' (FORMAT parquet, USE_TMP_FILE false)",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('{outside}')",
    "SELECT * FROM glob('/etc/*')",
    "ATTACH '{outside}.db' AS x",
    "INSTALL httpfs",
    "LOAD httpfs",
    "EXPORT DATABASE '{outside}-export'",
    "SET enable_external_access = true; SELECT * FROM read_text('{outside}')",
    "SELECT 1; COPY (SELECT 1) TO '{outside}.csv'",
]


@pytest.mark.parametrize("sql", HOSTILE_SQL)
def test_query_reads_and_writes_nothing_outside_the_run(
    run_dir: Path, tmp_path: Path, sql: str
) -> None:
    """Issue 22 item 6: DuckDB's external access is off but for the run's own tables, and
    statements that write or load files are refused (COPY could write over an allowed path)."""
    outside = tmp_path / "secret.txt"
    outside.write_text("secret\n")
    run_query(run_dir, "SELECT 1")  # the tables exist: what follows must not refresh them
    results = run_dir / "results"
    before = {p: p.read_bytes() for p in results.glob("*.parquet")}
    listing = sorted(p.name for p in tmp_path.rglob("*"))
    text = sql.format(results=results, outside=outside)
    result = CliRunner().invoke(cli, ["query", str(run_dir), text, "--no-refresh"])
    assert isinstance(result.exception, ReportError), result.output
    assert int(result.exception.exit_code) == 2  # main() prints it as one line, exit 2
    message = str(result.exception)
    assert "\n" not in message and any(
        word in message for word in ("refused", "only the run's tables", "locked"))
    assert sorted(p.name for p in tmp_path.rglob("*")) == listing  # nothing written
    assert {p: p.read_bytes() for p in results.glob("*.parquet")} == before
    assert "secret" not in result.output


@pytest.mark.parametrize("sql", ["", "   ", "-- only a comment\n", ";"])
def test_empty_sql_is_one_line(run_dir: Path, sql: str) -> None:
    result = CliRunner().invoke(cli, ["query", "--", str(run_dir), sql])
    assert isinstance(result.exception, ReportError) and int(result.exception.exit_code) == 2
    assert "SQL is empty" in str(result.exception) and "\n" not in str(result.exception)


def test_read_only_queries_still_work(run_dir: Path) -> None:
    """In-memory tables, DESCRIBE and several statements stay allowed: only files are off."""
    sql = "CREATE TEMP TABLE t AS SELECT count(*) AS n FROM tasks; SELECT n FROM t"
    assert run_query(run_dir, sql)["n"].item() == len(foldrun.load_results(run_dir).tasks)
    assert "model" in run_query(run_dir, "DESCRIBE metrics")["column_name"].tolist()


def test_query_of_a_spec_leaves_out_stale_tasks_results(toy_run) -> None:
    """Hostile round 3: given a spec, query shows the plan's tasks only (README), and a task
    done under another fingerprint is stale: its metrics and predictions are not the spec's
    numbers. The README's own query (avg roc_auc by variant) averaged them as if current."""
    spec = toy_run()
    text = spec.read_text()
    spec.write_text(text.replace('/predict"""', '/predict again"""'))  # predict -> stale
    stale = run_query(spec, "SELECT count(*) AS n FROM tasks WHERE state = 'stale'")
    assert stale["n"].item() == 16  # 2 variants x 4 folds x (predict, evaluate)
    assert run_query(spec, GROUP_BY).empty
    assert run_query(spec, "SELECT count(*) AS n FROM predictions")["n"].item() == 0
    assert not run_query(spec.parent / "runs" / "toy", GROUP_BY).empty  # the folder as it is
    spec.write_text(text)  # restored: the same tasks are current again
    assert run_query(spec, GROUP_BY)["n"].tolist() == [4, 4]
