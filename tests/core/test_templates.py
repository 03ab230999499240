from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foldrun.core.templates import placeholders, program, render
from foldrun.errors import SpecError

HOSTILE = [
    "'; touch x #",
    "a\nb",
    "$(touch y)",
    "`touch z`",
    "a b  c",
    "\"double\" and 'single'",
    "",
    "--flag=value;rm -rf /",
    "*",
    "back\\slash",
]


def test_placeholders() -> None:
    assert placeholders("python t.py --train {train} --lr {lr} --out {out}/m.pt") == {
        "train",
        "lr",
        "out",
    }
    # {{ }} are literal braces; braces around non-identifiers are left alone
    assert placeholders("awk '{print $1}' {{x}} {test}") == {"test"}


def test_render_literal_braces() -> None:
    assert render("echo {{a}} {b}", {"b": 1}) == "echo {a} 1"
    assert render("awk '{print $1}' {f}", {"f": "in.csv"}) == "awk '{print $1}' in.csv"


def test_render_value_texts() -> None:
    assert render("{a} {b} {c} {d}", {"a": True, "b": None, "c": [1, 2], "d": 3e-4}) == (
        "true '' '[1, 2]' 0.0003"
    )


def test_unknown_placeholder_at_render_is_spec_error() -> None:
    with pytest.raises(SpecError, match=r"unknown placeholder \{lrr\}"):
        render("x {lrr}", {"lr": 1})


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_value_reaches_program_as_one_argument(tmp_path: Path, value: str) -> None:
    script = tmp_path / "argv.py"
    script.write_text("import json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    template = f"{sys.executable} {script} --id {{id}} --out {{out}}/m.pt"
    command = render(template, {"id": value, "out": value})
    proc = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert json.loads(proc.stdout) == ["--id", value, "--out", value + "/m.pt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["argv.py"]  # nothing was touched


def test_program() -> None:
    assert program("python train.py {x}") == "python"
    assert program("CUDA_VISIBLE_DEVICES=0 FOO=1 ./run.sh") == "./run.sh"
    assert program("'unclosed") is None


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")))
def test_any_text_is_one_argument(value: str) -> None:
    command = render("printf '%s\\0' {a} {b}", {"a": value, "b": "end"})
    proc = subprocess.run(["bash", "-c", command], capture_output=True, check=True)
    assert proc.stdout.decode("utf-8", "surrogateescape").split("\0") == [value, "end", ""]


def test_star_expands_a_list_into_separate_arguments(tmp_path: Path) -> None:
    script = tmp_path / "argv.py"
    script.write_text("import json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    command = render(f"{sys.executable} {script} --feat {{feat*}} --n {{n*}} --e {{e*}}",
                     {"feat": ["cos_theta", "UVA total", "'; touch x #"], "n": 3, "e": []})
    argv = json.loads(subprocess.run(command, shell=True, capture_output=True, text=True,
                                     cwd=tmp_path, check=True).stdout)
    assert argv == ["--feat", "cos_theta", "UVA total", "'; touch x #", "--n", "3", "--e"]
    assert not (tmp_path / "x").exists()


def test_switch_renders_the_flag_only_when_true() -> None:
    assert render("t {amp?--amp} {ema?--ema} x", {"amp": True, "ema": False}) == "t --amp  x"
    assert placeholders("t {amp?--amp} {feat*} {fold1}") == {"amp", "feat", "fold1"}
    with pytest.raises(SpecError, match="amp"):
        render("t {amp?--amp}", {"amp": "yes"})


def test_unknown_switch_or_star_placeholder_is_spec_error() -> None:
    with pytest.raises(SpecError, match=r"unknown placeholder \{nope\}"):
        render("t {nope?--x}", {"amp": True})


def test_python_format_specs_on_any_placeholder() -> None:
    """Seed 001 names folds `fold_03`: `{fold1:02d}` must reach the program as `03`."""
    values = {"fold1": 3, "lr": 3e-4, "name": "a b", "amp": True}
    assert render("fold_{fold1:02d} {lr:.0e} {name:>4} {amp:}", values) == (
        "fold_03 3e-04 ' a b' true"
    )
    with pytest.raises(SpecError, match=r"\{fold1:02d\} cannot format 'all'"):
        render("{fold1:02d}", {"fold1": "all"})


def test_shell_parameter_expansion_is_not_a_placeholder() -> None:
    template = "echo ${HOME:-/tmp} ${fold} {fold:03d}"
    assert placeholders(template) == {"fold"}
    assert render(template, {"fold": 2}) == "echo ${HOME:-/tmp} $2 002"


def test_inline_python_braces_are_not_format_specs() -> None:
    """`{k: v for ...}` in a `python -c` program is its own text, as before format specs."""
    template = 'python -c "print({k: v for k in x})" {fold:03d}'
    assert placeholders(template) == {"fold"}
    assert render(template, {"fold": 1}).endswith(" 001")


def test_a_placeholders_name_in_a_form_foldrun_does_not_fill_is_named() -> None:
    """`{fold!r}` was left alone (the program got the text `{fold!r}`); another name's
    braces, awk's, bash's `${fold:-0}` and literal `{{ }}` are the program's own text."""
    from foldrun.core.templates import unfilled_problems

    names = {"fold", "lr", "out"}
    found = unfilled_problems("t {fold!r} {lr[0]} {out.parent} {fold:02dd} {fold:02d}", names)
    assert [line.split(" ", 1)[0] for line in found] == [
        "{fold!r}", "{lr[0]}", "{out.parent}", "{fold:02dd}"]  # fmt: skip
    assert found[0].startswith("{fold!r} is not a form foldrun fills; use {fold}, {fold*}")
    own = "f'{sys.argv!r}' {k: 1 for k in x} awk '{print $1}' ${fold:-0} {{fold!r}} {fold}"
    assert unfilled_problems(own, names | {"k"}) == []


def test_awk_arrays_and_jq_objects_named_like_a_placeholder_stay_the_programs_text() -> None:
    """An awk array or a jq key named like a placeholder or a param (`n`, `test`, `model`)
    is not a Python format field foldrun failed to fill: `check` refused these commands."""
    from foldrun.core.templates import unfilled_problems

    names = {"n", "test", "seed", "model", "fold"}
    own = ("awk -F, '{n[$1]++} END {print n[1]}' {test} && awk '{test[$1]=$2}' {test} "
           "&& awk '{seed[$0]}' && jq -c '{model:.model,auc:.auc}' x.json")  # fmt: skip
    assert unfilled_problems(own, names) == []
    assert len(unfilled_problems("{fold[0]} {fold!r:>4} {fold.real} {fold:.2ff}", names)) == 4


def test_jq_objects_and_script_literals_holding_what_no_format_spec_holds_stay_the_programs_text(
) -> None:  # fmt: skip
    """A jq object with a variable or `.` (`{model:$m,n:.}`, `{test:.}`) or a script's
    object literal (`{seed:process.argv[1]}`) after a placeholder's name and a colon is no
    format spec foldrun failed to fill: `check` refused `jq --arg m {model} '{model:$m}'`
    (439ffb4). A spec with a typo (`02dd`, `.2ff`, `>4ss`) is still named."""
    from foldrun.core.templates import unfilled_problems

    names = {"test", "seed", "model", "fold", "fold1"}
    own = ("jq -c --arg m {model} '{model:$m,n:.}' {test} && jq '{test:.}' "
           "&& jq '{fold:\"a\"}' && node -e 'f({seed:process.argv[1]})' "
           "&& jq '{fold:1,model:2}' && jq '{test:.[0]}'")  # fmt: skip
    assert unfilled_problems(own, names) == []
    typos = "{fold1:02dd} {fold:.2ff} {fold:>4ss} {fold1:,dd}"
    assert [p.split(" ", 1)[0] for p in unfilled_problems(typos, names)] == typos.split()
