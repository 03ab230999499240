"""Racing attacked as a user would: an edited spec rerun with --force races the changed
variants again (an old decision does not hold for new settings), ..."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.reliability.helpers import foldrun, invoke
from tests.run.test_race import make, ran, ran_to_the_end


def record(root: Path, name: str = "race") -> dict:
    return json.loads((root / f"runs/{name}/.foldrun/race.json").read_text())


@pytest.fixture(scope="module")
def raced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("race_hostile")
    spec = make(root)
    done = invoke("run", str(spec), "--jobs", "2", cwd=root)
    assert done.returncode == 0, done.stderr
    return root


def copy(raced: Path, tmp_path: Path) -> Path:
    root = tmp_path / "copy"
    shutil.copytree(raced, root)
    return root


def test_a_forced_rerun_after_an_edit_races_the_changed_variants_again(
    raced: Path, tmp_path: Path
) -> None:
    root = copy(raced, tmp_path)
    spec = root / "foldrun.toml"
    # every task of model m gets new settings: the old decision was made on other ones
    spec.write_text(spec.read_text().replace("model.py train {k}", "model.py train {k} "))
    spec.write_text(spec.read_text().replace("[models.m]", "[models.m]\nparams = { v = 2 }"))
    before = len(ran(root))
    done = invoke("run", str(spec), "--force", "--jobs", "2", cwd=root)
    assert done.returncode == 0, done.stderr
    bad = sorted({f for v, f, _ in ran(root)[before:] if v == "k_bad"})
    [decision] = record(root)["decisions"]
    assert decision["variant"] == "k_bad" and decision["stopped"]
    # stopped again, not run in full
    assert ran_to_the_end(root, "k_bad", bad) == list(range(decision["folds"]))
    pruned = record(root)["pruned"]
    assert set(pruned) == {f"m/k_bad/fold_{f:02d}/{s}" for f in range(decision["folds"], 6)
                           for s in ("train", "predict", "evaluate")}  # fmt: skip
    status = invoke("status", str(spec), "--format", "json", cwd=root)
    assert status.returncode == 0, status.stdout
    assert json.loads(status.stdout)["counts"]["pruned"] == len(pruned)


def test_mlflow_marks_the_parent_run_of_a_stopped_variant(raced: Path, tmp_path: Path) -> None:
    """Its means are over the few folds it ran: the store says so, beside n_folds."""
    mlflow = pytest.importorskip("mlflow")
    root = copy(raced, tmp_path)
    uri = f"sqlite:///{tmp_path / 'ml.db'}"
    done = foldrun("track", str(root / "foldrun.toml"), "--tracking-uri", uri, cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    [decision] = record(root)["decisions"]
    client = mlflow.MlflowClient(uri)
    [experiment] = [e for e in client.search_experiments() if e.name != "Default"]
    runs = {r.data.tags["foldrun.key"]: r for r in client.search_runs([experiment.experiment_id])}
    bad, good = runs["m/k_bad"], runs["m/k_good"]
    assert bad.data.tags["foldrun.race"].startswith(f"stopped after {decision['folds']} folds")
    assert bad.data.metrics["n_folds"] == decision["folds"]
    assert "foldrun.race" not in good.data.tags and good.data.metrics["n_folds"] == 6
    assert not [k for k in runs if "inner" in k]


DAMAGED = [
    "",  # zero bytes
    '{"pruned": {"m/k_bad/fold_03/train"',  # truncated
    "[1, 2]",
    '{"decisions": [1]}',
    '{"decisions": [{"model": "m"}]}',
    '{"decisions": "x", "pruned": ["a"]}',
    '{"pruned": {"m/k_bad/fold_03/train": 5}}',
]


@pytest.mark.parametrize("text", DAMAGED)
def test_a_damaged_race_record_is_one_line_everywhere(
    raced: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    """Issue 22 item 9: run crashed (TypeError, KeyError), report too (DataFrame), and a
    truncated record silently counted nothing as pruned. Now each command says which file
    and to delete it, exit 2, and runs nothing."""
    from foldrun.cli import main

    root = copy(raced, tmp_path)
    (root / "runs/race/.foldrun/race.json").write_text(text)
    before = len(ran(root))
    for command in ("run", "status", "report"):
        capsys.readouterr()
        with pytest.raises(SystemExit) as ended:
            main([command, str(root / "foldrun.toml")])
        err = capsys.readouterr().err
        assert ended.value.code == 2, (command, err)
        assert err.count("\n") == 1 and "race.json: the race record is damaged" in err
    assert len(ran(root)) == before  # no task ran
    assert not (root / "runs/race/report").exists()
