"""run/status.py's summarize: the rows `foldrun status` prints above 200 tasks."""

from __future__ import annotations

from types import SimpleNamespace

from foldrun.core.task import TaskState
from foldrun.run.status import summarize


def _row(model: str, variant: str, stage: str, state: object, dataset: str = "") -> object:
    return SimpleNamespace(model=model, variant=variant, stage=stage, state=state,
                           dataset=dataset)  # fmt: skip


def test_counts_each_group_by_state_in_plan_order() -> None:
    rows = [_row("rf", "d4", "train", TaskState.DONE), _row("rf", "d4", "train", "failed"),
            _row("rf", "d4", "train", TaskState.DONE), _row("lr", "default", "train", "pending"),
            _row("rf", "d4", "evaluate", "done"), _row("rf", "d4", "train", "done", "b")]
    assert summarize(rows) == [
        ("", "rf", "d4", "train", {"done": 2, "failed": 1}),
        ("", "lr", "default", "train", {"pending": 1}),
        ("", "rf", "d4", "evaluate", {"done": 1}),
        ("b", "rf", "d4", "train", {"done": 1}),
    ]


def test_many_variants_are_counted_in_one_row_per_model_and_stage() -> None:
    """625 variants x 5 stages made 2,500 rows, still too many to read: above SUMMARY_OVER
    groups, one row per (dataset, model, stage) with its variants counted."""
    stages = ("train", "evaluate")
    rows = [_row("lr", f"C{i}", stage, "done") for i in range(150) for stage in stages]
    rows += [_row("nb", "default", "train", "failed"), _row("lr", "C0", "train", "pending")]
    assert summarize(rows) == [
        ("", "lr", "150 variants", "train", {"done": 150, "pending": 1}),
        ("", "lr", "150 variants", "evaluate", {"done": 150}),
        ("", "nb", "1 variant", "train", {"failed": 1}),
    ]
    assert len(summarize(rows[:200])) == 200  # up to SUMMARY_OVER groups: one per variant


def _status_json(spec: object) -> dict:
    import json

    from tests.reliability.helpers import invoke

    done = invoke("status", str(spec), "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def test_status_from_the_refresh_index_is_status_from_the_folders(toy_run) -> None:  # type: ignore[no-untyped-def]
    """A committed folder whose stamp is unchanged is taken from results/.index.json; any
    change to DONE, an output or resources.json after it was written is read from disk."""
    import json

    from tests.reliability.helpers import invoke

    spec = toy_run(folds=2, grid=2)
    assert invoke("query", str(spec), "SELECT 1").returncode == 0
    tasks = spec.parent / "runs/toy/tasks/toy"
    resources = tasks / "k0/fold_00/train/resources.json"
    res = json.loads(resources.read_text())
    resources.write_text(json.dumps({**res, "wall_s": 1234.5}))
    (tasks / "k0/fold_01/predict/DONE").write_text("another-fingerprint\n")
    (tasks / "k1/fold_00/evaluate/metrics.json").write_text("[1, 2]")
    from_index = _status_json(spec)
    states = {t["key"]: (t["state"], t["duration_s"]) for t in from_index["tasks"]}
    assert states["toy/k0/fold_00/train"] == ("done", 1234.5)
    assert states["toy/k0/fold_01/predict"][0] == "stale"
    assert states["toy/k1/fold_00/evaluate"] == ("corrupt", None)
    (spec.parent / "runs/toy/results/.index.json").unlink()
    assert _status_json(spec) == from_index


def test_a_done_task_that_lost_an_output_it_recorded_is_corrupt(toy_run) -> None:  # type: ignore[no-untyped-def]
    """hostile-r4 1b: a done evaluate whose predictions.parquet went missing (a sync, a
    quota cleanup) was `done`, and the report pooled 2 of 3 folds. What the task recorded
    at its commit (core/state.WROTE) must still be there, or it is corrupt, as a garbage
    file is, for status, query (through the index) and run (which redoes it); a train
    that wrote no predictions stays done."""
    from tests.reliability.helpers import invoke

    spec = toy_run(folds=2, grid=1)
    assert invoke("query", str(spec), "SELECT 1").returncode == 0  # an index status trusts
    lost = spec.parent / "runs/toy/tasks/toy/k0/fold_01/evaluate/predictions.parquet"
    lost.unlink()
    states = {t["key"]: t["state"] for t in _status_json(spec)["tasks"]}
    assert states.pop("toy/k0/fold_01/evaluate") == "corrupt"
    assert set(states.values()) == {"done"}  # train and predict of fold_01 among them
    sql = "SELECT fold, state FROM tasks WHERE stage = 'evaluate' ORDER BY fold"
    query = invoke("query", str(spec), sql, "--format", "csv")
    assert query.returncode == 0 and query.stdout.split() == ["fold,state", "0,done",
                                                               "1,corrupt"], query.stdout
    assert invoke("run", str(spec)).returncode == 0
    assert lost.is_file() and set(t["state"] for t in _status_json(spec)["tasks"]) == {"done"}


def test_status_of_an_unchanged_run_lists_no_task_folder(toy_run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """issue 26 item 2: a committed folder is checked against the index by a stat of each
    file by name (listing 10,000 folders cost more); one where an attempt runs (its
    .foldrun-running mark) is read from the folder as before."""
    import os

    from foldrun.core import state
    from tests.reliability.helpers import invoke

    spec = toy_run(folds=2, grid=1)
    assert invoke("query", str(spec), "SELECT 1").returncode == 0  # an index status trusts
    tasks = str((spec.parent / "runs/toy/tasks").resolve())
    listed: list[str] = []
    real = os.listdir
    monkeypatch.setattr(os, "listdir", lambda p=".": listed.append(os.fspath(p)) or real(p))
    read: list[str] = []
    judged = state.disk_state
    monkeypatch.setattr(state, "disk_state", lambda d, f: read.append(str(d)) or judged(d, f))
    before = _status_json(spec)
    assert {t["state"] for t in before["tasks"]} == {"done"} and read == []
    assert [p for p in listed if p.startswith(tasks)] == []
    running = spec.parent / "runs/toy/tasks/toy/k0/fold_00/train" / state.RUNNING
    running.write_text("999999999\n")  # a mark whose attempt died: DONE still says done
    assert _status_json(spec) == before
    assert [os.path.realpath(p) for p in read] == [str(running.parent.resolve())]
