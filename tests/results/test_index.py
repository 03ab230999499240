"""results/index.py reads the refresh's index without pandas: its version, file names and
stamp are collect.py's, which `foldrun status` must match exactly to trust an entry."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from foldrun.layout import RunLayout
from foldrun.results import collect, index
from tests.reliability.helpers import invoke


def test_the_version_names_and_stamp_are_collects(toy_run: Callable[..., Path]) -> None:
    assert index.VERSION == collect.INDEX_VERSION and index.READ == collect.READ
    spec = toy_run(folds=2, grid=2)
    (spec.parent / "runs/toy/tasks/toy/k0/fold_00/evaluate/metrics.json").write_text("{}")
    refs = collect.discover(RunLayout(spec.parent / "runs/toy").tasks_dir)
    assert len(refs) == 12
    assert [index.stamp(r.path, r.files) for r in refs] == [collect.stamp(r) for r in refs]


def test_entries_carry_the_judged_state_and_wall_time(toy_run: Callable[..., Path]) -> None:
    spec = toy_run(folds=2, grid=2)
    assert invoke("query", str(spec), "SELECT 1").returncode == 0
    layout = RunLayout((spec.parent / "runs/toy").resolve())
    entries = index.read_entries(layout.results_dir, layout.root)
    assert len(entries) == 12
    for rel, entry in entries.items():
        got = index.committed(entry, str(layout.tasks_dir / rel))
        assert got is not None and got[1] == "done" and got[2] is not None and got[2] > 0
    (layout.results_dir / ".index.json").write_text("{")
    assert index.read_entries(layout.results_dir, layout.root) == {}


def _brier(spec: Path) -> str:
    sql = ("SELECT value FROM metrics WHERE fold = 0 AND subset = 'test' AND metric = 'brier' "
           "AND variant = 'k0'")
    done = invoke("query", str(spec), sql, "--format", "csv")
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[1]


def test_an_edit_with_its_mtime_put_back_is_read_again(toy_run: Callable[..., Path]) -> None:
    """hostile-r4 7: a metrics.json edited to the same size with its mtime put back
    (touch -r, cp -p, rsync -a) kept the old number: the stamp held size and mtime only.
    ctime (which no user tool sets back) and the inode count too, as in plan/cache.py."""
    spec = toy_run(folds=2, grid=1)
    before = _brier(spec)
    path = spec.parent / "runs/toy/tasks/toy/k0/fold_00/evaluate/metrics.json"
    text, st = path.read_text(), path.stat()
    edited = "9" + before[1:] if before[0] != "9" else "1" + before[1:]
    assert text.count(f'"test/brier": {before}') == 1 and len(edited) == len(before)
    path.write_text(text.replace(f'"test/brier": {before}', f'"test/brier": {edited}'))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # what touch -r does
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    assert float(_brier(spec)) == float(edited)  # not the number it had before


@pytest.mark.parametrize("body", ["null", "[]", '"x"', "3", '{"version": 7, "tasks": null}'])
def test_an_index_of_any_json_shape_is_rebuilt(toy_run: Callable[..., Path], body: str) -> None:
    """hostile-r4 5: results/.index.json holding null, [] or "x" crashed report and query
    with an AttributeError; a damaged index of any shape is none, and is written again."""
    spec = toy_run(folds=2, grid=1)
    before = _brier(spec)
    index_file = spec.parent / "runs/toy/results/.index.json"
    index_file.write_text(body)
    assert _brier(spec) == before
    assert json.loads(index_file.read_text())["version"] == index.VERSION
    index_file.write_text(body)
    report = invoke("report", str(spec))
    assert report.returncode == 0 and "Traceback" not in report.stdout + report.stderr


def test_a_stamp_by_name_is_the_listed_stamp(toy_run: Callable[..., Path]) -> None:
    """index.stamp_at stats READ by name (no listing: status and an unchanged refresh look
    at 10,000 folders); it must give collect.stamp's string for every folder, one without
    DONE (None) and one that lost an output among them; discover without `listed` and
    with_files give discover's refs and names."""
    spec = toy_run(folds=2, grid=1)
    tasks = spec.parent / "runs/toy/tasks/toy/k0"
    (tasks / "fold_00/evaluate/predictions.parquet").unlink()
    (tasks / "fold_01/predict/DONE").unlink()
    refs = collect.discover(RunLayout(spec.parent / "runs/toy").tasks_dir)
    stamps = [collect.stamp(r) for r in refs]
    assert None in stamps and any("metrics.json" in s and "predictions" not in s
                                  for s in stamps if s)  # fmt: skip
    assert [index.stamp_at(r.path) for r in refs] == stamps
    assert index.stamp_at(str(tasks / "fold_00/nothing")) is None
    unlisted = collect.discover(RunLayout(spec.parent / "runs/toy").tasks_dir, listed=False)
    assert {r.files for r in unlisted} == {frozenset()}
    assert [(r, r.files, r.failed) for r in map(collect.with_files, unlisted)] == [
        (r, r.files, r.failed) for r in refs]  # fmt: skip


def test_an_unchanged_query_lists_no_task_folder_and_a_change_is_read(
    toy_run: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """issue 26 item 2: the query of an unchanged run stats each task folder's files by
    name instead of listing 10,000 folders; a file that goes away is still seen (the
    folder is then listed and read as before)."""
    from foldrun.api import query

    spec = toy_run(folds=2, grid=1)
    sql = "SELECT fold, stage, state FROM tasks ORDER BY fold, stage"
    first = query(spec, sql)  # the tables and the index made
    tasks_dir = str(RunLayout(spec.parent / "runs/toy").tasks_dir.resolve())
    listed: list[str] = []
    real = os.listdir
    monkeypatch.setattr(os, "listdir", lambda p=".": listed.append(os.fspath(p)) or real(p))
    assert query(spec, sql).equals(first) and set(first["state"]) == {"done"}
    assert [p for p in listed if p.startswith(tasks_dir)] == []
    (spec.parent / "runs/toy/tasks/toy/k0/fold_01/evaluate/metrics.json").unlink()
    after = query(spec, sql)
    assert after[(after["fold"] == 1) & (after["stage"] == "evaluate")]["state"].tolist() == [
        "corrupt"]  # fmt: skip
    assert any(p.startswith(tasks_dir) for p in listed)
