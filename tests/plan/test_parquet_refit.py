"""The refit's all-rows manifest of a split with Parquet manifests: the rows of its
manifests in turn (each once where folds are listed), their dtypes kept."""

from __future__ import annotations

import pandas as pd

from foldrun.plan.graph import _concat_parquet


def test_rows_in_turn_then_once_with_dtypes_kept(tmp_path) -> None:
    frame = pd.DataFrame({
        "id": ["007", "008", "009", "010"], "x": [1.5, float("nan"), 2.0, 3.0],
        "site": pd.Categorical(["n", "s", "n", "s"], categories=["s", "n", "w"]),
    })  # fmt: skip
    parts = [frame.iloc[[2, 0]], frame.iloc[[1, 2]], frame.iloc[[3, 0]]]
    paths = []
    for i, part in enumerate(parts):
        paths.append(tmp_path / f"m{i}.parquet")
        part.to_parquet(paths[-1], index=False)
    every = tmp_path / "every.parquet"
    every.write_bytes(_concat_parquet(paths, once=False))
    got = pd.read_parquet(every)
    assert got["id"].tolist() == ["009", "007", "008", "009", "010", "007"]
    pd.testing.assert_frame_equal(got, pd.concat(parts, ignore_index=True))
    every.write_bytes(_concat_parquet(paths, once=True))
    once = pd.read_parquet(every)
    assert once["id"].tolist() == ["009", "007", "008", "010"]
    pd.testing.assert_frame_equal(once, frame.iloc[[2, 0, 1, 3]].reset_index(drop=True))
    assert _concat_parquet(paths, once=True) == _concat_parquet(paths, once=True)  # stable
