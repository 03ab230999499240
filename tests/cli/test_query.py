"""`foldrun query` of an unchanged run: no pandas (issue 26 item 2), the text pandas wrote
before, and every change still seen."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from foldrun.results.query import run_query
from tests.reliability.helpers import invoke

SQL = "SELECT model, variant, fold, stage, state, wall_s, exit_code FROM tasks ORDER BY ALL"
METRICS = "SELECT fold, metric, value FROM metrics WHERE fold >= 0 ORDER BY ALL"
HEAVY = ("pandas", "numpy", "pyarrow", "sklearn", "scipy", "matplotlib")

# the console script's main() in a fresh interpreter, once per format; then the modules it
# imported (the process matters: this test process has pandas loaded already)
FRESH = """
import contextlib, io, json, sys
from foldrun.cli import main
out = {}
for fmt in ("table", "csv", "json"):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
        main(["query", sys.argv[1], sys.argv[2], "--format", fmt])
    out[fmt] = buf.getvalue()
heavy = [m for m in sys.argv[3].split(",") if m in sys.modules]
print(json.dumps({"out": out, "heavy": heavy}))
"""


@pytest.fixture
def spec(toy_run: Callable[..., Path]) -> Path:
    path = toy_run(folds=2, grid=2)
    assert invoke("query", str(path), "SELECT 1").returncode == 0  # tables made, plan kept
    return path


def test_an_unchanged_runs_query_imports_no_pandas_and_prints_what_pandas_printed(
    spec: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FRESH, str(spec), SQL, ",".join(HEAVY)],
        capture_output=True, text=True, timeout=120, cwd=spec.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    fresh = json.loads(done.stdout)
    assert fresh["heavy"] == []
    df = run_query(spec, SQL)  # the DataFrame foldrun.api's query returns, as before
    assert fresh["out"]["csv"] == df.to_csv(index=False)
    assert fresh["out"]["json"] == df.to_json(orient="records", date_format="iso", indent=1) + "\n"
    assert fresh["out"]["table"] == invoke("query", str(spec), SQL).stdout
    assert "toy" in fresh["out"]["table"] and "wall_s" in fresh["out"]["table"]


def test_a_removed_task_folder_is_seen(spec: Path) -> None:
    before = invoke("query", str(spec), SQL, "--format", "csv").stdout
    assert "toy,k0,1,evaluate,done" in before
    shutil.rmtree(next(spec.parent.glob("runs/toy/tasks/toy/k0/fold_01/evaluate")))
    after = invoke("query", str(spec), SQL, "--format", "csv").stdout
    assert "toy,k0,1,evaluate,pending" in after and "toy,k0,1,evaluate,done" not in after


def test_an_edited_metric_is_seen_in_every_format(spec: Path) -> None:
    metrics = next(spec.parent.glob("runs/toy/tasks/toy/k1/fold_00/evaluate/metrics.json"))
    values = json.loads(metrics.read_text())
    values["test/accuracy"] = 0.0625
    metrics.write_text(json.dumps(values))
    csv = invoke("query", str(spec), METRICS, "--format", "csv").stdout
    rows = json.loads(invoke("query", str(spec), METRICS, "--format", "json").stdout)
    assert "0,accuracy,0.0625" in csv
    assert {"fold": 0, "metric": "accuracy", "value": 0.0625} in rows


def test_values_and_names_with_brackets_are_printed_as_they_are(spec: Path) -> None:
    """The table read each cell and name as rich markup: `f1[macro]` (a program's metric
    key) was printed `f1`, `[bold]x[/bold]` as `x`, and `[/]` (an id, a label) ended the
    query with a traceback; an emoji code was replaced by its emoji."""
    sql = ("SELECT 'f1[macro]' AS m, '[bold]x[/bold]' AS b, '[/]' AS c, ':smile:' AS e, "
           "1 AS \"[red]n\"")  # fmt: skip
    done = invoke("query", str(spec), sql)
    assert done.returncode == 0, done.stderr
    for text in ("f1[macro]", "[bold]x[/bold]", "[/]", ":smile:", "[red]n"):
        assert text in done.stdout
