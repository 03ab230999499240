"""The manifests `foldrun split` writes: a faithful CSV of the input rows, fast at scale."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from foldrun.errors import SplitError
from foldrun.split import make_folds, manifests
from foldrun.split.folds import verify
from tests.reliability.helpers import foldrun

WORDS = np.array(["a", "a,b", 'q"x', "n\nl", "", " sp ", "ü", "007", 'x"', '"', ",", "t\tx"],
                 dtype=object)  # fmt: skip


def _every_dtype(n: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    start = pd.Timestamp("2020-01-01")
    return pd.DataFrame({
        "id": [f"{i:05d}" for i in range(n)],
        "g": [f"g{i % 37:03d}" for i in range(n)],
        "text": pd.Series(WORDS[rng.integers(0, len(WORDS), n)]).mask(rng.random(n) < 0.1),
        "i": rng.integers(-10**12, 10**12, n),
        "u8": rng.integers(0, 255, n).astype(np.uint8),
        "b": rng.random(n) < 0.5,
        "f": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n).round(6)),
        "whole": rng.integers(-5, 5, n).astype(float),
        "when": start + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
        "day": start + pd.to_timedelta(rng.integers(0, 100, n), unit="D"),
        "cat": pd.Categorical(WORDS[rng.integers(0, len(WORDS), n)]),
        "nullable": pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 9, n)),
                             dtype="Int64"),
        "mixed": np.array([1, "x", 2.5, None, True], dtype=object)[rng.integers(0, 5, n)],
        "f32": rng.normal(size=n).astype(np.float32),
    })  # fmt: skip


def test_manifests_are_the_bytes_pandas_writes(tmp_path: Path) -> None:
    """Header, quoting, missing values, dates, categories, nullable and mixed columns: byte
    for byte what `to_csv(index=False)` writes of the same rows."""
    table = _every_dtype()
    folds = make_folds(table, id="id", group="g", folds=3, val="next-fold", inner=2, seed=4)
    folds.save(tmp_path / "s")
    for f in range(3):
        for subset in ("train", "val", "test"):
            want = table.iloc[folds.indices(f, subset)].to_csv(index=False)
            assert folds.manifest(f, subset).read_text() == want, (f, subset)
    inner = tmp_path / "s/fold_00/inner_01/test.csv"
    back = pd.read_csv(inner, dtype={"id": str})
    assert set(back["id"]) <= set(table["id"]) and back["id"].str.len().eq(5).all()


def test_floats_read_back_equal_and_stay_floats(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=20_000) * 10.0 ** rng.integers(-30, 30, 20_000)
    values[:14] = [0.0, -0.0, 1.0, 1e15, 1e16, 2.0**53, 1e22, 1e-5, np.inf, -np.inf, np.nan,
                   0.1, 1 / 3, 5e-324]  # fmt: skip
    table = pd.DataFrame({"v": values, "whole": np.arange(20_000) % 7 * 1.0})
    folds = make_folds(table, folds=2, seed=0)
    folds.save(tmp_path / "s")
    parts = [pd.read_csv(folds.manifest(f, "test")) for f in range(2)]
    back = pd.concat(parts).sort_values("id")
    assert back["whole"].dtype == np.float64
    assert np.array_equal(back["v"].to_numpy(), values, equal_nan=True)
    assert np.array_equal(np.signbit(back["v"].to_numpy()), np.signbit(values))


def test_carriage_return_in_a_value_is_quoted(tmp_path: Path) -> None:
    """pandas' writer left a lone \\r unquoted: CSV readers cut the row there."""
    data = tmp_path / "t.parquet"
    notes = ["a\rb", "c", "d\r\ne", "f", "g", "h"]
    pd.DataFrame({"id": [f"r{i}" for i in range(6)], "note": notes}).to_parquet(data)
    done = foldrun("split", str(data), "--out", str(tmp_path / "s"), "--id", "id",
                   "--folds", "2")  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = pd.concat(pd.read_csv(tmp_path / f"s/fold_0{f}/test.csv") for f in range(2))
    assert sorted(rows["note"]) == notes


def test_verify_refuses_a_group_in_two_folds() -> None:
    verify(np.array([[0, 0, 1, -1]]), np.array([0, 0, 1, 2]), "g")
    with pytest.raises(SplitError, match="a group is in two folds"):
        verify(np.array([[0, 1, 1]]), np.array([0, 0, 1]), "g")


def test_manifests_cost_about_one_pass_over_the_table(tmp_path: Path) -> None:
    """5 folds write the table 5 times over; formatting each row once keeps that near the
    cost of one pandas to_csv of the table (pandas per manifest: ~5x). A ratio, measured
    in this process, so the machine's load cancels out."""
    rng = np.random.default_rng(0)
    n = 100_000
    table = pd.DataFrame({"id": [f"{i:08x}-row" for i in range(n)],
                          **{f"x{j}": rng.normal(size=n) for j in range(12)},
                          **{f"k{j}": rng.integers(0, 1000, n) for j in range(4)},
                          "site": rng.choice(["north", "south, east"], n)})  # fmt: skip
    folds = make_folds(table, id="id", folds=5, seed=0)
    one_pass = _best(lambda: table.to_csv(tmp_path / "one.csv", index=False))
    save = _best(lambda: folds.save(tmp_path / "s", overwrite=True))
    assert save < 2.5 * one_pass, (save, one_pass)


def _best(fn, runs: int = 2) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _byte_table(n: int = 400) -> pd.DataFrame:
    """Every dtype, plus the float forms (whole, exponent, huge, tiny, inf, missing) and
    strings with quotes, commas, newlines, unicode and missing values."""
    rng = np.random.default_rng(7)
    table = _every_dtype(n)
    special = [0.0, -0.0, 1.0, 1e15, 1e16, 2.0**53, 1e22, 1e-5, np.inf, -np.inf, np.nan, 0.1,
               1 / 3, 5e-324, -2.0, 1e-300, 123456789.0, 50.25]  # fmt: skip
    table["floats"] = np.resize(special, n) * rng.choice([1.0, 10.0, 0.5], n)
    table["two_dec"] = np.round(rng.normal(50, 15, n), 2)
    table["uuid"] = [f"{i:08x}-4b2c-ü€-{i % 13}" for i in range(n)]
    table["quoted"] = pd.Series(WORDS[rng.integers(0, len(WORDS), n)]).mask(rng.random(n) < 0.2)
    return table


def _rows_sets(n: int) -> list[np.ndarray]:
    fold = np.random.default_rng(3).integers(0, 3, n)
    return [np.flatnonzero(fold == f) for f in range(3)] + [np.flatnonzero(fold != 0),
            np.arange(n), np.array([], dtype=np.int64), np.array([0, n - 1])]  # fmt: skip


# SHA-256 (first 16 hex digits) of each manifest as written by the code before the
# formatting was sped up (commit c7b61ed): a faster formatter must not change a byte
_BYTES_BEFORE = ["bbd927917602eaa6", "c992fa558c45c7e0", "6b986392eb61384b", "afdb930023db39bc",
                 "7ae516dd2afec0bc", "a6deaa6088dbf046", "9dfcbff632a7adad"]  # fmt: skip


@pytest.mark.parametrize("batch", [manifests.BATCH, 7])
def test_manifest_bytes_unchanged_by_faster_formatting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(manifests, "BATCH", batch)  # 7: many batches, rows across their edges
    table = _byte_table()
    sets = _rows_sets(len(table))
    paths = [tmp_path / f"{i}.csv" for i in range(len(sets))]
    manifests.write_manifests(table, [(p, lambda r=r: r) for p, r in zip(paths, sets, strict=True)])
    got = [hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in paths]
    assert got == _BYTES_BEFORE


def test_rows_needing_quotes_found_in_the_bytes() -> None:
    """Every byte value around the four that need quotes (`,` `"` CR LF, all below `-`),
    in every position, beside multi-byte UTF-8: exactly the values holding one of them."""
    import pyarrow as pa

    values = ["", "a-b", "ä,ö", 'x"', "\r", "\n", " ", "#", "+", "-", "é-", "日本", None]
    values += [chr(b) * 2 for b in range(1, 0x30)] + [f"a{chr(b)}b" for b in range(1, 0x30)]
    text = pa.array(values, type=pa.large_string())
    for start in (0, 3):  # a sliced array (offsets not from 0) too
        want = [any(c in (v or "") for c in ',"\r\n') for v in values[start:]]
        assert manifests._needs_quotes(text.slice(start)).tolist() == want
