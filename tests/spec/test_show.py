"""`foldrun check --show`: the spec as resolved (models written out in full), as TOML that
loads back to the same spec and plan, or as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from foldrun.cli import cli
from foldrun.spec import load_spec
from foldrun.spec.show import resolved_toml
from tests.spec.test_extends import SHORT, fingerprints, written


def show(spec: Path, *options: str) -> tuple[int, str]:
    done = CliRunner().invoke(cli, ["check", "--show", *options, str(spec)])
    return done.exit_code, done.output


def project(folder: Path) -> Path:
    spec = written(folder, SHORT)
    (folder / "train.py").write_text("")  # check looks for the scripts the commands name
    (folder / "predict.py").write_text("")
    return spec


def test_the_resolved_spec_loads_back_to_the_same_plan(tmp_path: Path) -> None:
    spec = project(tmp_path)
    code, printed = show(spec)
    assert code == 0, printed
    assert '[models.x3d]\n' in printed and "extends" not in printed
    assert 'params = { lr = 0.0005, frames = 16, arch = "x3d" }' in printed
    assert printed.rstrip().endswith("36 task(s) over 3 fold(s)")
    again = tmp_path / "again.toml"
    again.write_text(resolved_toml(load_spec(spec)))
    assert load_spec(again).models == load_spec(spec).models
    assert fingerprints(again) == fingerprints(spec)


def test_json_carries_the_resolved_spec(tmp_path: Path) -> None:
    code, printed = show(project(tmp_path), "--format", "json")
    found = json.loads(printed)
    assert code == 0 and found["ok"] is True
    assert found["spec"]["models"]["x3d"]["resources"]["time"] == "24:00:00"
    assert found["spec"]["models"]["x3d"]["params"]["arch"] == "x3d"


def test_a_spec_with_problems_shows_only_the_problems(tmp_path: Path) -> None:
    spec = project(tmp_path)
    spec.write_text(spec.read_text().replace('extends = "i3d"', 'extends = "i3"'))
    code, printed = show(spec)
    assert code == 2 and "[models" not in printed
    assert "models.x3d.extends: no model or template named 'i3'" in printed


def test_without_show_nothing_more_is_printed(tmp_path: Path) -> None:
    done = CliRunner().invoke(cli, ["check", str(project(tmp_path))])
    assert done.exit_code == 0 and done.output.count("\n") == 1


def test_defaults_are_shown_and_every_example_loads_back_the_same(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2] / "examples"
    specs = sorted(root.glob("*/*.toml"))
    assert len(specs) >= 5
    first = resolved_toml(load_spec(specs[0]))  # 000: [report] left at its defaults
    assert "\nconfidence = 0.95\n" in first and "\nbootstrap = 1000\n" in first
    for spec in specs:
        shown = resolved_toml(load_spec(spec))
        again = spec.with_name(f".shown-{spec.name}")
        try:
            again.write_text(shown)
            assert load_spec(again).model_dump() == load_spec(spec).model_dump(), spec
        finally:
            again.unlink(missing_ok=True)
