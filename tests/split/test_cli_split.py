from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from foldrun.cli import cli
from foldrun.data.example import write_example_table
from tests.reliability.helpers import FOLDRUN, invoke  # FOLDRUN: the script beside this Python


@pytest.fixture
def table(tmp_path: Path) -> Path:
    return write_example_table(tmp_path / "ex.csv")


def test_cli_split_writes_the_folder(table: Path, tmp_path: Path) -> None:
    out = tmp_path / "split"
    result = CliRunner().invoke(cli, ["split", str(table), "--out", str(out), "--target", "label",
                                      "--group", "patient", "--val", "next-fold", "--holdout",
                                      "0.2", "--seed", "3"])  # fmt: skip
    assert result.exit_code == 0, result.output
    for name in ["assignments.csv", "folds.parquet", "assignments.json", "details.json",
                 "holdout.csv", "fold_04/val.csv"]:  # fmt: skip
        assert (out / name).is_file(), name
    assert "stratified-grouped" in result.output
    assert pd.read_parquet(out / "folds.parquet").subset.nunique() == 4


def test_console_script_is_deterministic(table: Path, tmp_path: Path) -> None:
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        done = subprocess.run([str(FOLDRUN), "split", str(table), "--out", str(out), "--target",
                               "mean_radius", "--repeats", "2", "--strategy",
                               "repeated-continuous"], capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        outs.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()})
    assert outs[0] == outs[1]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--target", "nope"], "nope"),
        (["--folds", "1"], "folds"),
        (["--group", "patient", "--folds", "500"], "groups"),
    ],
)
def test_console_script_bad_input_exit_2(table: Path, tmp_path: Path, args, words) -> None:
    out = tmp_path / "split"
    done = invoke("split", str(table), "--out", str(out), *args)  # main's exit code, in-process
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "ex.csv" in lines[0]
    assert not out.exists()


def test_cli_missing_table(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["split", str(tmp_path / "no.csv"), "--out",
                                      str(tmp_path / "s")])  # fmt: skip
    assert result.exit_code != 0
    assert not (tmp_path / "s").exists()


def test_group_given_twice_is_a_composite_key(tmp_path: Path) -> None:
    """Seed 001's key is (treatment, sample): `--group a --group b` used only b before."""
    frame = pd.DataFrame({"id": range(48), "treatment": ["a", "b", "c"] * 16,
                          "sample": [f"s{i % 4}" for i in range(48)], "label": [0, 1] * 24})
    frame.to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "split"
    result = CliRunner().invoke(cli, ["split", str(tmp_path / "t.csv"), "--out", str(out),
                                      "--id", "id", "--group", "treatment", "--group", "sample",
                                      "--folds", "3"])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out / "assignments.csv").merge(frame, on="id")
    folds_per_pair = rows.groupby(["treatment", "sample"])["fold"].nunique()
    assert len(folds_per_pair) == 12 and (folds_per_pair == 1).all()
    assert rows.groupby("sample")["fold"].nunique().max() > 1  # not grouped on sample alone
    import json

    assert json.loads((out / "details.json").read_text())["params"]["group"] == [
        "treatment", "sample"]
    assert len(json.loads((out / "assignments.json").read_text())["repeats"][0]) == 12


def test_a_folder_named_with_brackets_is_printed_as_it_is(table: Path, tmp_path: Path) -> None:
    """The summary read the output folder as rich markup: `exp[v2]` was printed `exp`, and
    a folder holding `[/` (`a[/b`: the folder `a[`) ended the command with a traceback
    after the split was written."""
    for name in ("exp[v2]", "a[/b"):
        out = tmp_path / name / "split"
        result = CliRunner().invoke(cli, ["split", str(table), "--out", str(out),
                                          "--target", "label"])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert str(out) in "".join(result.output.split())  # the title wraps
