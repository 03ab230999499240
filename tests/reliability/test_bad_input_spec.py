"""More of the bad-input catalogue (issue 11): leakage through `features`, misspelt
columns, duplicate headers, hostile seeds, paths, fractions and sizes, across the commands.
Each case goes through the console script's main(), in-process: exit 2, one line naming
the file, key or column, nothing written. Ids are text: `007` stays `007` from the table to
the results."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.reliability.helpers import invoke, project, table
from tests.reliability.test_bad_input import (
    Case,
    _csv,
    _expect_one_line_exit_2,
    _sub,
    _with,
    spec_case,
    split_case,
)

FEATURES = 'task = "classification"'


def _features(names: str) -> Callable[[str], str]:
    return _sub(FEATURES, f"{FEATURES}\nfeatures = {names}")


# (name, spec edit, what the line names); each is checked with `check` and `run`
SPEC_EDITS: list[tuple[str, Callable[[str], str], str]] = [
    ("features-target", _features('["x1", "target"]'), "target"),
    ("features-id", _features('["id", "x1"]'), "'id'"),
    ("features-twice", _features('["x1", "x1"]'), "x1"),
    ("features-missing", _features('["nope"]'), "nope"),
    ("features-misspelt", _features('["x11"]'), "did you mean 'x1'"),
    ("seed-negative", _sub("seed = 0", "seed = -1"), "seed"),
    ("seed-huge", _sub("seed = 0", "seed = 18446744073709551615"), "seed"),
    ("output-no-such-user", _sub('name = "toy"', 'name = "toy"\noutput = "~nosuchuser/x"'),
     "nosuchuser"),
    ("output-nul", _sub('name = "toy"', 'name = "toy"\noutput = "a\\u0000b"'), "output"),
    ("output-empty", _sub('name = "toy"', 'name = "toy"\noutput = ""'), "output"),
    ("table-nul", _sub('table = "samples.csv"', 'table = "sam\\u0000ples.csv"'), "data.table"),
    ("split-from-nul", _sub("folds = 4\nseed = 0", 'from = "a\\u0000b"'), "split.from"),
    ("grid-empty-key", _sub("grid = { k = [0, 1] }", 'grid = { "" = [0, 1] }'), "grid"),
    ("repeats-huge", _sub("seed = 0", "seed = 0\nrepeats = 100000"), "repeats"),
    ("holdout-tiny", _sub("seed = 0", "seed = 0\nholdout = 0.0001"), "smallest holdout"),
]

SPEC_CASES = [spec_case(n, e, w, command) for n, e, w in SPEC_EDITS for command in ("check", "run")]


def _output_is_a_file(command: str, output: str) -> Case:
    def setup(root: Path) -> list[str]:
        spec = project(root)
        (root / "afile").write_text("not a folder\n")
        text = spec.read_text().replace('name = "toy"', f'name = "toy"\noutput = "{output}"')
        spec.write_text(text)
        return [command, spec.name]

    return Case(f"{command}-output-{output.replace('/', '-')}", setup, "output")


def _duplicate_column(command: str) -> Case:
    def setup(root: Path) -> list[str]:
        spec = project(root)
        text = (root / "samples.csv").read_text().splitlines()
        text[0] = text[0].replace("x2", "x1")
        (root / "samples.csv").write_text("\n".join(text) + "\n")
        if command == "split":
            return ["split", "samples.csv", "--out", "out"]
        return [command, spec.name]

    return Case(f"{command}-duplicate-column", setup, "x1")


OTHER_CASES = [
    *(_output_is_a_file(c, o) for c in ("check", "run", "status") for o in ("afile", "afile/run")),
    *(_duplicate_column(c) for c in ("check", "run", "split")),
    split_case("seed-negative", table, "--seed -1", "seed"),
    split_case("seed-2-64", table, "--seed 18446744073709551616", "seed"),
    split_case("holdout-tiny", table, "--holdout 0.0001", "smallest holdout"),
    split_case("val-tiny", table, "--val 0.0001", "smallest val"),
    split_case("holdout-tiny-grouped", lambda: _with(g=[f"p{i // 4}" for i in range(40)]),
               "--group g --holdout 0.05", "smallest holdout for these groups"),
    split_case("repeats-huge", table, "--repeats 100000", "repeats"),
    split_case("inner-huge", table, "--repeats 1000 --folds 4 --inner 3", "repeats"),
    split_case("duplicate-ids-as-text", lambda: _with(id=[f"{i:03d}" for i in range(39)] + ["000"]),
               "--id id", "'000'"),
    split_case("stratified-holdout-tiny", table,
               "--target target --strategy stratified --holdout 0.02", "raise --holdout"),
    Case("scan-out-below-a-file", lambda root: _scan_setup(root, "afile/t.csv"), "t.csv"),
    Case("cancel-output-nul", lambda root: _cancel_setup(root, 'output = "a\\u0000b"'), "output"),
    Case("cancel-name-escapes", lambda root: _cancel_setup(root, 'name = "../../x"'), "name"),
    Case("cancel-not-utf8", lambda root: _cancel_setup(root, None), "utf-8"),
    Case("log-empty-name", lambda root: ["log", "", "1"], "NAME is empty"),
]


def _scan_setup(root: Path, out: str) -> list[str]:
    (root / "afile").write_text("x\n")
    (root / "img").mkdir()
    (root / "img/s1_a.jpg").write_bytes(b"")
    return ["scan", "img", "--pattern", "{subject}_{kind}.jpg", "--out", out]


def _cancel_setup(root: Path, line: str | None) -> list[str]:
    spec = root / "foldrun.toml"
    if line is None:
        spec.write_bytes(b'name = "\xff\xfe"\n')
    else:
        spec.write_text(line + "\n")
    return ["cancel", spec.name]


CASES = SPEC_CASES + OTHER_CASES


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path: Path, case: Case) -> None:
    argv = case.setup(tmp_path)
    _expect_one_line_exit_2(tmp_path, argv, case.names)


@pytest.mark.parametrize(
    ("env", "target"), [("FOLDRUN_METRICS_FILE", "."), ("FOLDRUN_TASK_DIR", "nowhere/deep")]
)
def test_log_into_a_broken_task_folder_is_one_line(tmp_path: Path, env: str, target: str) -> None:
    before = sorted(tmp_path.rglob("*"))
    done = invoke("log", "loss", "0.5", cwd=tmp_path, env={env: str(tmp_path / target)})
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    assert "FOLDRUN_" in done.stderr
    assert sorted(tmp_path.rglob("*")) == before


# valid but unusual: ids are text


def _text_id_project(root: Path, ids: list[str]) -> Path:
    spec = project(root, folds=2, grid=1)
    frame = table(40)
    frame["id"] = ids
    frame.to_csv(root / "samples.csv", index=False)
    return spec


def test_ids_with_leading_zeros_stay_text_from_table_to_results(tmp_path: Path) -> None:
    ids = [f"{i:03d}" for i in range(40)]
    spec = _text_id_project(tmp_path, ids)
    done = invoke("run", spec.name, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    split = tmp_path / "runs/toy/split"
    assignments = pd.read_csv(split / "assignments.csv", dtype=str)
    assert sorted(assignments["id"]) == ids
    tests = [pd.read_csv(p, dtype=str) for p in sorted(split.glob("fold_*/test.csv"))]
    assert sorted(pd.concat(tests)["id"]) == ids
    assert invoke("report", spec.name, cwd=tmp_path).returncode == 0
    folds = pq.read_table(tmp_path / "runs/toy/results/folds.parquet").to_pandas()
    assert sorted(set(folds["id"])) == ids


def test_ids_with_leading_zeros_stay_text_in_predictions(tmp_path: Path) -> None:
    ids = [f"{i:03d}" for i in range(40)]
    spec = _text_id_project(tmp_path, ids)
    assert invoke("run", spec.name, cwd=tmp_path).returncode == 0
    found = (tmp_path / "runs/toy/tasks").glob("*/*/*/evaluate/predictions.parquet")
    frames = [pq.read_table(p).to_pandas() for p in found]
    assert sorted(pd.concat(frames)["id"].astype(str)) == ids


def test_one_and_001_are_two_ids(tmp_path: Path) -> None:
    frame = _with(id=["1"] + [f"{i:03d}" for i in range(1, 40)])  # all numbers: 1 and 001
    _csv(tmp_path, frame)
    done = invoke("split", "t.csv", "--out", "out", "--id", "id", "--folds", "4", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert {"1", "001"} <= set(pd.read_csv(tmp_path / "out/assignments.csv", dtype=str)["id"])


def test_huge_integer_ids_are_text(tmp_path: Path) -> None:
    ids = [str(10**30 + i) for i in range(40)]
    _csv(tmp_path, _with(id=ids))
    done = invoke("split", "t.csv", "--out", "out", "--id", "id", "--folds", "4", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(pd.read_csv(tmp_path / "out/assignments.csv", dtype=str)["id"]) == sorted(ids)


def test_group_ids_are_text(tmp_path: Path) -> None:
    # groups `01` and `1` are two patients: each kept whole, and never merged
    frame = _with(g=["01", "1"] * 20)
    _csv(tmp_path, frame)
    done = invoke("split", "t.csv", "--out", "out", "--group", "g", "--folds", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    groups = pd.read_csv(tmp_path / "out/assignments.csv", dtype=str)
    assert sorted(set(groups["g"])) == ["01", "1"]
    assert groups.groupby("g")["fold"].nunique().max() == 1
