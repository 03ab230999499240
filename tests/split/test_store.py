from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from foldrun.errors import SplitError
from foldrun.split import load_folds, make_folds
from tests.split.helpers import make_table

GOLDEN = Path(__file__).parent / "golden"


def _small() -> pd.DataFrame:
    return make_table(n=40, n_groups=10, seed=5)[["sample", "subject", "label", "value"]]


def _golden_folds():
    return make_folds(_small(), id="sample", target="label", group="subject", folds=3,
                      val="next-fold", holdout=0.2, seed=11)  # fmt: skip


def _tree(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def test_golden_split_folder(tmp_path: Path) -> None:
    """The split folder of a small table, byte for byte (parquet compared by content)."""
    out = _golden_folds().save(tmp_path / "split")
    got, want = _tree(out), _tree(GOLDEN)
    assert sorted(got) == sorted(want)
    for name in want:
        if name.endswith(".parquet"):
            got_frame, want_frame = pd.read_parquet(out / name), pd.read_parquet(GOLDEN / name)
            pd.testing.assert_frame_equal(got_frame, want_frame)
        elif name == "details.json":
            a, b = json.loads(got[name]), json.loads(want[name])
            a.pop("foldrun_version"), b.pop("foldrun_version")
            assert a == b
        else:
            assert got[name] == want[name], name


def test_manifests_are_full_rows_in_input_order(tmp_path: Path) -> None:
    table = _small()
    folds = make_folds(table, id="sample", target="label", folds=4, val=0.25, seed=1)
    folds.save(tmp_path / "s")
    for f in range(4):
        for subset in ("train", "val", "test"):
            part = pd.read_csv(folds.manifest(f, subset))
            assert list(part.columns) == list(table.columns)
            rows = table.index[table["sample"].isin(part["sample"])]
            assert list(part["sample"]) == list(table.loc[rows, "sample"])


def test_save_load_round_trip(tmp_path: Path) -> None:
    folds = make_folds(_small(), target="label", repeats=2, strategy="repeated-stratified",
                       inner=2, seed=3)  # fmt: skip
    folds.save(tmp_path / "s")
    back = load_folds(tmp_path / "s")
    assert back.n_folds == 5 and back.n_repeats == 2 and not back.has_holdout
    pd.testing.assert_frame_equal(back.long, folds.long, check_dtype=False)
    assert back.manifest(1, "test", repeat=1) == tmp_path / "s/repeat_01/fold_01/test.csv"
    assert (tmp_path / "s/repeat_01/fold_01/inner_01/train.csv").is_file()
    assert not (tmp_path / "s/repeat_00/fold_00/val.csv").exists()
    assert back.details == json.loads((tmp_path / "s/details.json").read_text())


def test_val_written_header_only_when_empty_is_not_needed(tmp_path: Path) -> None:
    folds = make_folds(_small(), target="label", val="next-fold", folds=3)
    folds.save(tmp_path / "s")
    assert (tmp_path / "s/fold_00/val.csv").is_file()


def test_refuses_a_different_split_keeps_identical(tmp_path: Path) -> None:
    out = tmp_path / "s"
    make_folds(_small(), target="label", seed=1).save(out)
    before = _tree(out)
    make_folds(_small(), target="label", seed=1).save(out)  # identical: fine
    assert _tree(out) == before
    with pytest.raises(SplitError, match="different split"):
        make_folds(_small(), target="label", seed=2).save(out)
    assert _tree(out) == before
    make_folds(_small(), target="label", seed=2).save(out, overwrite=True)
    assert _tree(out) != before
    assert [p.name for p in tmp_path.iterdir()] == ["s"]


def test_load_folds_of_a_non_split_folder(tmp_path: Path) -> None:
    with pytest.raises(SplitError, match="not a split folder"):
        load_folds(tmp_path)


_SCRIPT = """
import sys
from tests.split.helpers import make_table
from foldrun.split import make_folds
make_folds(make_table(n=300, n_groups=40), id="sample", target="label", group="subject",
           val=0.2, holdout=0.2, repeats=2, inner=2, seed=4).save(sys.argv[1])
"""


@pytest.mark.slow
def test_same_bytes_under_other_hash_seeds(tmp_path: Path) -> None:
    trees = []
    for hash_seed in ("0", "1", "12345"):
        out = tmp_path / f"s{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        cwd = Path(__file__).parents[2]
        subprocess.run([sys.executable, "-c", _SCRIPT, str(out)], check=True, env=env, cwd=cwd)
        trees.append(_tree(out))
    assert trees[0] == trees[1] == trees[2]
    assert np.mean([len(v) for v in trees[0].values()]) > 0


@pytest.mark.parametrize(
    "options",
    [{"group": "g"}, {}, {"group": "g", "repeats": 3, "strategy": "repeated-grouped"},
     {"target": "y", "holdout": 0.2}],
)  # fmt: skip
def test_assignments_json_laid_out_as_json_dumps_would(options: dict) -> None:
    """assignments.json is written a line per value: the bytes json.dumps gives the map
    (sorted keys, indent 1, escapes of quotes, backslashes, control and non-ASCII text)."""
    from foldrun.split import store

    names = ["a", "B", "ä", 'q"uote', "back\\slash", "tab\t", "\x01", "日本", "10", "9", "",
             " sp", "\u2028", "😀"]  # fmt: skip
    n = 300
    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "id": [f"i{j}" for j in range(n)],
        "g": [names[j % len(names)] + str(j % 37) for j in range(n)],
        "y": rng.integers(0, 2, n),
    })  # fmt: skip
    folds = make_folds(df, id="id", **options)
    key = options.get("group", "id")
    want = {"key": key, "repeats": []}
    for fold_of in folds.test_fold:  # a dict of every row: each value keeps its last row's
        want["repeats"].append(dict(zip(df[key].astype(str), fold_of.tolist(), strict=True)))
    assert store._assignment_map(folds) == want
    assert store._assignments_text(folds) == json.dumps(want, sort_keys=True, indent=1) + "\n"
