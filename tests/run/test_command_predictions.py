"""`[models.X.predictions]`: the program's predictions file read in its own columns (CSV,
TSV, Parquet; another file than {predictions}); a column it lacks fails in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from foldrun.errors import RunError
from foldrun.run.adapters.command import _convert_predictions
from tests.run.helpers import cancer_table, task, write_split


@pytest.fixture
def fold(tmp_path: Path) -> pd.DataFrame:
    write_split(tmp_path, cancer_table())
    return pd.read_csv(tmp_path / "split/fold_00/test.csv", dtype={"id": str})


def _predict(tmp_path: Path, predictions: dict[str, object]):
    planned = task(tmp_path, "m", "predict", predictions=predictions)
    folder = tmp_path / "out"
    folder.mkdir()
    return planned, folder


def test_a_class_table_and_a_parquet_file_of_its_own(tmp_path: Path, fold: pd.DataFrame) -> None:
    declared = {"file": "{out}/preds_fold{fold}.parquet", "id": "rid",
                "proba": {"benign": "p0", "malignant": "p1"}, "pred": "label"}  # fmt: skip
    planned, folder = _predict(tmp_path, declared)
    train = Path(planned.task_dir).parent / "train"  # {out}: the fold's train folder
    train.mkdir(parents=True)
    pd.DataFrame({"rid": fold["id"], "p0": 0.4, "p1": 0.6, "label": "malignant",
                  "extra": 1}).to_parquet(train / "preds_fold0.parquet")  # fmt: skip
    planned = task(tmp_path, "m", "predict", predictions=declared,
                   upstream={"train": str(train)})  # fmt: skip
    _convert_predictions(planned, folder)
    written = pd.read_parquet(folder / "predictions.parquet")
    assert list(written.columns) == ["id", "subset", "pred", "proba_benign", "proba_malignant"]
    assert written["id"].tolist() == fold["id"].tolist() and set(written["subset"]) == {"test"}


def test_record_id_and_prob_in_a_tsv_keep_ids_as_text(tmp_path: Path, fold: pd.DataFrame) -> None:
    planned, folder = _predict(tmp_path, {"file": "{out}/p.tsv", "id": "record_id",
                                          "proba": "prob"})  # fmt: skip
    planned = task(tmp_path, "m", "predict", predictions=planned.recipe.predictions,
                   upstream={"train": str(folder)})  # fmt: skip
    ids = ["007", *fold["id"].tolist()[1:]]
    pd.DataFrame({"record_id": ids, "prob": 0.5}).to_csv(folder / "p.tsv", sep="\t", index=False)
    _convert_predictions(planned, folder)
    written = pd.read_parquet(folder / "predictions.parquet")
    assert written["id"].iloc[0] == "007" and "score" in written.columns


def test_a_column_the_file_lacks_is_one_line(tmp_path: Path, fold: pd.DataFrame) -> None:
    planned, folder = _predict(tmp_path, {"id": "record_id", "proba": "prob"})
    pd.DataFrame({"record_id": fold["id"], "probability": 0.5}).to_csv(
        folder / "predictions.csv", index=False)  # fmt: skip
    with pytest.raises(RunError) as err:  # the task fails with this one line
        _convert_predictions(planned, folder)
    assert str(err.value) == (f"the predictions file {folder}/predictions.csv has no column "
                              "'prob' (columns: record_id, probability); fix "
                              "[models.m.predictions]")  # fmt: skip
    assert not (folder / "predictions.parquet").exists()


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"sid": ["a", "b"], "p": [1, 2], "x": [0.5, np.nan], "subset": "test"}),
    pd.DataFrame({"sid": pd.Series(["a", "b"], dtype=object), "p": pd.Categorical(["u", "v"]),
                  "x": pd.array([1, None], dtype="Int64"), "other": 1}, index=[5, 5]),
    pd.DataFrame({"sid": [1.0, 2.0], "p": [True, False], "x": [0.1, 0.2]}),
    pd.DataFrame([[1, 2, 3, 4]], columns=["sid", "p", "x", "x"]),  # a name twice: pandas'
])  # fmt: skip
def test_the_programs_columns_in_foldruns_names_as_rename_gives_them(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    """_in_contract builds the frame from the columns' arrays (issue 26): what
    `frame[kept].rename(columns=...)` gave, dtypes and index included."""
    from foldrun.run.adapters.command import _in_contract, _renames

    declared = {"id": "sid", "pred": "p", "proba": {"1": "x"}}
    planned = task(tmp_path, "m", "predict", predictions=declared)
    got = _in_contract(planned, frame, tmp_path / "p.csv")
    renames = {"sid": "id", **_renames(json.dumps(declared, sort_keys=True))}
    kept = [*renames, *(["subset"] if "subset" in frame.columns else [])]
    pd.testing.assert_frame_equal(got, frame[kept].rename(columns=renames), check_exact=True)
