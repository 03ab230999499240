"""results/index.py reads the refresh's index without pandas: its version, file names and
stamp are collect.py's, which `foldrun status` must match exactly to trust an entry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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
