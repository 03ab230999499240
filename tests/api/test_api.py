"""The Python API drives a whole experiment without the CLI and answers in typed objects."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import foldrun.api as fr
from foldrun.errors import FoldrunError
from tests.reliability.helpers import foldrun, project


def test_a_whole_experiment_from_python(tmp_path: Path) -> None:
    spec = project(tmp_path, folds=2, grid=2)
    proj = fr.Project.load(spec)
    checked = proj.check()
    assert checked.ok and checked.problems == () and "task(s)" in checked.summary
    before = proj.status()
    assert not before.complete and before.counts == {"pending": len(before.tasks)}
    assert not (tmp_path / "runs").exists()  # looking wrote nothing

    outcome = proj.run(jobs=2, models=["toy/k0"])
    assert outcome.ok and outcome.failures == ()
    assert set(outcome.ran) == {t.key for t in before.tasks if t.variant == "k0"}
    partial = proj.status()
    assert partial.counts == {"done": len(outcome.ran), "pending": len(outcome.ran)}

    rest = proj.run(jobs=2)
    assert rest.already_done == len(outcome.ran) and len(rest.ran) == len(outcome.ran)
    assert proj.status().complete
    again = proj.run(dry_run=True)
    assert again.ran == () and again.dry_run

    metrics = proj.results().metrics
    assert set(metrics["variant"]) == {"k0", "k1"}
    report = proj.report()
    assert report.index.is_file()


def test_status_dict_equals_the_cli_json(tmp_path: Path) -> None:
    spec = project(tmp_path, folds=2, grid=1)
    fr.load(spec).run(folds=[0])
    status = fr.load(spec).status().to_dict()
    assert status["counts"] == {"done": 3, "pending": 3}
    assert json.loads(json.dumps(status)) == status  # plain JSON types only
    keys = {t["key"]: t["state"] for t in status["tasks"]}
    assert keys["toy/k0/fold_00/predict"] == "done"
    done = foldrun("status", "foldrun.toml", cwd=tmp_path)
    assert done.returncode == 1  # the CLI agrees: not every task is done


def test_bad_spec_raises_a_foldrun_error(tmp_path: Path) -> None:
    spec = project(tmp_path, folds=2, grid=1)
    spec.write_text(spec.read_text().replace("[split]", "[splitt]"))
    with pytest.raises(FoldrunError) as raised:
        fr.load(spec)
    assert "splitt" in raised.value.one_line()
    with pytest.raises(FoldrunError):
        fr.load(tmp_path / "missing.toml")


def test_check_lists_problems_and_raises_on_request(tmp_path: Path) -> None:
    spec = project(tmp_path, folds=2, grid=1)
    spec.write_text(spec.read_text().replace('target = "target"', 'target = "nope"'))
    checked = fr.Project(spec.resolve()).check()
    assert not checked.ok and any("nope" in p for p in checked.problems)
    assert checked.to_dict()["ok"] is False
    with pytest.raises(FoldrunError, match="problem"):
        checked.raise_if_problems()


def test_run_exports_to_mlflow_as_the_cli_does(toy_run, tmp_path: Path) -> None:
    """`Project.run` mirrors a finished run into the spec's [mlflow] store, as `foldrun run`
    does: the same runs with the same keys, and the line the CLI prints."""
    mlflow = pytest.importorskip("mlflow", reason="mlflow is not installed")
    from tests.reliability.helpers import invoke

    def undone(root: Path) -> Path:  # a finished run with [mlflow], a fold's tasks undone
        spec = toy_run(root)
        store = (root / "mlruns").as_uri()
        spec.write_text(spec.read_text() + f'\n[mlflow]\ntracking_uri = "{store}"\n')
        shutil.rmtree(root / "runs/toy/tasks/toy/k1/fold_02")
        return spec

    def exported(root: Path) -> set[tuple[str, str]]:
        client = mlflow.MlflowClient(tracking_uri=(root / "mlruns").as_uri())
        runs = client.search_runs([client.get_experiment_by_name("toy").experiment_id])
        return {(r.data.tags["foldrun.key"], r.info.status) for r in runs}

    def line(text: str, root: Path) -> str:  # the export's line, its store and id left out
        found = next(t for t in text.splitlines() if t.startswith("mlflow: "))
        return re.sub(r"experiment \S+:", "experiment:", found.replace(str(root), ""))

    outcome = fr.Project(undone(tmp_path / "api")).run(jobs=2)
    assert outcome.ok and len(outcome.ran) == 3
    # each fold's run and each variant's parent: 2 variants x 4 folds
    assert line(outcome.exported or "", tmp_path / "api").endswith(": 10 runs created, "
                                                                   "0 updated, 0 unchanged")
    cli = invoke("run", str(undone(tmp_path / "cli")), "--jobs", "2")
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert line(cli.stdout, tmp_path / "cli") == line(outcome.exported or "", tmp_path / "api")
    assert exported(tmp_path / "api") == exported(tmp_path / "cli")
    assert len(exported(tmp_path / "api")) == 10
    assert fr.Project(tmp_path / "api/foldrun.toml").run().exported is None  # nothing ran


def test_task_info_is_a_status_row_with_its_state_as_text() -> None:
    """api.TaskInfo holds run/status.py's TaskStatus fields, in order (TaskInfo.of takes them
    all): a field added to the status row must reach the API and its JSON, or this fails."""
    from dataclasses import fields

    from foldrun.core.task import TaskState
    from foldrun.run.status import TaskStatus

    assert [f.name for f in fields(fr.TaskInfo)] == [f.name for f in fields(TaskStatus)]
    row = TaskStatus("m/v/fold_00/train", "m", "v", "fold_00", "train", TaskState.STALE, 1.5,
                     "changed: a.py")  # fmt: skip
    info = fr.TaskInfo.of(row)
    assert info.state == "stale" and info.to_dict()["why"] == "changed: a.py"
    assert json.loads(json.dumps(info.to_dict()))["duration_s"] == 1.5
