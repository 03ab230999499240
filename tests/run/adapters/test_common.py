"""adapters/common's shortcuts (issue 26) give what the general code gave: y_true joined by
position as pandas' merge joins it, a manifest kept per process read again when its file
changes, predictions read without pyarrow's dataset layer as pandas reads them."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from foldrun.run.adapters import common
from tests.run.helpers import task


def _merged(planned, preds: pd.DataFrame) -> pd.DataFrame:
    """with_truth as it was: groupby subset, pandas' left merge on the ids as text."""
    parts = []
    for subset, group in preds.groupby("subset", sort=False):
        truth = common.read_manifest(Path(planned.recipe.inputs[subset]), planned)
        truth = truth[["id", "target"]].set_axis(common.id_key(truth["id"]))
        truth = truth.drop(columns=["id"]).set_axis(["y_true"], axis=1)
        keyed = group.assign(_key=common.id_key(group["id"]))
        parts.append(keyed.merge(truth, left_on="_key", right_index=True, how="left")
                     .drop(columns="_key"))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def _fold(tmp_path: Path, labels: list[object]) -> object:
    split = tmp_path / "split/fold_00"
    split.mkdir(parents=True)
    ids = [f"{i:03d}" for i in range(len(labels))]
    rows = pd.DataFrame({"id": ids, "x": range(len(ids)), "target": labels})
    rows.iloc[::3].to_csv(split / "val.csv", index=False)
    rows.drop(index=rows.index[::3]).to_csv(split / "test.csv", index=False)
    planned = task(tmp_path, "m", "evaluate")
    planned.recipe.inputs["val"] = str(split / "val.csv")
    return planned


@pytest.mark.parametrize("labels", [[0, 1] * 30, ["cat", "dog", "007"] * 20, [0.5, 1.5] * 30])
def test_with_truth_equals_the_merge(tmp_path: Path, labels: list[object]) -> None:
    planned = _fold(tmp_path, labels)
    rng = np.random.default_rng(0)
    ids = [f"{i:03d}" for i in range(len(labels))]
    subsets = ["val" if i % 3 == 0 else "test" for i in range(len(ids))]
    preds = pd.DataFrame({"id": ids, "subset": subsets, "pred": rng.integers(0, 2, len(ids))})
    preds = preds.sample(frac=1, random_state=1)  # test and val rows interleaved
    got = common.with_truth(planned, preds)
    pd.testing.assert_frame_equal(got, _merged(planned, preds))
    runs = (got["subset"] != got["subset"].shift()).sum()
    assert runs == 2  # grouped by subset, in the order each first appears


def test_with_truth_keeps_a_y_true_the_program_wrote_as_the_merge_did(tmp_path: Path) -> None:
    planned = _fold(tmp_path, [0, 1] * 6)
    test = common.read_manifest(Path(planned.recipe.inputs["test"]), planned)
    preds = pd.DataFrame({"id": test["id"], "subset": "test", "pred": 1, "y_true": 9})
    got = common.with_truth(planned, preds)
    pd.testing.assert_frame_equal(got, _merged(planned, preds))
    assert {"y_true_x", "y_true_y"} <= set(got.columns)


@pytest.mark.parametrize("subsets", [["test"] * 6, ["val", "test"] * 3, ["test", None] * 3])
def test_subset_metrics_of_one_subset_equal_the_groupby(subsets: list[object]) -> None:
    """One subset is scored without splitting the frame: the metrics grouping gives."""
    planned = task(Path("/nonexistent"), "m", "evaluate")
    preds = pd.DataFrame({"id": list("abcdef"), "subset": subsets, "pred": [0, 1, 1, 0, 1, 1],
                          "y_true": [0, 1, 0, 0, 1, 1]})  # fmt: skip
    grouped = {f"{subset}/{name}": value for subset, group in preds.groupby("subset", sort=False)
               for name, value in common.compute_metrics(group.reset_index(drop=True),
                                                         "classification").items()}  # fmt: skip
    assert common.subset_metrics(planned, preds) == grouped


def _isin_subsets(planned, preds: pd.DataFrame) -> pd.DataFrame:
    """assign_subsets as it was: Series.isin per manifest, later manifests winning."""
    subset = pd.Series("test", index=preds.index, dtype=object)
    keys = common.id_key(preds["id"])
    for name in ("val", "holdout", "test"):
        path = common.input_path(planned, name)
        if path is not None and path.exists():
            subset[keys.isin(set(common.id_key(common.read_manifest(path, planned)["id"])))] = name
    out = preds.copy()
    out.insert(1, "subset", subset)
    return out


@pytest.mark.parametrize("ids", [[f"{i:03d}" for i in range(40)] + ["foreign", None],
                                 [*range(40), 1.0, np.nan]])  # fmt: skip
def test_assign_subsets_equals_isin(tmp_path: Path, ids: list[object]) -> None:
    planned = _fold(tmp_path, [0, 1] * 20)
    preds = pd.DataFrame({"id": ids, "pred": 1}, index=range(7, 7 + len(ids)))
    got = common.assign_subsets(planned, preds)
    pd.testing.assert_frame_equal(got, _isin_subsets(planned, preds))
    # ids as written match the manifest's text ids; numbers (7, not "007") match none
    assert set(got["subset"]) == ({"val", "test"} if isinstance(ids[0], str) else {"test"})


def test_a_kept_manifest_is_read_again_when_its_file_changes(tmp_path: Path) -> None:
    path, planned = tmp_path / "test.csv", task(tmp_path, "m", "evaluate")
    pd.DataFrame({"id": ["007", "008"], "target": [0, 1]}).to_csv(path, index=False)
    first = common.read_manifest(path, planned)
    first["target"] = 5  # the caller's edit stays its own
    assert common.read_manifest(path, planned)["target"].tolist() == [0, 1]
    stat = path.stat()
    pd.DataFrame({"id": ["007", "009"], "target": [1, 1]}).to_csv(path, index=False)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, mtime put back
    assert common.read_manifest(path, planned)["id"].tolist() == ["007", "009"]


def test_the_manifests_of_every_fold_stay_kept_within_their_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slot runs the folds of a 5-fold split in turn: each fold's manifest is read once
    (a cache of the last four read each again); past the bytes kept, the oldest goes."""
    planned, _ = task(tmp_path, "m", "evaluate"), common._KEPT.clear()
    paths = [tmp_path / f"test{i}.csv" for i in range(5)]
    for i, path in enumerate(paths):
        pd.DataFrame({"id": [f"{i}a", f"{i}b"], "target": [0, 1]}).to_csv(path, index=False)
    reads: list[str] = []
    real = common.read_table
    monkeypatch.setattr(common, "read_table", lambda p, text: reads.append(p) or real(p, text))
    for _ in range(3):
        for path in paths:
            assert common.read_manifest(path, planned)["id"].tolist()[0].startswith(path.stem[-1])
    assert len(reads) == 5
    monkeypatch.setattr(common, "MANIFESTS_KEPT_BYTES", 2 * paths[0].stat().st_size)
    common.read_manifest(paths[0], planned)  # kept: not read again
    new = tmp_path / "test5.csv"
    pd.DataFrame({"id": ["5a", "5b"], "target": [0, 1]}).to_csv(new, index=False)
    common.read_manifest(new, planned)  # read: the two most recently used are kept
    assert len(reads) == 6 and [k[0][0] for k in common._KEPT] == [str(paths[0]), str(new)]


def test_the_predictions_read_last_are_read_again_only_when_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's read-back of a predict's file, then its evaluate in the same slot: one
    read; a file changed since (its stat) or other columns are read again."""
    path = tmp_path / "predictions.parquet"
    pd.DataFrame({"id": ["007", "008"], "subset": "test", "pred": [1, 0]}).to_parquet(path)
    reads: list[object] = []
    real = common._read_parquet
    monkeypatch.setattr(common, "_read_parquet", lambda p, c: reads.append(c) or real(p, c))
    first = common.read_parquet(path)
    first["pred"] = 5  # the caller's edit stays its own
    pd.testing.assert_frame_equal(common.read_parquet(path), pd.read_parquet(path))
    assert reads == [None]
    common.read_parquet(path, ["id"])
    pd.DataFrame({"id": ["007", "009"], "subset": "test", "pred": [1, 1]}).to_parquet(path)
    assert common.read_parquet(path)["id"].tolist() == ["007", "009"]
    assert reads == [None, ["id"], None]


def test_read_parquet_reads_what_pandas_reads(tmp_path: Path) -> None:
    path = tmp_path / "predictions.parquet"
    frame = pd.DataFrame({"id": ["007", None], "subset": "test", "pred": [1, 0],
                          "proba_1": [0.25, np.nan]}, index=[5, 7])  # fmt: skip
    frame.to_parquet(path)  # an index of its own, as a program may write
    pd.testing.assert_frame_equal(common.read_parquet(path), pd.read_parquet(path))
    pd.testing.assert_frame_equal(common.read_parquet(path, ["id", "pred"]),
                                  pd.read_parquet(path, columns=["id", "pred"]))  # fmt: skip


def _pandas_ids_problem(planned, preds: pd.DataFrame, required: tuple[str, ...] = ()) -> str:
    """ids_problem as it was (issue 26): a boolean mask per subset over pandas' Series."""
    if problem := common.values_problem(preds):
        return problem
    subsets = preds["subset"].astype(str) if "subset" in preds else pd.Series("test", preds.index)
    keys = common.id_key(preds["id"]) if "id" in preds else pd.Series("", preds.index)
    for subset in dict.fromkeys([*required, *subsets.unique()]):
        wanted = subset in common.SUBSETS or ":" in subset
        path = common.input_path(planned, subset) if wanted else None
        if path is None or not path.is_file():
            continue
        expected = common.id_key(common.read_manifest(path, planned)["id"])
        if problem := common.coverage(expected, keys[(subsets == subset).to_numpy()]):
            return f"{subset} predictions {problem}; predict each {subset} id exactly once"
    return ""


def _outcome(check, *args: object) -> str:
    """What a check says, or the error it raises (a row without a subset in pandas' str
    dtype: its NaN is no subset name, then and now)."""
    try:
        return str(check(*args))
    except Exception as err:
        return type(err).__name__


@pytest.mark.parametrize("seed", range(12))
def test_the_fold_check_of_lists_says_what_the_masks_said(tmp_path: Path, seed: int) -> None:
    planned = _fold(tmp_path, [0, 1] * 15)
    rng = np.random.default_rng(seed)
    pool = [f"{i:03d}" for i in range(34)] + ["7", "foreign"]
    ids = rng.choice(pool, int(rng.integers(0, 40)))
    subsets = rng.choice(["test", "val", "other", None], len(ids), p=[0.5, 0.3, 0.1, 0.1])
    preds = pd.DataFrame({"id": ids, "subset": subsets, "pred": 1})
    for required in ((), ("test",), ("val", "test")):
        assert _outcome(common.ids_problem, planned, preds, required) == _outcome(
            _pandas_ids_problem, planned, preds, required)  # fmt: skip
    whole = common.read_manifest(Path(planned.recipe.inputs["test"]), planned)
    exact = pd.DataFrame({"id": whole["id"], "subset": "test", "pred": 1})
    assert common.ids_problem(planned, exact, ("test",)) == ""


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"id": ["007", "008"], "subset": "test", "pred": [1, 0], "y_true": [1, 1]}),
    pd.DataFrame({"id": ["a", None], "subset": ["test", "val"], "proba_x": [0.25, np.nan],
                  "pred": pd.Categorical(["x", "y"])}, index=[4, 4]),
    pd.DataFrame({"id": pd.Series(["1", "2"], dtype=object), "subset": "test",
                  "pred": [True, False], "score": pd.array([1, None], dtype="Int64")}),
])  # fmt: skip
def test_predictions_are_written_as_to_parquet_writes_them(tmp_path: Path, frame) -> None:
    """write_predictions writes pyarrow's table itself (issue 26): the same bytes as
    pandas' to_parquet(index=False) with page checksums."""
    path = common.write_predictions(frame, tmp_path)
    theirs = tmp_path / "pandas.parquet"
    frame.reset_index(drop=True).to_parquet(theirs, index=False, write_page_checksum=True)
    assert path.read_bytes() == theirs.read_bytes()


def test_rows_the_read_back_checked_are_not_checked_again_while_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's read-back of a predict's file checks it against the fold; foldrun's
    evaluate of that fold, next in the slot, scores those rows without a second check,
    and checks them itself once the file, or a manifest, changed (issue 26)."""
    planned = _fold(tmp_path, [0, 1] * 15)
    test = common.read_manifest(Path(planned.recipe.inputs["test"]), planned)
    folder = tmp_path / "predict"
    folder.mkdir()
    path = common.write_predictions(
        pd.DataFrame({"id": test["id"], "subset": "test", "pred": 1}), folder)  # fmt: skip
    assert common.fold_checked(planned, path, ("test",)) == ""
    checks: list[int] = []
    real = common.ids_problem
    monkeypatch.setattr(common, "ids_problem", lambda *a: checks.append(1) or real(*a))
    frame, checked = common.read_checked(planned, path)
    assert checked
    pd.testing.assert_frame_equal(common.with_truth(planned, frame, checked),
                                  common.with_truth(planned, frame))  # fmt: skip
    assert len(checks) == 1  # the second call's own check only
    manifest = Path(planned.recipe.inputs["val"])
    manifest.write_text(manifest.read_text())  # the same text, written again
    assert not common.read_checked(planned, path)[1]
    assert common.fold_checked(planned, path, ("test",)) == ""
    assert common.read_checked(planned, path)[1]
    short = pd.DataFrame({"id": test["id"][:-1], "subset": "test", "pred": 1})
    common.write_predictions(short, folder)  # one id missing: checked, and it fails
    assert not common.read_checked(planned, path)[1]
    assert "1 missing" in common.fold_checked(planned, path, ("test",))
    assert not common.read_checked(planned, path)[1]
    with pytest.raises(Exception, match="1 missing"):
        common.with_truth(planned, common.read_parquet(path))
