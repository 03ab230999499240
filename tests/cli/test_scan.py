"""`foldrun scan` through the console script's main: empty labels dropped and counted, True/False
mapped to 1/0, and `path` usable from the folder of the output table (the spec's folder)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.reliability.helpers import invoke

PATTERN = "{healthCode}_{record}.jpg"


def _images(folder: Path, codes: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for code in codes:
        (folder / f"{code}_r1.jpg").write_text(code)
    return folder


def _labels(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _scan(tmp_path: Path, labels: str, out: str = "t.csv", *extra: str):
    images = _images(tmp_path / "img", ["a", "b", "c", "d", "e"])
    label_file = _labels(tmp_path / "labels.csv", labels)
    done = invoke("scan", str(images), "--pattern", PATTERN, "--labels", str(label_file),
                  "--on", "healthCode", "--out", str(tmp_path / out), *extra)  # fmt: skip
    return done


def test_scan_drops_empty_labels_and_counts_them_with_missing_ones(tmp_path: Path) -> None:
    # a: False, b: empty, c: True, d: empty (spaces), e: no row at all
    done = _scan(tmp_path, "healthCode,professional-diagnosis\na,False\nb,\nc,True\nd,  \n")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "t.csv", dtype=str)
    assert list(table["healthCode"]) == ["a", "c"]
    assert "3 dropped" in done.stdout
    assert "1 without a label row" in done.stdout
    assert "2 with an empty 'professional-diagnosis'" in done.stdout


def test_scan_maps_true_false_any_case_to_1_0(tmp_path: Path) -> None:
    labels = "healthCode,professional-diagnosis,note\n"
    labels += "a,False,x\nb,,x\nc,TRUE,x\nd,true,x\ne,fAlSe,x\n"
    done = _scan(tmp_path, labels, "t.parquet")
    assert done.returncode == 0, done.stderr
    table = pd.read_parquet(tmp_path / "t.parquet")
    labelled = dict(zip(table["healthCode"], table["professional-diagnosis"], strict=True))
    assert labelled == {"a": 0, "c": 1, "d": 1, "e": 0}
    assert str(table["professional-diagnosis"].dtype) == "int64"
    assert list(table["note"]) == ["x"] * 4  # other text columns are left as they are
    assert "label 'professional-diagnosis': True/False -> 1/0" in done.stdout


def test_scan_leaves_other_label_values_alone(tmp_path: Path) -> None:
    # not only True/False: no mapping; 0/1 with an empty value stays integer (not 0.0/1.0)
    done = _scan(tmp_path, "healthCode,y,z\na,True,0\nb,maybe,1\nc,False,1\nd,True,\ne,True,0\n")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "t.csv").read_text().splitlines()
    assert text[0].endswith(",y,z")
    assert [line.split(",")[-2:] for line in text[1:]] == [
        ["True", "0"],
        ["maybe", "1"],
        ["False", "1"],
        ["True", "0"],
    ]
    assert "True/False -> 1/0" not in done.stdout


def test_scan_path_opens_from_the_output_folder(tmp_path: Path) -> None:
    """Run from an unrelated folder with relative arguments; a program started in the
    project folder (where the spec and the table sit) opens every `path`."""
    _images(tmp_path / "data/images/sub", ["a", "b"])
    (tmp_path / "project").mkdir()
    done = invoke("scan", "data/images", "--pattern", "sub/" + PATTERN,
                  "--out", "project/samples.csv", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "project/samples.csv", dtype=str)
    assert len(table) == 2 and not any(Path(p).is_absolute() for p in table["path"])
    opener = "import csv; [open(r['path']).read() for r in csv.DictReader(open('samples.csv'))]"
    run = subprocess.run([sys.executable, "-c", opener], cwd=tmp_path / "project",
                         capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "relative to" in done.stdout


def test_scan_absolute_paths_on_request(tmp_path: Path) -> None:
    _images(tmp_path / "images", ["a", "b"])
    done = invoke("scan", "images", "--pattern", PATTERN, "--out", "out/t.csv", "--absolute",
                  cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    paths = pd.read_csv(tmp_path / "out/t.csv", dtype=str)["path"]
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in paths)


def test_scan_label_option_takes_only_the_named_columns(tmp_path: Path) -> None:
    # an unrelated, mostly empty column (age) must not drop rows once --label names the label
    labels = "healthCode,professional-diagnosis,age\na,False,3\nb,True,\nc,true,\nd,,4\n"
    done = _scan(tmp_path, labels, "t.csv", "--label", "professional-diagnosis")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "t.csv", dtype=str)
    assert list(table.columns) == ["healthCode", "record", "path", "professional-diagnosis"]
    assert list(table["healthCode"]) == ["a", "b", "c"]
    assert "2 dropped: 1 without a label row, 1 with an empty" in done.stdout


def test_scan_refuses_when_no_file_keeps_a_label(tmp_path: Path) -> None:
    done = _scan(tmp_path, "healthCode,y\nz,1\na,\n")
    assert done.returncode == 2
    assert "no file kept a label" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "t.csv").exists()


def test_out_never_replaces_a_table_scan_did_not_make(tmp_path: Path) -> None:
    """Hostile round 3: `--out` naming the user's own table (not the --labels one) replaced
    it silently. A previous index of the same pattern (its columns) is still refreshed."""
    images = _images(tmp_path / "img", ["a", "b"])
    mine = _labels(tmp_path / "mine.csv", "subject,diagnosis\na,x\nb,y\n")
    done = invoke("scan", str(images), "--pattern", PATTERN, "--out", str(mine))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "mine.csv" in done.stderr and "never replaces" in done.stderr
    assert mine.read_text() == "subject,diagnosis\na,x\nb,y\n"
    index = tmp_path / "index.csv"
    assert invoke("scan", str(images), "--pattern", PATTERN, "--out", str(index)).returncode == 0
    _images(images, ["c"])  # a new file: the same scan again refreshes its own index
    assert invoke("scan", str(images), "--pattern", PATTERN, "--out", str(index)).returncode == 0
    assert len(pd.read_csv(index)) == 3
