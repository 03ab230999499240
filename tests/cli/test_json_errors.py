"""Bad input to `run` and `status` (issue 22 item 9): with --format json a JSON error
object on stdout, as `check --format json` prints its problems (stdout was empty); and a
run refused at planning, for a task that cannot fit, writes nothing (it had made split/
and .foldrun/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reliability.helpers import main_in_process
from tests.run.helpers import toy_project

_foldrun = main_in_process  # (exit code, stdout, stderr) of foldrun in this process


@pytest.mark.parametrize("command", ["run", "status"])
def test_a_bad_spec_is_a_json_object_on_stdout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    spec = tmp_path / "foldrun.toml"
    spec.write_text('name = "x"\n[data]\ntable = "nope.csv"\n')
    code, out, err = _foldrun(capsys, command, str(spec), "--format", "json")
    assert code == 2
    answer = json.loads(out)
    assert answer["command"] == command and answer["ok"] is False
    assert answer["exit_code"] == 2 and "'models'" in answer["error"]
    assert err.count("\n") == 1 and answer["error"] in err  # stderr keeps its one line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foldrun.toml"]


def test_text_format_prints_nothing_on_stdout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = tmp_path / "foldrun.toml"
    spec.write_text('name = "x"\n')
    code, out, _ = _foldrun(capsys, "run", str(spec))
    assert code == 2 and out == ""


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_run_refused_for_a_task_that_cannot_fit_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    spec = toy_project(tmp_path / "p")
    gpu = "[models.toy]\nresources = { gpus = 1 }"
    spec.write_text(spec.read_text().replace("[models.toy]", gpu))
    before = sorted(p.name for p in spec.parent.iterdir())
    code, out, err = _foldrun(capsys, "run", str(spec), "--jobs", "2", "--format", fmt)
    assert code == 2 and "needs 1 GPU" in err
    assert sorted(p.name for p in spec.parent.iterdir()) == before  # no runs/, no split/
    if fmt == "json":
        assert "needs 1 GPU" in json.loads(out)["error"]
