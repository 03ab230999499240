"""The report's provenance: the versions of the packages each task's code imported (its
packages.json, issue 24 item 6), one line per package, a version that differs across tasks
flagged; a run that recorded none keeps its provenance as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from foldrun.report import build_report
from foldrun.report.analysis import task_packages


def _write(folder: Path, text: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "packages.json").write_text(text)
    return str(folder)


def test_versions_per_package_and_differences_flagged(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", json.dumps({"numpy": "1.26.4", "scikit-learn": "1.4.2"}))
    b = _write(tmp_path / "b", json.dumps({"numpy": "1.26.4", "scikit-learn": "1.5.0"}))
    stale = _write(tmp_path / "c", json.dumps({"torch": "2.1.0"}))  # not done: not this run's
    broken = _write(tmp_path / "d", "{not json")  # unreadable: skipped, never a crash
    none = str(tmp_path / "e")  # a task that imports no installed package writes none
    tasks = pd.DataFrame({"state": ["done", "done", "stale", "done", "done"],
                          "path": [a, b, stale, broken, none]})  # fmt: skip
    assert task_packages(tasks) == {
        "numpy": "1.26.4",
        "scikit-learn": "1.4.2 | 1.5.0 (differs across tasks)",
    }
    assert task_packages(tasks.iloc[:0]) == {}


def test_the_report_shows_them_in_provenance(run_dir: Path) -> None:
    train = sorted(run_dir.glob("tasks/logreg/default/fold_0*/train"))
    assert len(train) >= 2
    _write(train[0], json.dumps({"pandas": "2.2.0"}))
    _write(train[1], json.dumps({"pandas": "2.1.4"}))
    report = build_report(run_dir)
    provenance = json.loads((report.path / "cv_summary.json").read_text())["provenance"]
    assert provenance["packages"] == {"pandas": "2.1.4 | 2.2.0 (differs across tasks)"}
    assert "2.1.4 | 2.2.0 (differs across tasks)" in report.index.read_text()


def test_no_packages_recorded_no_key(run_dir: Path) -> None:
    report = build_report(run_dir)
    provenance = json.loads((report.path / "cv_summary.json").read_text())["provenance"]
    assert "packages" not in provenance


def test_records_are_the_rows_clean_makes_of_every_kind_of_column() -> None:
    """records() converts a column at a time; it must give what cleaning each cell gave:
    NaN and infinities None, numpy scalars Python, missing values of nullable types None."""
    import numpy as np

    from foldrun.report.analysis import clean, records

    df = pd.DataFrame({
        "f": [1.5, np.nan, np.inf, -np.inf, 0.1],
        "f32": np.array([1.5, np.nan, 2, 3, 4], dtype="float32"),
        "i": [1, 2, 3, 4, 5], "u": np.array([1, 2, 3, 4, 5], dtype="uint8"),
        "b": [True, False, True, False, True],
        "I": pd.array([1, None, 3, 4, 5], dtype="Int64"),
        "s": pd.array(["a", None, "c", "d", "e"], dtype="string"),
        "o": [[1, np.float64("nan")], {"x": np.int64(3)}, np.float64(2.5), None, "t"],
        "t": pd.to_datetime(["2026-01-01", None, "2026-01-03", "2026-01-04", "2026-01-05"],
                            utc=True),
        "c": pd.Categorical(["a", "b", None, "a", "b"]), 7: [1, 2, 3, 4, 5],
    })  # fmt: skip
    expected = clean(df.to_dict(orient="records"))
    assert records(df) == expected
    assert json.dumps(records(df)) == json.dumps(expected)  # None, not NaN, in the file
    assert records(df)[1]["f"] is None and records(df)[1]["I"] is None
    assert type(records(df)[0]["i"]) is int and records(df)[0]["7"] == 1


def test_dumps_parses_to_what_indent_2_wrote_with_a_row_a_line() -> None:
    """cv_summary.json is written by the C encoder a row at a time: parsed, the same value
    as json.dumps(indent=2) gave (non-ASCII escaped, NaN as written by clean: null), and
    each record of a table on its own line; nested objects are still indented."""
    import numpy as np

    from foldrun.report.analysis import clean, dumps

    rows = [{"model": "m\u00e9", "variant": f"v{i}", "mean": 0.1 * i, "lo": np.float64("nan"),
             "n": np.int64(i), "ok": True, "undefined_folds": [] if i else ["fold 1: one class"]}
            for i in range(3)]  # fmt: skip
    summary = clean({"run": "/r", "tasks": {"total": 3, "done": 3}, "missing": [], "metrics": rows,
                     "models": [{**rows[0], "nested": {"estimate": 0.5, "choices": [{"fold": 0}]}}],
                     "provenance": {"packages": {}}, "floats": [1.0, -0.0, 1e300]})  # fmt: skip
    text = dumps(summary)
    assert json.loads(text) == json.loads(json.dumps(summary, indent=2))
    assert text.isascii()
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and '  "run": "/r",' in lines
    # one line per metric row, in order, each a whole object
    rows_at = lines.index('  "metrics": [') + 1
    written = [json.loads(line.strip().rstrip(",")) for line in lines[rows_at:rows_at + 3]]
    assert written == summary["metrics"] and lines[rows_at + 3] == "  ],"
    assert any(line.strip() == '"nested": {' for line in lines)  # not a row: indented
