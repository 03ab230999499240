"""Racing on a real SLURM: the waves go through sbatch, a pruned task never gets a job,
and the decision equals a local run's; without --wait each `foldrun run` decides on what
has finished and submits the next wave. Five folds and the racing model alone (each task is
a job of the one cluster): the first three folds, then fold 3 and fold 4 as waves of their
own, as with six; the foldrun commands run in this process (tests/reliability/helpers.invoke),
the jobs are real."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.reliability.helpers import invoke
from tests.run.test_race import make, ran

pytestmark = [pytest.mark.slurm, pytest.mark.slow]
SLURM = "[slurm]\nmax_concurrent = 4\npoll_max_s = 1\n"
BASE = '[models.base]\nestimator = "sklearn.dummy:DummyClassifier"\n'  # nothing to race


def project(root: Path) -> Path:
    spec = make(root)
    text = spec.read_text()
    for cut, into in (("folds = 6\n", "folds = 5\n"), (BASE, "")):
        assert cut in text, cut  # test_race's spec changed: update these cuts
        text = text.replace(cut, into)
    spec.write_text(text + SLURM)
    return spec


def record(root: Path) -> dict:
    return json.loads((root / "runs/race/.foldrun/race.json").read_text())


def decisions(root: Path) -> list[tuple[str, str, int, bool]]:
    return [(d["model"], d["variant"], d["folds"], d["stopped"]) for d in record(root)["decisions"]]


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("local")
    done = invoke("run", str(project(root)), "--jobs", "2", cwd=root)
    assert done.returncode == 0, done.stderr
    return root


def never_ran(root: Path) -> None:
    """No pruned task got a folder, an execution or a job."""
    pruned = record(root)["pruned"]
    assert pruned
    executed = {f"m/{v}/fold_{f:02d}/{s}" for v, f, s in ran(root)}
    assert not executed & set(pruned)
    for key in pruned:
        assert not (root / "runs/race/tasks" / key).exists(), key
    files = [p for p in (root / "runs/race/slurm").rglob("*") if p.is_file()]
    assert files
    jobs = b"\n".join(p.read_bytes() for p in files)
    assert b"m/k_good/fold_04/predict" in jobs  # a task of the last wave is named there
    for key in pruned:  # the array and task files name every task a job was given
        assert key.encode() not in jobs, key


def test_a_race_on_slurm_with_wait_decides_as_a_local_run(
    cluster: None, local: Path, tmp_path: Path
) -> None:
    spec = project(tmp_path)
    done = invoke("run", str(spec), "--backend", "slurm", "--wait", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert decisions(tmp_path) == decisions(local)
    assert record(tmp_path)["pruned"] == record(local)["pruned"]
    never_ran(tmp_path)
    status = invoke("status", str(spec), "--format", "json", cwd=tmp_path)
    assert status.returncode == 0, status.stdout  # done or pruned: complete
    assert json.loads(status.stdout)["counts"]["pruned"] == len(record(tmp_path)["pruned"])


def test_without_wait_each_run_submits_the_next_wave(
    cluster: None, local: Path, tmp_path: Path
) -> None:
    spec = project(tmp_path)
    runs = 0
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        done = invoke("run", str(spec), "--backend", "slurm", cwd=tmp_path)
        assert done.returncode in (0, 1), done.stdout + done.stderr
        runs += 1
        status = invoke("status", str(spec), "--format", "json", cwd=tmp_path)
        counts = json.loads(status.stdout)["counts"]
        assert not counts.get("failed"), status.stdout
        if status.returncode == 0 and set(counts) <= {"done", "pruned"}:
            break
        time.sleep(1)
    else:
        pytest.fail(f"not complete after {runs} runs: {counts}")
    assert runs > 2  # one wave per call: the first folds, then a fold at a time
    assert decisions(tmp_path) == decisions(local)
    assert record(tmp_path)["pruned"] == record(local)["pruned"]
    never_ran(tmp_path)
