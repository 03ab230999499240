"""User code that misbehaves (prints when imported, calls sys.exit or os._exit, writes no
predictions) fails only its own task, with its own reason, through the real console script."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.helpers import foldrun, table

HEAD = """name = "toy"
[data]
table = "samples.csv"
id = "id"
target = "target"
task = "classification"
[split]
folds = 2
seed = 0
"""

NOISY = """
import os, sys
print("NOISE-AT-IMPORT on stdout")
print("NOISE-AT-IMPORT on stderr", file=sys.stderr)
os.write(1, b"NOISE-AT-IMPORT raw fd 1\\n")
from sklearn.dummy import DummyClassifier


class Model(DummyClassifier):
    pass


def run_fold(ctx):
    import pandas as pd

    print("NOISE-IN-TASK")
    share = float((ctx.train[ctx.target] == 1).mean())
    return pd.DataFrame({"id": ctx.test[ctx.id], "proba_0": 1 - share, "proba_1": share})
"""


def _project(root: Path, models: str, module: str = "", name: str = "usercode") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    table().to_csv(root / "samples.csv", index=False)
    if module:
        (root / f"{name}.py").write_text(module)
    (root / "foldrun.toml").write_text(HEAD + models)
    return root / "foldrun.toml"


def _audit(root: Path) -> str:
    return (root / "runs/toy/audit.log").read_text()


@pytest.mark.slow
def test_modules_that_print_when_imported_do_not_break_the_run(tmp_path: Path) -> None:
    spec = _project(
        tmp_path,
        '[models.est]\nestimator = "usercode:Model"\n[models.fn]\nentry = "usercode:run_fold"\n',
        NOISY,
    )
    run = foldrun("run", str(spec), "--stages", "train", "predict", "evaluate", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "NOISE" not in run.stdout + run.stderr
    assert "did not start" not in run.stderr
    done = sorted(p.parent.name for p in (tmp_path / "runs/toy/tasks").rglob("DONE"))
    assert done == ["evaluate"] * 4 + ["predict"] * 4 + ["train"] * 4
    # what the task itself prints is in its own log
    log = (tmp_path / "runs/toy/tasks/fn/default/fold_00/train/train.log").read_text()
    assert "NOISE-IN-TASK" in log


EXITS = """
import os, sys


def run_fold(ctx):
    print("about to leave")
    {call}
"""


@pytest.mark.slow
@pytest.mark.parametrize("call", ["sys.exit(0)", "sys.exit(3)", "sys.exit()"])
def test_sys_exit_in_a_task_is_that_task_failing(tmp_path: Path, call: str) -> None:
    models = '[models.fn]\nentry = "usercode:run_fold"\n'
    # first an ordinary failure, so an old traceback lies around to be shown by mistake
    spec = _project(tmp_path, models, EXITS.format(call="raise ValueError('OLD-BOOM')"))
    first = foldrun("run", str(spec), "--stages", "train", "--folds", "0", cwd=tmp_path)
    assert first.returncode == 1 and "OLD-BOOM" in first.stderr
    _project(tmp_path, models, EXITS.format(call=call))
    run = foldrun("run", str(spec), "--stages", "train", "--folds", "0", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    shown = call.replace("sys.exit", "")
    assert f"the task called sys.exit{shown}" in run.stderr
    assert "OLD-BOOM" not in run.stderr
    failed = tmp_path / "runs/toy/tasks/fn/default/fold_00/train.failed"
    log = (failed / "train.log").read_text()
    assert f"the task called sys.exit{shown}" in log and "about to leave" in log
    assert "OLD-BOOM" not in log
    assert not (failed.parent / "train" / "DONE").exists()
    assert "fold_00 | fn/default | train | failed | the task called sys.exit" in _audit(tmp_path)
    assert list(failed.parent.glob(".train.tmp-*")) == []
    status = foldrun("status", str(spec), cwd=tmp_path)
    assert "failed" in status.stdout and "running" not in status.stdout


@pytest.mark.slow
def test_os_exit_in_a_task_is_that_task_failing(tmp_path: Path) -> None:
    spec = _project(
        tmp_path, '[models.fn]\nentry = "usercode:run_fold"\n', EXITS.format(call="os._exit(5)")
    )
    run = foldrun("run", str(spec), "--stages", "train", "--folds", "0", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "exited with code 5" in run.stderr
    failed = tmp_path / "runs/toy/tasks/fn/default/fold_00/train.failed"
    assert "exited with code 5" in (failed / "train.log").read_text()
    assert "| fn/default | train | failed | the task process exited with code 5" in _audit(tmp_path)
    assert list(failed.parent.glob(".train.tmp-*")) == []


@pytest.mark.slow
def test_a_killed_task_is_not_shown_with_an_older_attempt_s_log(tmp_path: Path) -> None:
    models = '[models.fn]\nentry = "usercode:run_fold"\n'
    spec = _project(tmp_path, models, EXITS.format(call="raise ValueError('OLD-BOOM')"))
    first = foldrun("run", str(spec), "--stages", "train", "--folds", "0", cwd=tmp_path)
    assert first.returncode == 1 and "OLD-BOOM" in first.stderr
    _project(tmp_path, models, EXITS.format(call="os.kill(os.getpid(), 9)"))
    run = foldrun("run", str(spec), "--stages", "train", "--folds", "0", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "OLD-BOOM" not in run.stderr
    # recorded as the task's failure, with the signal, as the worker would have
    assert "killed by SIGKILL" in run.stderr
    failed = tmp_path / "runs/toy/tasks/fn/default/fold_00/train.failed"
    assert "killed by SIGKILL" in (failed / "train.log").read_text()


@pytest.mark.slow
def test_estimator_module_that_exits_when_imported_fails_its_tasks_only(tmp_path: Path) -> None:
    module = "import os\nos._exit(7)\n"
    spec = _project(tmp_path, '[models.est]\nestimator = "usercode:Model"\n', module)
    run = foldrun("run", str(spec), "--stages", "train", "--folds", "0", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "did not start" not in run.stderr
    assert (tmp_path / "runs/toy/tasks/est/default/fold_00/train.failed").is_dir()


COMMAND = """
[models.cmd]
train = "echo model > {{out}}/model.txt"
predict = "{predict}"
"""


@pytest.mark.slow
def test_predict_that_writes_no_predictions_fails_and_reruns(tmp_path: Path) -> None:
    spec = _project(tmp_path, COMMAND.format(predict="true"))
    run = foldrun("run", str(spec), cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "wrote no {predictions} file" in run.stderr
    assert "Traceback" not in run.stderr and "pyarrow" not in run.stderr
    tasks = tmp_path / "runs/toy/tasks/cmd/default"
    assert not (tasks / "fold_00/predict/DONE").exists()
    assert "wrote no {predictions}" in (tasks / "fold_00/predict.failed/train.log").read_text()
    assert not (tasks / "fold_00/evaluate").exists()  # not run: its upstream failed
    # fixed: the rerun runs predict (it is not done) and evaluate
    write = (
        "printf 'id,pred\\\\n' > {predictions}; "
        "tail -n +2 {test} | cut -d, -f1 | sed s/$/,1/ >> {predictions}"
    )
    _project(tmp_path, COMMAND.format(predict=write))
    again = foldrun("run", str(spec), cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert (tasks / "fold_00/predict/predictions.parquet").is_file()
    assert (tasks / "fold_00/evaluate/DONE").is_file()


@pytest.mark.slow
def test_predictions_breaking_the_contract_name_the_columns(tmp_path: Path) -> None:
    write = "printf 'id,guess\\\\na,1\\\\n' > {predictions}"
    spec = _project(tmp_path, COMMAND.format(predict=write))
    run = foldrun("run", str(spec), "--stages", "train", "predict", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "columns found ['id', 'subset', 'guess']" in run.stderr
    assert "expected `id`, `subset` and `pred`" in run.stderr
    assert not list((tmp_path / "runs/toy/tasks").rglob("predict/DONE"))
