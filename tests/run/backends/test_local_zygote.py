"""The fork server's slots (run/backends/local/zygote.py): foldrun's own evaluate runs in a
reused slot process, never a fork per task (issue 26), and still commits task by task."""

from __future__ import annotations

import json
import os
import resource
from dataclasses import replace
from pathlib import Path

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from foldrun.core import state
from foldrun.core.task import TaskState
from foldrun.layout import RunLayout
from foldrun.run.backends.local import preload_modules, runs_in_slot
from foldrun.run.options import RunOptions
from foldrun.run.runner import run_planned
from foldrun.run.status import task_state
from foldrun.run.worker import checkpoint_dir, reset_peak, rss_mb
from tests.run.helpers import cancer_table, chain, task, write_split

FEATURES = ["mean_radius", "mean_texture", "worst_area"]
# a user scorer that says which process scored: the evaluate's worker
PID_SCORER = """
import os

def score(y_true, y_pred):
    with open(os.path.join(os.environ["FOLDRUN_RUN_DIR"], "pids.txt"), "a") as fh:
        fh.write(f"{os.getpid()}\\n")
    return 1.0
"""

# the same, with the fold scored: `e<fold> <pid>`
FOLD_PID_SCORER = PID_SCORER.replace("{os.getpid()}", "e{os.environ['FOLDRUN_FOLD']} {os.getpid()}")


def _meta() -> dict[str, object]:
    return {
        "kind": "estimator",
        "estimator": "sklearn.linear_model:LogisticRegression",
        "preprocess": ("sklearn.preprocessing:StandardScaler",),
        "params": {"C": 0.5, "max_iter": 5000},
        "data": {"id": "id", "target": "target", "group": None, "features": FEATURES},
        "scorers": {"pid": "pidscore:score"},
    }


def test_evaluates_share_a_slot_and_score_as_scikit_learn(tmp_path: Path) -> None:
    folds = 6
    table = cancer_table()
    pairs = write_split(tmp_path, table, folds=folds)
    (tmp_path / "pidscore.py").write_text(PID_SCORER)
    tasks = [t for fold in range(folds) for t in chain(tmp_path, "lr", fold, **_meta())]
    evaluates = [t for t in tasks if t.stage == "evaluate"]
    assert all(runs_in_slot(t) for t in evaluates)
    assert not any(runs_in_slot(t) for t in tasks if t.stage != "evaluate")
    result = run_planned(tmp_path / "foldrun.toml", tmp_path, {t.key: t for t in tasks},
                         RunOptions(jobs=2, gpus=()))  # fmt: skip
    assert result.exit_code == 0 and result.counts["done"] == 3 * folds
    pids = (tmp_path / "pids.txt").read_text().split()
    # six folds scored by at most two processes (one slot per job), none of them a fork
    # made for its task alone
    assert len(pids) == folds and len(set(pids)) <= 2
    scores = []
    for t in evaluates:
        assert state.read_fingerprint(t.task_dir) == t.fingerprint
        scores.append(json.loads((t.task_dir / "metrics.json").read_text())["test/accuracy"])
        res = json.loads((t.task_dir / "resources.json").read_text())
        assert res["exit_code"] == 0 and 0 < res["peak_mb"] < 2000
        # foldrun's own scoring keeps no checkpoints: no folder made for it
        assert not checkpoint_dir(t).exists()
    assert checkpoint_dir(tasks[0]).is_dir()  # the user's train still gets one
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=5000))
    oracle = cross_validate(model, table[FEATURES], table["target"], cv=pairs,
                            scoring="accuracy")  # fmt: skip
    assert scores == list(oracle["test_score"])


def test_an_evaluate_runs_in_the_slot_its_predict_ran_in(tmp_path: Path) -> None:
    """foldrun's evaluate of a fold starts as soon as its predict ends, in that slot, which
    holds the predictions it read back (adapters/common.read_parquet): no second read."""
    folds = 6
    write_split(tmp_path, cancer_table(), folds=folds)
    (tmp_path / "pidscore.py").write_text(FOLD_PID_SCORER)
    meta = {"kind": "command", "command": "true", "predictions": {"pred": "target"},
            "scorers": {"pid": "pidscore:score"},
            "data": {"id": "id", "target": "target", "group": None, "features": []}}
    predict = 'cp {test} {predictions} && echo "p{fold} $PPID" >> "$FOLDRUN_RUN_DIR/pids.txt"'
    tasks = []
    for fold in range(folds):
        train, pred, evaluate = chain(tmp_path, "c", fold, **meta)
        tasks += [train, replace(pred, recipe=replace(pred.recipe, command=predict)), evaluate]
    result = run_planned(tmp_path / "foldrun.toml", tmp_path, {t.key: t for t in tasks},
                         RunOptions(jobs=2, gpus=()))  # fmt: skip
    assert result.exit_code == 0 and result.counts["done"] == 3 * folds
    found = dict(line.split() for line in (tmp_path / "pids.txt").read_text().splitlines())
    assert len(found) == 2 * folds and len(set(found.values())) <= 2  # two slots
    assert all(found[f"e{fold}"] == found[f"p{fold}"] for fold in range(folds)), found


def test_a_user_evaluate_program_is_not_foldrun_s_own(tmp_path: Path) -> None:
    train, predict, evaluate = chain(tmp_path, "m", 0, kind="estimator")
    user = replace(evaluate, recipe=replace(evaluate.recipe, command="python score.py"))
    assert runs_in_slot(evaluate)
    # an estimator's steps and a user's evaluate program on it: a fork of their own
    assert not any(runs_in_slot(t) for t in (train, predict, user))


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="Linux only")
def test_a_slot_records_each_task_peak_not_the_largest_before(tmp_path: Path) -> None:
    pid = os.fork()
    if pid == 0:  # a slot that ran a 300 MB task, then starts the next one
        code = 1
        try:
            block = bytearray(300 * 2**20)
            block[:: 4096] = b"x" * len(block[:: 4096])
            del block
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            reset_peak(rss_mb())
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            code = 0 if before > 300 and after < before - 250 else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


# a scorer that crashes the process scoring it (a C extension's segfault) the first time
CRASHY = """
import os, signal

def score(y_true, y_pred):
    seen = os.path.join(os.environ["FOLDRUN_RUN_DIR"], "crashed")
    if not os.path.exists(seen):
        open(seen, "w").close()
        os.kill(os.getpid(), signal.SIGSEGV)
    return 1.0
"""


def test_a_slot_that_dies_mid_task_records_the_task_failed(tmp_path: Path) -> None:
    write_split(tmp_path, cancer_table(), folds=2)
    (tmp_path / "crashy.py").write_text(CRASHY)
    meta = {**_meta(), "scorers": {"boom": "crashy:score"}}
    tasks = [t for fold in range(2) for t in chain(tmp_path, "lr", fold, **meta)]
    result = run_planned(tmp_path / "foldrun.toml", tmp_path, {t.key: t for t in tasks},
                         RunOptions(jobs=1, gpus=()))  # fmt: skip
    assert result.exit_code != 0 and result.counts["failed"] == 1
    crashed, fine = (t for t in tasks if t.stage == "evaluate")
    # as a forked task's death: kept as evaluate.failed with the signal in its log and in
    # the audit log, no running mark of the dead slot left, status `failed`
    failed = state.failed_dir(crashed.task_dir)
    assert "killed by SIGSEGV" in (failed / "train.log").read_text()
    audit_log = RunLayout(tmp_path).audit_log.read_text()
    assert "| lr/default | evaluate | failed | killed by SIGSEGV" in audit_log
    assert state.attempt_pid(crashed.task_dir) is None
    assert task_state(crashed, {})[0] == TaskState.FAILED
    assert [f.key for f in result.failures] == [crashed.key]
    assert "killed by SIGSEGV" in " ".join(result.failures[0].tail)
    # the next evaluate got a fresh slot and committed
    assert state.read_fingerprint(fine.task_dir) == fine.fingerprint


# a scorer that keeps what it allocates (a cache, a leak): each task adds ~50 MB to the slot
LEAKY = """
import numpy as np

KEEP = []

def score(y_true, y_pred):
    KEEP.append(np.ones(50 * 2**20 // 8))
    return 1.0
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="Linux only")
def test_peak_mb_of_slot_tasks_is_each_task_s_own(tmp_path: Path) -> None:
    write_split(tmp_path, cancer_table(), folds=3)
    (tmp_path / "leaky.py").write_text(LEAKY)
    meta = {**_meta(), "scorers": {"leak": "leaky:score"}}
    tasks = [t for fold in range(3) for t in chain(tmp_path, "lr", fold, **meta)]
    result = run_planned(tmp_path / "foldrun.toml", tmp_path, {t.key: t for t in tasks},
                         RunOptions(jobs=1, gpus=()))  # fmt: skip
    assert result.exit_code == 0
    peaks = [json.loads((t.task_dir / "resources.json").read_text())["peak_mb"]
             for t in tasks if t.stage == "evaluate"]  # fmt: skip
    # the same work each: the same peak (was +50 MB per task the slot ran before), and
    # the 50 MB the scorer allocates are in it
    assert max(peaks) - min(peaks) < 20, peaks
    assert min(peaks) > 50, peaks


def test_the_server_imports_what_command_slots_read_predictions_with(tmp_path: Path) -> None:
    """A command model's predict (or a train-only model's scoring) converts and checks its
    predictions with pandas in a slot: the server imports it once for every slot; a model
    that declares its predictions table gets the spec's table of columns imported too."""
    plain = task(tmp_path, "m", "train")
    assert "pandas" not in preload_modules([plain])  # nothing of it reads predictions
    predict = task(tmp_path, "m", "predict", deps=("m/default/fold_00/train",))
    scores = task(tmp_path, "m", "train", scores=True)
    for tasks in ([plain, predict], [scores]):
        assert {"pandas", "foldrun.run.adapters.common"} <= set(preload_modules(tasks))
    declared = replace(predict, recipe=replace(predict.recipe, predictions={"pred": "label"}))
    assert "foldrun.spec.outputs" not in preload_modules([predict])
    assert "foldrun.spec.outputs" in preload_modules([declared])
    # scoring alone: not what the user's in-process code runs with; an estimator: all of it
    commands = chain(tmp_path, "c", 0)
    assert "sklearn.metrics" in preload_modules(commands)
    assert not {"joblib", "sklearn.pipeline", "scipy.stats"} & set(preload_modules(commands))
    # labels alone score in numpy: no scikit-learn (~1.6 s of CPU a run); a score, a
    # probability, another kind of task or a user scorer may need it
    labels = [replace(t, recipe=replace(t.recipe, predictions={"pred": "label"}))
              for t in commands]  # fmt: skip
    assert "sklearn.metrics" not in preload_modules(labels)
    # an evaluate scores its predict's file: without that task in the run, not known
    assert "sklearn.metrics" in preload_modules([t for t in labels if t.stage == "evaluate"])
    for change in ({"predictions": {"proba": "p"}}, {"problem": "regression"},
                   {"scorers": {"s": "m:f"}}):  # fmt: skip
        changed = [replace(t, recipe=replace(t.recipe, **change)) for t in labels]
        assert "sklearn.metrics" in preload_modules(changed), change
    estimator = chain(tmp_path, "e", 0, kind="estimator")
    assert {"joblib", "sklearn.pipeline", "scipy.stats"} <= set(preload_modules(estimator))
