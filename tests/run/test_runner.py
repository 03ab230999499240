"""run/runner.py's state walk (`walk`): a committed folder unchanged since the last refresh
takes the refresh's record (results/index.py, as status does); a folder changed since is read
again, so a resume still sees a damaged output; its digest is the same either way."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import foldrun as fr
from foldrun.core.task import TaskState
from foldrun.plan import build_plan
from foldrun.run import runner
from foldrun.spec import load_spec
from tests.reliability.helpers import invoke


def _refreshed(spec: Path) -> None:
    """A query: the refresh writes results/.index.json, the record the walk may take."""
    done = invoke("query", str(spec), "SELECT count(*) AS n FROM tasks")
    assert done.returncode == 0, done.stderr


def test_the_walk_gives_the_same_states_and_digest_from_the_record_or_the_folders(
    toy_run: Callable[..., Path],
) -> None:
    spec = toy_run(folds=2, grid=2)
    plan = build_plan(load_spec(spec))
    read = runner.walk(plan.tasks.values(), Path(plan.run_dir))  # no record yet: folders read
    _refreshed(spec)
    kept = runner.walk(plan.tasks.values(), Path(plan.run_dir))
    assert kept == read and set(kept[0].values()) == {TaskState.DONE}


def test_a_resume_after_a_refresh_reruns_a_truncated_prediction(
    toy_run: Callable[..., Path],
) -> None:
    """Truncated after the refresh recorded it (its mtime put back): the size and ctime
    differ from the record, the folder is read, found corrupt and run again."""
    spec = toy_run(folds=2, grid=2)
    _refreshed(spec)
    preds = sorted(spec.parent.glob("runs/*/tasks/toy/*/fold_00/predict/predictions.parquet"))[0]
    before = os.stat(preds)
    preds.write_bytes(preds.read_bytes()[: before.st_size // 2])
    os.utime(preds, ns=(before.st_atime_ns, before.st_mtime_ns))
    key = preds.parent.relative_to(preds.parents[4]).as_posix()  # toy/<variant>/fold_00/predict
    outcome = fr.Project(spec).run()
    assert outcome.ok and key in outcome.ran
    assert fr.Project(spec).run().ran == ()  # run again whole: nothing more to do
