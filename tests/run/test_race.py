"""Racing (`[race] after, alpha`): a clearly worse variant stops after the first folds, its
remaining tasks are `pruned` (never run, never failed or missing, never selected), a rerun
leaves them alone, and a spec without the race runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from foldrun.results.stats import corrected_ttest, holm
from tests.reliability.helpers import foldrun

# k = good scores with the feature the target is made of; k = bad scores with noise.
# Every execution appends "<variant> <fold> <stage>" to runs.txt.
MODEL = """
import os, sys
import pandas as pd
stage, k, test, predictions = sys.argv[1:5]
with open("runs.txt", "a") as fh:
    fh.write(f"{os.environ['FOLDRUN_VARIANT']} {os.environ['FOLDRUN_FOLD']} {stage}\\n")
if stage == "predict":
    rows = pd.read_csv(test, dtype={"id": str})
    score = rows["x1"] if k == "good" else rows["noise"]
    pd.DataFrame({"id": rows["id"], "score": score}).to_csv(predictions, index=False)
"""

SPEC = """name = "race"
[data]
table = "samples.csv"
id = "id"
target = "y"
task = "classification"
[split]
folds = 6
seed = 3
[models.m]
train = "python model.py train {k} - -"
predict = "python model.py predict {k} {test} {predictions}"
grid = { k = ["good", "bad"] }
[models.base]
estimator = "sklearn.dummy:DummyClassifier"
"""
RACE = "[race]\nafter = 3\nalpha = 0.05\n"


def make(root: Path, race: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    n = 240
    x1 = rng.normal(size=n)
    pd.DataFrame({
        "id": [f"{i:03d}" for i in range(n)],
        "x1": x1.round(4),
        "noise": rng.normal(size=n).round(4),
        "y": (x1 > 0).astype(int),
    }).to_csv(root / "samples.csv", index=False)  # fmt: skip
    (root / "model.py").write_text(MODEL)
    (root / "foldrun.toml").write_text(SPEC + (RACE if race else ""))
    return root / "foldrun.toml"


def ran(root: Path) -> list[tuple[str, int, str]]:
    path = root / "runs.txt"
    lines = path.read_text().split("\n") if path.exists() else []
    return [(v, int(f), s) for v, f, s in (line.split() for line in lines if line)]


def ran_to_the_end(root: Path, variant: str, started: list[int], name: str = "race") -> list[int]:
    """The folds of `started` whose tasks all ran to the end: a fold started before the
    race stopped its variant was cancelled (the local run decides as folds are scored), and
    its cancellation is in the audit log, it left no task folder."""
    audit = (root / f"runs/{name}/audit.log").read_text().splitlines()
    whole = []
    for fold in started:
        cancelled = any(f"| fold_{fold:02d} | m/{variant} |" in line and "| cancelled |" in line
                        for line in audit)  # fmt: skip
        if (root / f"runs/{name}/tasks/m/{variant}/fold_{fold:02d}").exists():
            whole.append(fold)
        else:
            assert cancelled, f"fold {fold} of {variant} ran, was not cancelled, left nothing"
    return whole


@pytest.fixture(scope="module")
def raced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("race")
    spec = make(root)
    done = foldrun("run", str(spec), "--jobs", "2", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "pruned" in done.stdout
    return root


def test_the_worse_variant_stops_after_the_first_folds(raced: Path) -> None:
    record = json.loads((raced / "runs/race/.foldrun/race.json").read_text())
    [decision] = record["decisions"]
    assert decision["variant"] == "k_bad" and decision["best"] == "k_good"
    folds = decision["folds"]
    assert 3 <= folds < 6
    bad = sorted({f for v, f, s in ran(raced) if v == "k_bad"})
    assert ran_to_the_end(raced, "k_bad", bad) == list(range(folds))  # its later folds: never
    good = sorted({f for v, f, s in ran(raced) if v == "k_good"})
    assert good == list(range(6))
    pruned = set(record["pruned"])
    assert {f"m/k_bad/fold_{f:02d}/{s}" for f in range(folds, 6)
            for s in ("train", "predict", "evaluate")} == pruned  # fmt: skip
    assert not (raced / "runs/race/tasks/m/k_bad" / f"fold_{folds:02d}").exists()


def test_the_decision_is_recomputed_from_the_task_folders(raced: Path) -> None:
    record = json.loads((raced / "runs/race/.foldrun/race.json").read_text())
    [decision] = record["decisions"]
    tasks = raced / "runs/race/tasks/m"

    def auc(variant: str, fold: int) -> float:
        path = tasks / variant / f"fold_{fold:02d}" / "evaluate" / "metrics.json"
        return json.loads(path.read_text())["test/roc_auc"]

    diff = [auc("k_good", f) - auc("k_bad", f) for f in range(decision["folds"])]
    test = corrected_ttest(diff, 1 / 5)
    assert decision["p"] == pytest.approx(test.p / 2)  # one-sided: worse than the best
    assert decision["p_holm"] == pytest.approx(holm([test.p / 2])[0])
    assert decision["p_holm"] < 0.05
    # one fold fewer was not enough: the race went on then
    shorter = corrected_ttest(diff[:-1], 1 / 5)
    assert len(diff) == 3 or shorter.p / 2 >= 0.05


def test_status_and_report_count_pruned_tasks_as_neither_failed_nor_missing(raced: Path) -> None:
    status = foldrun("status", str(raced / "foldrun.toml"), "--format", "json", cwd=raced)
    assert status.returncode == 0, status.stdout  # complete: done or pruned
    counts = json.loads(status.stdout)["counts"]
    record = json.loads((raced / "runs/race/.foldrun/race.json").read_text())
    assert counts["pruned"] == len(record["pruned"]) and counts.get("failed", 0) == 0
    report = foldrun("report", str(raced / "foldrun.toml"), cwd=raced)
    assert report.returncode == 0, report.stderr
    summary = json.loads((raced / "runs/race/report/cv_summary.json").read_text())
    assert summary["complete"] and summary["missing"] == []
    assert summary["tasks"]["pruned"] == len(record["pruned"])
    assert summary["race"]["tasks_pruned"] == len(record["pruned"])
    assert {m["model"]: m["variant"] for m in summary["models"]}["m"] == "k_good"
    html = (raced / "runs/race/report/index.html").read_text()
    assert "Racing: variants stopped early" in html
    tasks = pd.read_parquet(raced / "runs/race/results/tasks.parquet")
    assert set(tasks.loc[tasks["state"] == "pruned", "variant"]) == {"k_bad"}


def test_a_rerun_never_runs_pruned_tasks(raced: Path) -> None:
    before = len(ran(raced))
    again = foldrun("run", str(raced / "foldrun.toml"), cwd=raced)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("foldrun: 0 task(s) run")
    assert len(ran(raced)) == before
    dry = foldrun("run", str(raced / "foldrun.toml"), "--dry-run", cwd=raced)
    pruned = len(json.loads((raced / "runs/race/.foldrun/race.json").read_text())["pruned"])
    assert dry.stdout.strip().endswith(f"; {pruned} pruned by the race (not run)")


def test_without_the_race_the_pruned_tasks_run(raced: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(raced, root)
    make(root, race=False)  # the same spec less [race]
    before = ran(root)
    done = foldrun("run", str(root / "foldrun.toml"), cwd=root)
    assert done.returncode == 0, done.stderr
    new = ran(root)[len(before) :]
    assert {(v, f) for v, f, _ in new} == {("k_bad", f) for f in range(6)} - {
        (v, f) for v, f, _ in before}  # fmt: skip


def test_race_and_nested_selection_together_are_refused(tmp_path: Path) -> None:
    spec = make(tmp_path / "both")
    spec.write_text(spec.read_text().replace("seed = 3\n", "seed = 3\ninner = 2\n"))
    done = foldrun("run", str(spec), cwd=spec.parent)
    assert done.returncode == 2
    assert "[race] and [split] inner cannot be combined" in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2
    assert not (spec.parent / "runs").exists()  # nothing written


def test_a_run_without_a_race_never_imports_the_results_stack(tmp_path: Path) -> None:
    """A resume of done tasks stays light: the race code loads scipy and the result
    tables only when the spec has [race] (a plain resume took 5 s instead of 1 s)."""
    import subprocess
    import sys

    spec = make(tmp_path / "plain", race=False)
    text = spec.read_text()  # two folds: a resume of done tasks, however many
    spec.write_text(text.replace('[models.base]\nestimator = "sklearn.dummy:DummyClassifier"\n',
                                 "").replace("folds = 6\n", "folds = 2\n"))  # fmt: skip
    assert "folds = 2\n" in spec.read_text()
    assert foldrun("run", str(spec), cwd=spec.parent).returncode == 0
    probe = (
        "import sys; from foldrun.run.runner import run; r = run(sys.argv[1]); "
        "print(len(r.to_run), 'scipy.stats' in sys.modules, 'foldrun.results.load' in sys.modules,"
        " sorted(m for m in sys.modules if m.startswith('foldrun.results.')))"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(spec)], cwd=spec.parent,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    # the state walk reads the last refresh's record (results/index.py: json, os) alone
    assert done.stdout.split() == ["0", "False", "False", "['foldrun.results.index']"], done.stderr
