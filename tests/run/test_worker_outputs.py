"""A fold's outputs are checked against the fold (issue 22): predictions of any kind of
model must cover each test (val, external) id exactly once, ids as text; a metrics.json
the program wrote must be a flat object of numbers; probabilities must be numbers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from foldrun.core import state
from foldrun.run.worker import execute_planned
from tests.run.helpers import task

IDS = ["007", "7", "010", "011", "012", "013"]  # `007` and `7` are two ids


def _split(run_dir: Path, external: bool = False) -> dict[str, object]:
    """A fold whose test part is IDS; an external set of 30 rows when asked."""
    folder = run_dir / "split/fold_00"
    folder.mkdir(parents=True)
    pd.DataFrame({"id": [f"t{i}" for i in range(12)], "x": range(12), "target": [0, 1] * 6}
                 ).to_csv(folder / "train.csv", index=False)  # fmt: skip
    pd.DataFrame({"id": IDS, "x": range(6), "target": [0, 1] * 3}).to_csv(
        folder / "test.csv", index=False
    )
    inputs: dict[str, object] = {"train": str(folder / "train.csv"), "val": None,
                                 "test": str(folder / "test.csv"), "holdout": None}  # fmt: skip
    if external:
        table = run_dir / "ext.csv"
        pd.DataFrame({"id": [f"e{i:02d}" for i in range(30)], "x": range(30),
                      "target": [0, 1] * 15}).to_csv(table, index=False)  # fmt: skip
        inputs["external:ext"] = str(table)
    return inputs


PROGRAM = """
import csv, json, sys
test, predictions, mode = sys.argv[1:4]
ids = [r["id"] for r in csv.DictReader(open(test))]
if mode == "half":
    ids = ids[: len(ids) // 6 or 1]
elif mode == "twice":
    ids = ids + ids[:2]
elif mode == "int":
    ids = ["7" if i == "007" else i for i in ids]  # 007 read back as 7
with open(predictions, "w") as fh:
    fh.write("id,pred,proba_1\\n")
    for i in ids:
        fh.write(f"{i},1,{'high' if mode == 'text' else 0.8}\\n")
"""


def _predict(run_dir: Path, mode: str, external: bool = False):
    script = run_dir / "predict.py"
    script.write_text(PROGRAM)
    command = f"{sys.executable} {script} {{test}} {{predictions}} {mode}"
    return task(run_dir, "cmd", "predict", inputs=_split(run_dir, external), command=command)


def _failure(t) -> str:
    """The one line the audit log gives for the failed task."""
    assert not (t.task_dir / "DONE").exists()
    assert state.failed_dir(t.task_dir).is_dir()
    audit = (Path(t.recipe.run_dir) / "audit.log").read_text().splitlines()
    return audit[-1]


def test_predictions_of_every_test_id_once_pass(tmp_path: Path) -> None:
    t = _predict(tmp_path, "all")
    assert execute_planned(t) == 0
    assert sorted(pd.read_parquet(t.task_dir / "predictions.parquet")["id"]) == sorted(IDS)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("half", "5 missing (e.g. '7', '010', '011')"),
        ("twice", "2 repeated (e.g. '007', '7')"),
        ("int", "1 missing (e.g. '007'); 1 repeated (e.g. '7')"),
    ],
)
def test_predictions_that_do_not_match_the_fold_fail_the_task(
    tmp_path: Path, mode: str, expected: str
) -> None:
    t = _predict(tmp_path, mode)
    assert execute_planned(t) == 1
    line = _failure(t)
    assert "failed | the predict step's {predictions} file (predictions.csv" in line
    assert "task folder): test predictions do not match the fold's 6 ids" in line
    assert expected in line
    assert "predict each test id exactly once" in line


def test_foreign_ids_are_named(tmp_path: Path) -> None:
    t = _predict(tmp_path, "all")
    script = tmp_path / "predict.py"
    script.write_text(PROGRAM.replace('ids = [r["id"]', 'ids = ["x1"] + [r["id"]'))
    assert execute_planned(t) == 1
    assert "1 not in the fold (e.g. 'x1')" in _failure(t)


def test_predictions_changed_on_disk_before_the_commit_fail_the_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read-back reads every page and verifies its checksum: one bit of a value
    changed between the write and the commit (the file keeps its size, header and
    footer, and read back with another number) does not commit."""
    from foldrun.run.adapters import common
    from tests.core.test_state import flip_a_value

    written = common.write_predictions

    def damaged(frame: pd.DataFrame, folder: Path) -> Path:
        path = written(frame, folder)
        flip_a_value(path)
        return path

    monkeypatch.setattr(common, "write_predictions", damaged)
    t = _predict(tmp_path, "all")
    assert execute_planned(t) == 1
    line = _failure(t)
    assert "(OSError: could not verify page integrity, CRC checksum verification" in line


def test_one_probability_column_that_is_no_binary_class_fails_the_task(tmp_path: Path) -> None:
    """`proba_pos` alone for a 0/1 target is no class's probability: scored, every row
    was predicted `pos` (accuracy 0) and the probability metrics NaN. `proba_1` alone is
    class 1's (p, 1 - p: results/metrics.lone_proba) and passes."""
    t = _predict(tmp_path, "all")
    (tmp_path / "predict.py").write_text(PROGRAM.replace("proba_1", "proba_pos"))
    assert execute_planned(t) == 1
    assert ("one probability column (proba_pos) for a target of classes ['0', '1']; write "
            "a proba_<class> column for every class") in _failure(t)  # fmt: skip


def test_probabilities_as_text_fail_the_task(tmp_path: Path) -> None:
    t = _predict(tmp_path, "text")
    assert execute_planned(t) == 1
    assert ": probabilities or scores that are not numbers (column 'proba_1')" in _failure(t)


def test_an_external_set_predicted_in_part_fails_the_task(tmp_path: Path) -> None:
    t = _predict(tmp_path, "half", external=True)
    t.task_dir.parent.mkdir(parents=True)
    (tmp_path / "predict.py").write_text(PROGRAM.replace('mode == "half"', '"e00" in ids'))
    assert execute_planned(t) == 1
    line = _failure(t)
    assert ": external:ext predictions do not match the fold's 30 ids: 25 missing" in line


def test_entry_predictions_are_checked_too(tmp_path: Path) -> None:
    entry = tmp_path / "twice_entry.py"
    entry.write_text(
        "import pandas as pd\n"
        "def run_fold(ctx):\n"
        "    ids = list(ctx.test[ctx.id]) * 2\n"
        "    return pd.DataFrame({'id': ids, 'pred': 1})\n"
    )
    data = {"id": "id", "target": "target", "group": None, "features": ["x"]}
    t = task(tmp_path, "ent", "train", inputs=_split(tmp_path), kind="entry",
             entry="twice_entry:run_fold", data=data)  # fmt: skip
    assert execute_planned(t) == 1
    assert "6 repeated (e.g. '007', '7', '010')" in _failure(t)


BAD_METRICS = {
    "a string": ('{"test/x": "0.75"}', "1 value(s) that are not numbers (e.g. 'test/x': \"0.75\")"),
    "a list": ("[0.75]", "holds a JSON list, not an object"),
    "truncated": ('{"test/x": 0.7', "is not valid JSON"),
    "empty": ("", "is empty"),
    "nested": ('{"test": {"x": 1}}', "(e.g. 'test': {\"x\": 1})"),
}


@pytest.mark.parametrize("case", sorted(BAD_METRICS))
def test_a_metrics_json_that_is_not_numbers_fails_the_task(tmp_path: Path, case: str) -> None:
    text, expected = BAD_METRICS[case]
    (tmp_path / "metrics.txt").write_text(text)
    t = task(tmp_path, "cmd", "train", inputs=_split(tmp_path),
             command=f"cp {tmp_path / 'metrics.txt'} {{out}}/metrics.json")  # fmt: skip
    assert execute_planned(t) == 1
    line = _failure(t)
    assert "failed | the train step's metrics.json " in line and expected in line
    assert line.endswith("write a flat JSON object of numbers")


def test_nan_and_null_metrics_are_numbers(tmp_path: Path) -> None:
    (tmp_path / "metrics.txt").write_text('{"test/x": NaN, "test/y": null, "z": 3}')
    t = task(tmp_path, "cmd", "train", inputs=_split(tmp_path),
             command=f"cp {tmp_path / 'metrics.txt'} {{out}}/metrics.json")  # fmt: skip
    assert execute_planned(t) == 0
    assert json.loads((t.task_dir / "metrics.json").read_text())["z"] == 3


def test_a_user_evaluate_that_writes_a_list_with_an_external_set_fails_in_one_line(
    tmp_path: Path,
) -> None:
    """It crashed ('list' object has no attribute 'items') when the external set's metrics
    were renamed."""
    inputs = _split(tmp_path, external=True)
    predict = tmp_path / "tasks/cmd/default/fold_00/predict"
    predict.mkdir(parents=True)
    ids = [("test", i) for i in IDS] + [("external:ext", f"e{i:02d}") for i in range(30)]
    pd.DataFrame({"id": [i for _, i in ids], "subset": [s for s, _ in ids], "pred": 1}
                 ).to_parquet(predict / "predictions.parquet")  # fmt: skip
    t = task(tmp_path, "cmd", "evaluate", inputs=inputs, deps=("cmd/default/fold_00/predict",),
             command="echo '[0.5]' > $FOLDRUN_TASK_DIR/metrics.json")  # fmt: skip
    assert execute_planned(t) == 1
    line = _failure(t)
    assert "metrics.json: holds a JSON list, not an object; write a flat JSON object" in line
    assert "Traceback" not in line


def test_a_declared_curves_file_is_recorded_for_the_report(tmp_path: Path) -> None:
    from foldrun.results.curves import task_curves

    write = "mkdir -p {out}/logs && printf 'epoch,train_loss,val_loss\\n1,0.9,1.0\\n' > "
    t = task(tmp_path, "cmd", "train", inputs=_split(tmp_path),
             command=write + "{out}/logs/history.csv",
             curves={"file": "{out}/logs/history.csv", "format": "wide"})  # fmt: skip
    assert execute_planned(t) == 0
    assert json.loads((t.task_dir / "curves.json").read_text()) == {
        "file": "logs/history.csv", "format": "wide"}  # fmt: skip
    assert [n for n, *_ in task_curves(t.task_dir).points] == ["train_loss", "val_loss"]
    gone = task(tmp_path, "cmd2", "train", inputs=t.recipe.inputs, command="true",
                curves={"file": "{out}/none.jsonl", "format": None})  # fmt: skip
    assert execute_planned(gone) == 0  # curves are diagnostics: said in the log, no failure
    assert "foldrun: no training curves at" in (gone.task_dir / "train.log").read_text()
    assert not (gone.task_dir / "curves.json").exists()


def _pandas_coverage(expected: pd.Series, found: pd.Series) -> tuple[list, list, list]:
    """The check as pandas said it before it was made set-based (issue 26): the oracle."""
    missing = expected[~expected.isin(found)].unique()
    repeated = found[found.duplicated()].unique()
    foreign = found[~found.isin(expected)].unique()
    return [list(map(str, v)) for v in (missing, repeated, foreign)]  # type: ignore[return-value]


@pytest.mark.parametrize("seed", range(20))
def test_the_set_based_fold_check_says_what_pandas_said(seed: int) -> None:
    import numpy as np

    from foldrun.run.adapters.common import coverage, id_key

    rng = np.random.default_rng(seed)
    pool = ["007", "7", "7.0", "nan", "", "a b", "ü", *[f"s{i}" for i in range(40)]]
    expected = id_key(pd.Series(rng.choice(pool, 30, replace=False)))
    found = id_key(pd.Series(rng.choice(pool, int(rng.integers(0, 45)))))
    text = coverage(expected, found)
    missing, repeated, foreign = _pandas_coverage(expected, found)
    kinds = ((missing, "missing"), (repeated, "repeated"), (foreign, "not in the fold"))
    for values, word in kinds:
        shown = ", ".join(repr(v) for v in values[:3])
        assert (f"{len(values)} {word} (e.g. {shown})" in text) == bool(values), (word, text)
    assert (text == "") == (not (missing or repeated or foreign))


THREE = """
import csv, sys
test, predictions, columns = sys.argv[1:4]
ids = [r["id"] for r in csv.DictReader(open(test))]
names = columns.split(",")
with open(predictions, "w") as fh:
    fh.write(",".join(["id", *names]) + "\\n")
    for i in ids:
        fh.write(",".join([i, *(["0.4"] * len(names))]) + "\\n")
"""


@pytest.mark.parametrize("columns", ["proba_0,proba_1", "score"])
def test_predictions_without_a_column_for_a_class_of_the_training_rows_fail_the_task(
    tmp_path: Path, columns: str
) -> None:
    """`proba_0, proba_1` of a target of 0, 1, 2 (or a `score`, one class's) say nothing of
    class 2: scored, they gave class 1 against the rest (roc_auc, brier) beside the 3-class
    models' macro roc_auc; the metrics now leave them undefined, and the task should say
    why in one line, as one column of no binary target's class does."""
    folder = tmp_path / "split/fold_00"
    folder.mkdir(parents=True)
    pd.DataFrame({"id": [f"t{i}" for i in range(12)], "x": range(12), "target": [0, 1, 2] * 4}
                 ).to_csv(folder / "train.csv", index=False)  # fmt: skip
    pd.DataFrame({"id": IDS, "x": range(6), "target": [0, 1, 2] * 2}).to_csv(
        folder / "test.csv", index=False
    )
    script = tmp_path / "predict.py"
    script.write_text(THREE)
    command = f"{sys.executable} {script} {{test}} {{predictions}} {columns}"
    inputs = {"train": str(folder / "train.csv"), "val": None, "test": str(folder / "test.csv"),
              "holdout": None}  # fmt: skip
    t = task(tmp_path, "cmd", "predict", inputs=inputs, command=command)
    assert execute_planned(t) == 1
    assert "2" in _failure(t) and "class" in _failure(t)
