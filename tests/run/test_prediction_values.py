"""An empty or NaN prediction fails the task that wrote it, never scored (hostile r4 #1:
NaN scores counted as the negative class gave a lower accuracy, a NaN roc_auc on every fold
and every task `done`). The one line names the file, the column, the count and three ids."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from foldrun.run.adapters.common import values_problem
from foldrun.run.worker import execute_planned
from tests.run.helpers import task
from tests.run.test_worker_outputs import IDS, _failure, _split

# writes the fold's test ids with the score of `column`; the first two rows empty
PROGRAM = """
import csv, sys
test, predictions, column = sys.argv[1:4]
ids = [r["id"] for r in csv.DictReader(open(test))]
with open(predictions, "w") as fh:
    fh.write(f"id,{column}\\n")
    for n, i in enumerate(ids):
        fh.write(f"{i},{'' if n < 2 else 0.8}\\n")
"""


def _command(run_dir: Path, column: str, **recipe: object):
    script = run_dir / "predict.py"
    script.write_text(PROGRAM)
    command = f"{sys.executable} {script} {{test}} {{predictions}} {column}"
    return task(run_dir, "cmd", "train", inputs=_split(run_dir), command=command, **recipe)


def test_values_problem_names_the_column_count_and_ids_as_text() -> None:
    preds = pd.DataFrame({"id": IDS, "pred": [1, 0, 1, 0, 1, 0],
                          "proba_1": [np.nan, 0.2, np.nan, 0.1, np.nan, np.nan]})  # fmt: skip
    line = values_problem(preds)
    assert line == ("column 'proba_1': 4 empty or NaN predictions (ids '007', '010', '012'); "
                    "predict every row")  # fmt: skip
    assert values_problem(preds, {"proba_1": "prob"}).startswith("column 'prob': 4 ")
    assert values_problem(preds.fillna(0.5)) == ""
    assert values_problem(preds.assign(y_true=np.nan).fillna({"proba_1": 0.5})) == ""


def test_a_declared_proba_column_with_nan_fails_the_train_only_command(tmp_path: Path) -> None:
    """The hostile's case: `[models.X.predictions] proba = "prob"`, scored in the train task."""
    t = _command(tmp_path, "prob", predictions={"id": "id", "proba": "prob"}, scores=True)
    assert execute_planned(t) == 1
    line = _failure(t)
    expected = "2 empty or NaN predictions (ids '007', '7'); predict every row"
    assert line.endswith(f"failed | the predictions file predictions.csv column 'prob': {expected}")
    assert not (t.task_dir / "metrics.json").exists()


@pytest.mark.parametrize("column", ["pred", "score", "proba_1"])
def test_an_empty_prediction_of_a_command_fails_its_task(tmp_path: Path, column: str) -> None:
    t = _command(tmp_path, column)
    assert execute_planned(t) == 1
    line = _failure(t)
    assert f"column {column!r}: 2 empty or NaN predictions (ids '007', '7')" in line
    assert "predictions.csv" in line


def test_an_entry_that_predicts_nan_fails_its_task(tmp_path: Path) -> None:
    (tmp_path / "nan_entry.py").write_text(
        "import pandas as pd\n"
        "def run_fold(ctx):\n"
        "    ids = list(ctx.test[ctx.id])\n"
        "    return pd.DataFrame({'id': ids, 'pred': [None] + [1] * (len(ids) - 1)})\n"
    )
    data = {"id": "id", "target": "target", "group": None, "features": ["x"]}
    t = task(tmp_path, "ent", "train", inputs=_split(tmp_path), kind="entry",
             entry="nan_entry:run_fold", data=data)  # fmt: skip
    assert execute_planned(t) == 1
    assert "column 'pred': 1 empty or NaN predictions (ids '007')" in _failure(t)


def test_full_predictions_still_pass(tmp_path: Path) -> None:
    script = tmp_path / "predict.py"
    script.write_text(PROGRAM.replace("'' if n < 2 else 0.8", "0.8"))
    t = task(tmp_path, "cmd", "train", inputs=_split(tmp_path),
             command=f"{sys.executable} {script} {{test}} {{predictions}} proba_1")  # fmt: skip
    assert execute_planned(t) == 0
    assert pd.read_parquet(t.task_dir / "predictions.parquet")["proba_1"].notna().all()
