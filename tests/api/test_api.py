"""The Python API drives a whole experiment without the CLI and answers in typed objects."""

from __future__ import annotations

import json
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
