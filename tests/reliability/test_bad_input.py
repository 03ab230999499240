"""The bad-input catalogue: each case goes through the console script's main() (in this
process: a subprocess added only its start-up) and must exit 2 with exactly one line on
stderr that names what is wrong (file, key or column), without a traceback, and without
writing a single file. Inputs that are odd but valid (Unicode and
spaces in ids and paths, a target tied everywhere) must work."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.reliability.helpers import invoke, project, table, tree


@dataclass(frozen=True)
class Case:
    name: str
    setup: Callable[[Path], list[str]]  # builds the inputs, returns the argv
    names: str  # what the one line must name (case-insensitive; "a|b": either)


def _csv(root: Path, frame: pd.DataFrame, name: str = "t.csv") -> str:
    frame.to_csv(root / name, index=False)
    return name


def _with(**columns: object) -> pd.DataFrame:
    frame = table(40)
    for column, values in columns.items():
        frame[column] = values
    return frame


def split_case(name: str, frame: Callable[[], pd.DataFrame], args: str, names: str) -> Case:
    def setup(root: Path) -> list[str]:
        return ["split", _csv(root, frame()), "--out", "out", *args.split()]

    return Case(f"split-{name}", setup, names)


def _nan_every(n: int, values: list) -> list:
    return [np.nan if i % 7 == 3 else values[i % len(values)] for i in range(n)]


SPLIT_CASES = [
    split_case("target-nan", lambda: _with(target=_nan_every(40, [0, 1])), "--target target",
               "target"),
    split_case("target-empty-string", lambda: _with(target=["a", "b", "", "a"] * 10),
               "--target target --strategy stratified", "target"),
    split_case("group-nan", lambda: _with(g=_nan_every(40, ["p1", "p2", "p3", "p4", "p5"])),
               "--group g", "g"),
    split_case("stratify-nan", lambda: _with(s=_nan_every(40, ["x", "y"])),
               "--strategy stratified --target target --stratify s", "s"),
    split_case("duplicate-ids", lambda: _with(id=[f"s{i % 30}" for i in range(40)]),
               "--id id", "id"),
    split_case("id-empty-string", lambda: _with(id=[""] + [f"s{i}" for i in range(39)]),
               "--id id", "id"),
    split_case("class-of-one", lambda: _with(target=[0, 1] * 19 + [0, 2]),
               "--target target --strategy stratified", "class"),
    split_case("missing-target-column", table, "--target nope", "nope"),
    split_case("missing-group-column", table, "--group nope", "nope"),
    split_case("folds-one", table, "--folds 1", "folds"),
    split_case("more-folds-than-groups", lambda: _with(g=["a", "b", "c"] * 13 + ["a"]),
               "--group g --folds 5", "g"),
    split_case("predefined-group-spans-folds",
               lambda: _with(g=[f"p{i // 4}" for i in range(40)], f=[i % 4 for i in range(40)]),
               "--strategy predefined --fold-column f --group g", "g"),
    split_case("continuous-target-inf",
               lambda: _with(y=[np.inf if i == 5 else float(i) for i in range(40)]),
               "--target y --strategy continuous", "y"),
    split_case("continuous-target-text", lambda: _with(y=["high", "low"] * 20),
               "--target y --strategy continuous", "y"),
    split_case("bad-strategy", table, "--strategy bogus", "strategy"),
    split_case("val-fraction-above-one", table, "--val 1.5", "val"),
    split_case("holdout-above-one", table, "--holdout 1.5", "holdout"),
    split_case("repeats-zero", table, "--repeats 0", "repeats"),
    split_case("inner-one", table, "--inner 1", "inner"),
    split_case("empty-table", lambda: table().iloc[:0], "", "t.csv"),
]


def _table_file(name: str, content: bytes) -> Callable[[Path], list[str]]:
    def setup(root: Path) -> list[str]:
        (root / name).write_bytes(content)
        return ["split", name, "--out", "out"]

    return setup


def _table_dir(root: Path) -> list[str]:
    (root / "t.csv").mkdir()
    return ["split", "t.csv", "--out", "out"]


FILE_CASES = [
    Case("split-missing-table", lambda root: ["split", "nope.csv", "--out", "out"], "nope.csv"),
    Case("split-garbage-parquet", _table_file("t.parquet", b"PAR1 not really"), "t.parquet"),
    Case("split-unknown-format", _table_file("t.xlsx", b"id,target\n1,0\n"), "t.xlsx"),
    Case("split-binary-csv", _table_file("t.csv", bytes(range(256)) * 8), "t.csv"),
    Case("split-table-is-a-folder", _table_dir, "t.csv"),
]

# specs: the toy project's foldrun.toml with one thing wrong


def spec_case(name: str, edit: Callable[[str], str], names: str, command: str = "check",
              *extra: str) -> Case:
    def setup(root: Path) -> list[str]:
        spec = project(root)
        spec.write_text(edit(spec.read_text()))
        return [command, str(spec.name), *extra]

    return Case(f"{command}-{name}", setup, names)


def _add(text: str) -> Callable[[str], str]:
    return lambda spec: spec + "\n" + text + "\n"


def _sub(old: str, new: str) -> Callable[[str], str]:
    def edit(spec: str) -> str:
        assert old in spec
        return spec.replace(old, new, 1)

    return edit


SPEC_EDITS: list[tuple[str, Callable[[str], str], str]] = [
    ("unknown-top-key", _add("colour = 'blue'"), "colour"),
    ("unknown-model-key", _sub("grid = {", "gird = { x = [1] }\ngrid = {"), "gird"),
    ("unknown-split-key", _sub("seed = 0", "seed = 0\nfoldz = 3"), "foldz"),
    ("folds-wrong-type", _sub("folds = 4", 'folds = "four"'), "folds"),
    ("seed-wrong-type", _sub("seed = 0", "seed = [0]"), "seed"),
    ("target-missing-column", _sub('target = "target"', 'target = "label"'), "label"),
    ("table-missing", _sub('table = "samples.csv"', 'table = "nope.csv"'), "nope.csv|data.table"),
    ("unknown-placeholder", _sub("{out} -", "{out} {lr} -"), "lr"),
    ("bad-stage-name", _add("[models.toy.stages.tran]\ngrid = { t = [1, 2] }"), "tran"),
    ("stage-grid-wrong-type", _add("[models.toy.stages.predict]\ngrid = 3"), "grid"),
    ("no-command", _add("[models.empty]\nparams = { a = 1 }"), "empty"),
    ("model-name-dotdot", _add('[models."../evil"]\nestimator = "sklearn.dummy:DummyClassifier"'),
     "../evil"),
    ("model-name-slash", _add('[models."a/b"]\nestimator = "sklearn.dummy:DummyClassifier"'),
     "a/b"),
    ("estimator-not-importable", _add('[models.bad]\nestimator = "sklearn.nope:Thing"'),
     "sklearn.nope"),
    ("resources-bad-mem", _add("[defaults]\nresources = { mem = 'lots' }"), "mem"),
    ("resources-cpus-text", _add("[defaults]\nresources = { cpus = 'two' }"), "cpus"),
    ("split-from-missing", _sub("folds = 4\nseed = 0", 'from = "nowhere"'), "nowhere"),
    ("toml-syntax", _add("[models.toy"), "foldrun.toml"),
    ("task-unknown", _sub('task = "classification"', 'task = "clustering"'), "task"),
]

SPEC_CASES = [spec_case(n, e, w) for n, e, w in SPEC_EDITS] + [
    # `run` validates the same way before it writes anything
    spec_case(n, e, w, "run") for n, e, w in SPEC_EDITS
    if n in {"unknown-placeholder", "model-name-dotdot", "bad-stage-name", "table-missing",
             "folds-wrong-type", "no-command"}
]


def _ok_spec(*extra: str, command: str = "run") -> Callable[[Path], list[str]]:
    def setup(root: Path) -> list[str]:
        return [command, project(root).name, *extra]

    return setup


def _missing_spec(command: str) -> Callable[[Path], list[str]]:
    return lambda root: [command, "missing.toml"]


def _report_no_run(root: Path) -> list[str]:
    return ["report", project(root).name]


CLI_CASES = [
    Case("check-missing-spec", _missing_spec("check"), "missing.toml"),
    Case("run-missing-spec", _missing_spec("run"), "missing.toml"),
    Case("report-missing-spec", _missing_spec("report"), "missing.toml"),
    Case("run-jobs-zero", _ok_spec("--jobs", "0"), "jobs"),
    Case("run-unknown-model", _ok_spec("--models", "nope"), "nope"),
    Case("run-unknown-stage", _ok_spec("--stages", "nope"), "nope"),
    Case("run-unknown-backend", _ok_spec("--backend", "nope"), "backend"),
    Case("run-fold-out-of-range", _ok_spec("--folds", "9"), "9"),
    Case("report-no-run-yet", _report_no_run, "run"),
    Case("query-no-run-yet", _ok_spec("SELECT 1", command="query"), "run"),
    Case("scan-missing-dir", lambda root: ["scan", "nowhere", "--pattern", "{a}.jpg", "--out",
                                           "t.csv"], "nowhere"),
    Case("scan-bad-pattern", lambda root: ["scan", ".", "--pattern", "{a", "--out", "t.csv"],
         "pattern"),
]

CASES = SPLIT_CASES + FILE_CASES + SPEC_CASES + CLI_CASES


def _expect_one_line_exit_2(root: Path, argv: list[str], names: str) -> None:
    before = tree(root)
    done = invoke(*argv, cwd=root)
    lines = (done.stdout + done.stderr).splitlines()
    if argv[0] == "check":  # check lists every problem, one line each, then a count
        lines = [line for line in lines if not re.match(r"foldrun: \d+ problem", line)]
    else:
        lines = done.stderr.splitlines()
    assert done.returncode == 2, (done.returncode, done.stderr[-3000:])
    assert len(lines) == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert any(name.lower() in lines[0].lower() for name in names.split("|")), lines[0]
    assert len(lines[0]) > len(names) + 20, lines[0]  # more than a bare name: what to do
    assert tree(root) == before, "bad input wrote files"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path: Path, case: Case) -> None:
    argv = case.setup(tmp_path)
    _expect_one_line_exit_2(tmp_path, argv, case.names)


def test_query_bad_sql_is_one_line(tmp_path: Path, toy_run: Callable[..., Path]) -> None:
    spec = toy_run(tmp_path, folds=2, grid=1)  # a finished run
    assert invoke("query", spec.name, "SELECT 1", cwd=tmp_path).returncode == 0
    for sql in ("SELEC nonsense", "SELECT * FROM nope", "SELECT nope FROM metrics"):
        _expect_one_line_exit_2(tmp_path, ["query", spec.name, sql, "--no-refresh"], "")


def test_unreadable_spec_is_one_line(tmp_path: Path) -> None:
    spec = project(tmp_path)
    spec.write_bytes(b"\xff\xfe\x00 not utf-8 \x80")
    _expect_one_line_exit_2(tmp_path, ["check", spec.name], "foldrun.toml")


# valid but unusual inputs must work


def test_unicode_and_spaces_in_ids_and_paths_work(tmp_path: Path) -> None:
    folder = tmp_path / "données été" / "ñ 1"
    folder.mkdir(parents=True)
    frame = table(40)
    frame["id"] = [f"échantillon {i} – 患者" for i in range(40)]
    frame.to_csv(folder / "table ü.csv", index=False)
    done = invoke("split", str(folder / "table ü.csv"), "--out", str(folder / "split ö"),
                   "--id", "id", "--target", "target", "--folds", "4")
    assert done.returncode == 0, done.stderr
    assignments = pd.read_csv(folder / "split ö" / "assignments.csv")
    assert sorted(assignments["id"]) == sorted(frame["id"])


def test_target_tied_everywhere_works(tmp_path: Path) -> None:
    frame = _with(y=[1.5] * 40)
    _csv(tmp_path, frame)
    for out in ("a", "b"):
        done = invoke("split", "t.csv", "--out", out, "--target", "y",
                       "--strategy", "continuous", "--folds", "4", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    sizes = pd.read_csv(tmp_path / "a/assignments.csv")["fold"].value_counts()
    assert sorted(sizes) == [10, 10, 10, 10]
    first, second = (tmp_path / "a/folds.parquet"), (tmp_path / "b/folds.parquet")
    assert first.read_bytes() == second.read_bytes()


def test_mixed_type_labels_work_as_classes(tmp_path: Path) -> None:
    # 1 and "1" in one CSV column read back as text: one class each, never a crash
    _csv(tmp_path, _with(target=["1", "a", "b", "2"] * 10))
    done = invoke("split", "t.csv", "--out", "out", "--target", "target",
                   "--strategy", "stratified", "--folds", "5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert os.path.exists(tmp_path / "out/details.json")
