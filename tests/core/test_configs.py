"""Config templates: the task's values set into the user's own file, the rest kept."""

from __future__ import annotations

import configparser
import json
import tomllib

import pytest

from foldrun.core.configs import render, top_keys
from foldrun.core.templates import fill
from foldrun.errors import SpecError

yaml = pytest.importorskip("yaml")  # PyYAML: only a YAML config needs it

KEYVALUE = "# ANIMAL-SPOT\nsrc_dir=/opt/as\nsequence_len = 300\n\n; old\nn_fft=1024\n"


def test_key_value_lines_keep_comments_order_and_spacing() -> None:
    text = render(KEYVALUE, "keyvalue", {"sequence_len": 400, "data_dir": "/d x", "amp": True})
    assert text.splitlines() == ["# ANIMAL-SPOT", "src_dir=/opt/as", "sequence_len = 400", "",
                                 "; old", "n_fft=1024", "data_dir=/d x", "amp=true"]  # fmt: skip
    assert top_keys(KEYVALUE, "keyvalue") == ["src_dir", "sequence_len", "n_fft"]


@pytest.mark.parametrize(
    ("fmt", "template", "load"),
    [
        ("json", '{"lr": 0.1, "opt": {"momentum": 0.9}}', json.loads),
        ("yaml", "lr: 0.1\nopt:\n  momentum: 0.9\n", yaml.safe_load),
        ("toml", 'lr = 0.1\n[opt]\nmomentum = 0.9\nname = "sgd"\n', tomllib.loads),
    ],
)
def test_trees_take_dotted_keys_and_keep_types(fmt: str, template: str, load: object) -> None:
    text = render(template, fmt, {"lr": 3e-4, "opt.momentum": 0.5, "opt.layers": [1, 2],
                                  "name": "a \"b\""})  # fmt: skip
    tree = load(text)  # type: ignore[operator]
    assert tree["lr"] == 3e-4 and tree["opt"]["momentum"] == 0.5 and tree["name"] == 'a "b"'
    assert tree["opt"]["layers"] == [1, 2]
    assert top_keys(template, fmt)[:2] == ["lr", "opt"]


def test_ini_sets_a_key_in_its_section_or_every_section_holding_it() -> None:
    text = render("[train]\nlr = 0.1\n[eval]\nlr = 1\nk = 3\n", "ini", {"lr": 5, "eval.k": 2})
    parser = configparser.ConfigParser()
    parser.read_string(text)
    assert parser["train"]["lr"] == "5" and parser["eval"]["lr"] == "5"
    assert parser["eval"]["k"] == "2"
    with pytest.raises(SpecError, match="no section of the template has it"):
        render("[a]\nx = 1\n", "ini", {"y": 1})


def test_a_bad_template_or_a_value_where_a_table_is_is_one_line() -> None:
    with pytest.raises(SpecError, match="not valid JSON"):
        render("{lr: 1", "json", {})
    with pytest.raises(SpecError, match="'lr' is a value in the template"):
        render('{"lr": 1}', "json", {"lr.x": 2})


def test_fill_keeps_a_lone_placeholders_type() -> None:
    values = {"lr": 3e-4, "fold1": 3, "out": "/t d"}
    assert fill("{lr}", values) == 3e-4
    assert fill("{out}/model_{fold1:02d}.pt", values) == "/t d/model_03.pt"
    with pytest.raises(SpecError, match=r"unknown placeholder \{x\}"):
        fill("{x}", values)
