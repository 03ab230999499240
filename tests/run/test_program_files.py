"""Metrics files in the program's own format, read as the seeds' programs write them: a
nested fold_N/metadata.json, a long metrics.csv with a split column, a one-row summary, TOML
and YAML; anything missing, partial or not a number fails with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from foldrun.run.program_files import MetricsFileError, file_path, read_source, read_sources


def _read(path: Path, text: str, **source: object) -> dict[str, object]:
    path.write_text(text)
    return read_source({"file": str(path), **source}, path)


def test_nested_json_gives_every_numeric_leaf_by_its_path(tmp_path: Path) -> None:
    metadata = {"fold": 2, "model_type": "svm", "val": {"acc": 0.85, "f1": 0.8},
                "test": {"acc": 0.8, "per_class": {"f1_class0": 0.7}}, "done": True,
                "history": [0.5, 0.6], "loss": None}  # fmt: skip
    found = _read(tmp_path / "metadata.json", json.dumps(metadata))
    assert found == {"fold": 2, "val/acc": 0.85, "val/f1": 0.8, "test/acc": 0.8,
                     "test/per_class/f1_class0": 0.7, "loss": None}  # fmt: skip


def test_keys_pick_values_by_dotted_path_with_prefix(tmp_path: Path) -> None:
    summary = {"fold_results": [{"val_acc": 0.9}], "best": {"epoch": 12}, "a.b": {"c": 1.5}}
    found = _read(tmp_path / "s.json", json.dumps(summary), prefix="val/",
                  keys={"acc": "fold_results.0.val_acc", "best_epoch": "best.epoch",
                        "dotted": "a.b.c"})  # fmt: skip
    assert found == {"val/acc": 0.9, "val/best_epoch": 12, "val/dotted": 1.5}


@pytest.mark.parametrize(
    ("text", "keys", "expected"),
    [
        ('{"best": {}}', {"auc": "best.auc"}, "has no 'best.auc'; fix the path in keys"),
        ('{"auc": "high"}', {"auc": "auc"}, "holds 'high' at 'auc', not a number"),
        ('{"auc": true}', {"auc": "auc"}, "holds True at 'auc', not a number"),
        ('{"auc": 0.9', None, "is not valid JSON"),
        ("[1, 2]", None, "holds a list, not a table of metrics"),
        ('{"name": "svm"}', None, "holds no numbers"),
    ],
)
def test_json_that_is_not_metrics_fails(
    tmp_path: Path, text: str, keys: dict[str, str] | None, expected: str
) -> None:
    with pytest.raises(MetricsFileError, match="^" + expected.replace("(", r"\(")):
        _read(tmp_path / "m.json", text, **({"keys": keys} if keys else {}))


def test_long_csv_with_a_split_column(tmp_path: Path) -> None:
    text = "metric,value,split\npsnr,31.5,test\npsnr,30.1,val\nsam,0.12,test\nepochs,40,\n"
    found = _read(tmp_path / "metrics.csv", text, format="long", split="split")
    assert found == {"test/psnr": 31.5, "val/psnr": 30.1, "test/sam": 0.12, "epochs": 40}
    found = _read(tmp_path / "m.csv", "name,score\nauc,0.9\n", metric="name", value="score")
    assert found == {"auc": 0.9}


def test_a_csv_without_format_is_long_when_its_header_says_so(tmp_path: Path) -> None:
    assert _read(tmp_path / "a.csv", "metric,value\nauc,0.9\n") == {"auc": 0.9}
    assert _read(tmp_path / "b.csv", "auc,f1,run\n0.9,0.8,x\n") == {"auc": 0.9, "f1": 0.8}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metric,value\nauc,0.9\nauc,0.8\n", "lists 'auc' twice (line 3)"),
        ("metric,value\nauc,high\n", "holds 'high' at line 2, column 'value', not a number"),
        ("metric,val\nauc,0.9\n", "has no column 'value' (columns: metric, val)"),
        ("metric,value\n,0.9\n", "line 2 names no metric"),
        ("", "is empty"),
    ],
)
def test_long_csv_problems_fail_in_one_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(MetricsFileError) as err:
        _read(tmp_path / "m.csv", text, format="long")
    assert str(err.value).startswith(expected) and "\n" not in str(err.value)


def test_wide_tsv_is_one_row_and_keys_name_its_columns(tmp_path: Path) -> None:
    text = "auc\tbrier\tcheckpoint\n0.91\t0.1\tckpt/best.pt\n"
    assert _read(tmp_path / "s.tsv", text, format="wide", prefix="test/") == {
        "test/auc": 0.91, "test/brier": 0.1}  # fmt: skip
    assert _read(tmp_path / "s.tsv", text, format="wide", keys={"test/auc": "auc"}) == {
        "test/auc": 0.91}  # fmt: skip
    with pytest.raises(MetricsFileError, match=r"holds 'ckpt/best\.pt' at column 'checkpoint'"):
        _read(tmp_path / "s.tsv", text, format="wide", keys={"x": "checkpoint"})
    with pytest.raises(MetricsFileError, match="has 2 rows; a wide file holds one row"):
        _read(tmp_path / "s.csv", "auc\n0.9\n0.8\n", format="wide")


def test_toml_and_yaml(tmp_path: Path) -> None:
    assert _read(tmp_path / "m.toml", "[test]\nauc = 0.9\nname = 'x'\n") == {"test/auc": 0.9}
    pytest.importorskip("yaml")
    assert _read(tmp_path / "m.yaml", "val:\n  loss: 0.25\n") == {"val/loss": 0.25}


def test_a_missing_file_names_the_file_and_the_source(tmp_path: Path) -> None:
    sources = ({"file": "{out}/ok.json"}, {"file": "{out}/fold_{fold1}/metadata.json"})
    (tmp_path / "ok.json").write_text('{"a": 1}')
    values = {"out": str(tmp_path), "fold1": 3}
    with pytest.raises(MetricsFileError) as err:
        read_sources(sources, values, tmp_path)
    assert str(err.value) == (f"metrics file {tmp_path}/fold_3/metadata.json (metrics[1]): the "
                              "program wrote no such file; it must write it")  # fmt: skip


def test_file_paths_render_unquoted_and_relative_to_the_spec(tmp_path: Path) -> None:
    values = {"out": "/runs/a b/it's", "model": "m"}
    assert file_path("{out}/m.json", values, tmp_path) == Path("/runs/a b/it's/m.json")
    assert file_path("eval/{model}.csv", values, tmp_path) == tmp_path / "eval/m.csv"
