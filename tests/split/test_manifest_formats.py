"""Parquet manifests (`foldrun split --manifests parquet`, `[split] manifests`): the same
rows, in the same order, with the same dtypes as the CSV manifests of the same split."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from foldrun.cli import cli
from foldrun.data.table import read_table
from foldrun.errors import SplitError
from foldrun.split import load_folds, make_folds


def _table(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    notes = np.array(["plain", "a, b", 'say "hi"', "two\nlines"], dtype=object)
    note = notes[rng.integers(0, 4, n)]
    note[::7] = None
    value = rng.normal(size=n)
    value[::5] = np.nan
    return pd.DataFrame({
        "id": [f"{i:03d}" for i in range(n)],  # `007` must stay `007`
        "uid": [str(uuid.UUID(int=int(rng.integers(0, 2**62)))) for _ in range(n)],
        "patient": [f"p{i % 17:02d}" for i in range(n)],
        "label": rng.choice(["a", "b"], size=n),
        "value": value,
        "count": rng.integers(0, 9, n),
        "flag": rng.random(n) < 0.5,
        "site": pd.Categorical(rng.choice(["north", "south", "east"], size=n),
                               categories=["south", "north", "east", "west"]),
        "note": note,
    })  # fmt: skip


def _splits(tmp_path, **options):
    table = _table()
    folds = make_folds(table, id="id", target="label", group="patient", folds=3, seed=2, **options)
    csv_dir = folds.save(tmp_path / "csv")
    parquet_dir = folds.save(tmp_path / "parquet", manifests="parquet")
    return table, folds, csv_dir, parquet_dir


def test_parquet_manifests_hold_the_rows_order_and_dtypes_of_the_csv_ones(tmp_path) -> None:
    table, _, csv_dir, parquet_dir = _splits(tmp_path, val="next-fold", holdout=0.2)
    names = sorted(p.relative_to(csv_dir).with_suffix("") for p in csv_dir.rglob("*/*.csv"))
    assert names == sorted(
        p.relative_to(parquet_dir).with_suffix("") for p in parquet_dir.rglob("*/*.parquet")
    )
    assert (parquet_dir / "holdout.parquet").is_file()
    assert not (parquet_dir / "holdout.csv").exists()
    for name in [*names, "holdout"]:
        from_csv = read_table(csv_dir / f"{name}.csv", text=["id", "patient"])
        from_parquet = read_table(parquet_dir / f"{name}.parquet", text=["id", "patient"])
        # the same rows in the same order: ids as text (`007`), UUIDs, NaN, quotes, newlines
        assert from_parquet["id"].tolist() == from_csv["id"].tolist(), name
        assert from_parquet["uid"].tolist() == from_csv["uid"].tolist()
        pd.testing.assert_frame_equal(
            from_parquet.astype({"site": str}), from_csv.astype({"site": str}), check_dtype=False
        )
        # ... and the input's own dtypes (a CSV loses the category and its unused values)
        rows = table.set_index("id").loc[from_parquet["id"]].reset_index()
        pd.testing.assert_frame_equal(from_parquet, rows)
        assert list(from_parquet["site"].cat.categories) == ["south", "north", "east", "west"]
    # the other split files are the same bytes
    for name in ("assignments.csv", "assignments.json", "details.json"):
        assert (csv_dir / name).read_bytes() == (parquet_dir / name).read_bytes()
    pd.testing.assert_frame_equal(
        pd.read_parquet(csv_dir / "folds.parquet"), pd.read_parquet(parquet_dir / "folds.parquet")
    )


def test_inner_folds_and_manifest_paths_follow_the_format(tmp_path) -> None:
    _, folds, _, parquet_dir = _splits(tmp_path, inner=2)
    assert folds.manifest(1, "train") == parquet_dir / "fold_01" / "train.parquet"
    assert (parquet_dir / "fold_00" / "inner_01" / "test.parquet").is_file()
    assert not list(parquet_dir.rglob("*/*.csv"))
    loaded = load_folds(parquet_dir)
    assert loaded.manifest(2, "test") == parquet_dir / "fold_02" / "test.parquet"
    assert pq.read_metadata(loaded.manifest(2, "test")).num_rows == len(folds.indices(2, "test"))


def test_empty_manifest_is_a_parquet_file_with_the_columns(tmp_path) -> None:
    table = _table(12)
    folds = make_folds(table, id="id", target="label", folds=3, seed=0)
    folds.inner[(0, 0)] = np.full(len(table), -1)  # an inner fold of no rows
    folds.inner[(0, 0)][:2] = 1
    out = folds.save(tmp_path / "s", manifests="parquet")
    empty = pd.read_parquet(out / "fold_00" / "inner_00" / "test.parquet")
    assert len(empty) == 0 and list(empty.columns) == list(table.columns)


def test_unknown_format_is_refused_before_anything_is_written(tmp_path) -> None:
    folds = make_folds(_table(), id="id", target="label", folds=3)
    with pytest.raises(SplitError, match="manifests must be one of csv, parquet"):
        folds.save(tmp_path / "s", manifests="xlsx")
    assert not (tmp_path / "s").exists()


def test_cli_flag_writes_parquet_and_a_format_change_is_a_different_split(tmp_path) -> None:
    _table().to_csv(tmp_path / "t.csv", index=False)
    base = ["split", str(tmp_path / "t.csv"), "--out", str(tmp_path / "s"), "--id", "id",
            "--target", "label", "--group", "patient", "--folds", "3"]  # fmt: skip
    runner = CliRunner()
    done = runner.invoke(cli, [*base, "--manifests", "parquet"])
    assert done.exit_code == 0, done.output
    frame = pd.read_parquet(tmp_path / "s" / "fold_00" / "train.parquet")
    assert frame["id"].iloc[0] == "000" and pd.api.types.is_string_dtype(frame["id"])
    again = runner.invoke(cli, [*base, "--manifests", "parquet"])
    assert again.exit_code == 0  # the same split: left as it is
    other = runner.invoke(cli, base)  # CSV manifests: not the split at --out
    assert isinstance(other.exception, SplitError)  # `main` prints it in one line, exit 2
    assert "holds a different split" in str(other.exception)
    assert (tmp_path / "s" / "fold_00" / "train.parquet").is_file()
    replaced = runner.invoke(cli, [*base, "--overwrite"])
    assert replaced.exit_code == 0
    assert (tmp_path / "s" / "fold_00" / "train.csv").is_file()
    assert not list((tmp_path / "s").rglob("*/*.parquet"))
    bad = runner.invoke(cli, [*base, "--manifests", "xlsx"])
    assert bad.exit_code == 2 and "'xlsx' is not one of 'csv', 'parquet'" in bad.output


def test_mixed_object_column_is_refused_in_one_line(tmp_path) -> None:
    table = _table().assign(mixed=[1, "a"] * 30)
    folds = make_folds(table, id="id", target="label", folds=3)
    with pytest.raises(SplitError, match="cannot be written as Parquet manifests") as err:
        folds.save(tmp_path / "s", manifests="parquet")
    assert "\n" not in err.value.one_line() and err.value.key == "manifests"
    assert not (tmp_path / "s").exists()


def test_planning_finds_parquet_manifests(tmp_path) -> None:
    from foldrun.errors import SpecError
    from foldrun.plan.split import scan_split

    _, folds, _, parquet_dir = _splits(tmp_path, val="next-fold", holdout=0.2, inner=2)
    files = scan_split(parquet_dir)
    assert len(files.folds) == 3 and files.holdout == parquet_dir / "holdout.parquet"
    first = files.folds[0]
    assert first.manifests["val"] == parquet_dir / "fold_00" / "val.parquet"
    assert first.inner[1]["test"] == parquet_dir / "fold_00" / "inner_01" / "test.parquet"
    empty = folds.table.iloc[:0]
    empty.to_parquet(parquet_dir / "fold_01" / "val.parquet", index=False)
    assert scan_split(parquet_dir).folds[1].manifests["val"] is None  # no rows: no val set
    (parquet_dir / "fold_02" / "test.parquet").write_text("id,x\n1,2\n")
    with pytest.raises(SpecError, match=r"test\.parquet is not a Parquet file") as err:
        scan_split(parquet_dir)
    assert "\n" not in err.value.one_line()


def test_parquet_manifests_hold_what_taking_their_rows_wrote(tmp_path, monkeypatch) -> None:
    """The manifests are filtered out of spans of rows (faster than `take`, issue 26): each
    file reads back as what the writer wrote before, the rows taken by index from the
    table's Arrow form (schema and pandas metadata, every value), in row groups of
    ROW_GROUP rows as before."""
    from foldrun.split import manifests

    monkeypatch.setattr(manifests, "ROW_GROUP", 7)  # spans start and end mid-table
    table = _table(80)
    folds = make_folds(table, id="id", target="label", group="patient", folds=3, seed=1,
                       val="next-fold", holdout=0.2, inner=2)  # fmt: skip
    out = folds.save(tmp_path / "s", manifests="parquet")
    whole = pa.Table.from_pandas(table, preserve_index=False)
    written = sorted(out.rglob("*.parquet"))
    assert len(written) == 1 + 1 + 3 * (3 + 2 * 2)  # folds.parquet, holdout, folds, inner
    for f in range(3):
        for subset in ("train", "val", "test"):
            rows = folds.indices(f, subset)
            pq.write_table(whole.take(pa.array(rows)), tmp_path / "taken.parquet")
            want = pq.read_table(tmp_path / "taken.parquet")
            got = pq.read_table(folds.manifest(f, subset))
            assert got.schema.equals(want.schema, check_metadata=True)
            assert got.equals(want), (f, subset)
            sizes = [pq.read_metadata(folds.manifest(f, subset)).row_group(i).num_rows
                     for i in range(pq.read_metadata(folds.manifest(f, subset)).num_row_groups)]
            assert sizes == [min(7, len(rows) - s) for s in range(0, len(rows), 7)]
