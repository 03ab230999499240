"""Model templates (issue 25): `extends` copies another model's or a template's keys, the
model's own keys win, tables merge by key; fingerprints see only the resolved values."""

from __future__ import annotations

from pathlib import Path

import pytest

from foldrun.plan import build_plan
from foldrun.spec import load_spec, parse_spec
from tests.spec.helpers import write_spec

FULL = """
[models.i3d]
train = "python train.py --arch {arch} --train {train} --out {out} --lr {lr} --frames {frames}"
predict = "python predict.py --ckpt {out} --in {test} --out {predictions}"
params = { arch = "i3d", lr = 0.001, frames = 8 }
grid = { dropout = [0.1, 0.3] }
resources = { cpus = 4, gpus = 1, gpus_optional = true, mem = "64G", time = "12:00:00" }
[models.x3d]
train = "python train.py --arch {arch} --train {train} --out {out} --lr {lr} --frames {frames}"
predict = "python predict.py --ckpt {out} --in {test} --out {predictions}"
params = { arch = "x3d", lr = 0.0005, frames = 16 }
grid = { dropout = [0.1, 0.3] }
resources = { cpus = 4, gpus = 1, gpus_optional = true, mem = "64G", time = "24:00:00" }
"""

SHORT = """
[templates.video]
train = "python train.py --arch {arch} --train {train} --out {out} --lr {lr} --frames {frames}"
predict = "python predict.py --ckpt {out} --in {test} --out {predictions}"
params = { lr = 0.001, frames = 8 }
grid = { dropout = [0.1, 0.3] }
resources = { cpus = 4, gpus = 1, gpus_optional = true, mem = "64G", time = "12:00:00" }
[models.i3d]
extends = "video"
params = { arch = "i3d" }
[models.x3d]
extends = "i3d"
params = { arch = "x3d", lr = 0.0005, frames = 16 }
resources = { time = "24:00:00" }
"""


def written(folder: Path, models: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_spec(folder, models)


def fingerprints(spec: Path) -> dict[str, str]:
    return {key: task.fingerprint for key, task in build_plan(load_spec(spec)).tasks.items()}


def test_a_model_written_with_extends_plans_what_the_full_one_does(tmp_path: Path) -> None:
    full = fingerprints(written(tmp_path / "full", FULL))
    short = fingerprints(written(tmp_path / "short", SHORT))
    assert len(full) == 2 * 2 * 3 * 3  # models x dropout x folds x (train, predict, evaluate)
    assert short == full  # the same tasks, the same fingerprints: templates plan nothing


def test_own_keys_win_and_tables_merge_by_key(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, SHORT))
    x3d = spec.models["x3d"]
    assert x3d.params == {"lr": 0.0005, "frames": 16, "arch": "x3d"}
    assert x3d.resources is not None and x3d.resources.time == "24:00:00"
    assert x3d.resources.cpus == 4 and x3d.resources.gpus_optional is True
    assert x3d.extends is None and set(spec.models) == {"i3d", "x3d"}
    assert spec.models["i3d"].params["arch"] == "i3d"
    assert "video" in spec.templates and "arch" not in spec.templates["video"]["params"]


def test_a_change_to_the_template_changes_every_model_that_uses_it(tmp_path: Path) -> None:
    before = fingerprints(write_spec(tmp_path, SHORT))
    spec = tmp_path / "foldrun.toml"
    spec.write_text(spec.read_text().replace("frames = 8 }", "frames = 4 }"))
    after = fingerprints(spec)
    moved = {key.split("/")[0] for key in before if before[key] != after[key]}
    assert moved == {"i3d"}  # x3d sets its own frames


def problems(tmp_path: Path, models: str) -> list[str]:
    spec, found = parse_spec(write_spec(tmp_path, models))
    assert spec is None
    return [p.line().split(": ", 1)[1] for p in found]


@pytest.mark.parametrize(
    ("models", "expected"),
    [
        (
            '[models.a]\nextends = "b"\ntrain = "x {out}"\n[models.b]\nextends = "a"\n',
            "models.b.extends: extends makes a cycle (a -> b -> a); remove one extends",
        ),
        (
            '[models.a]\nextends = "a"\ntrain = "x {out}"\n',
            "models.a.extends: extends makes a cycle (a -> a); remove one extends",
        ),
        (
            '[templates.base]\ntrain = "x {out}"\n[models.a]\nextends = "bsae"\n',
            "models.a.extends: no model or template named 'bsae'; did you mean 'base'?",
        ),
        (
            '[templates.a]\ntrain = "x {out}"\n[models.a]\nextends = "a"\n',
            "models.a.extends: 'a' is both a model and a template; rename one of them",
        ),
        (
            '[models.a]\nextends = 3\ntrain = "x {out}"\n',
            "models.a.extends: must be the name of a model or a template (got 3)",
        ),
    ],
)
def test_bad_extends_is_one_line(tmp_path: Path, models: str, expected: str) -> None:
    assert expected in problems(tmp_path, models)


def test_a_template_key_the_schema_does_not_know_is_named_at_the_template(
    tmp_path: Path,
) -> None:
    """A typo inside [templates.t] is the template's, said once however many models extend
    it (it was said under each model, `models.m.parms`, where the user finds no parms);
    a typo of the model's own stays the model's."""
    found = problems(tmp_path, '[templates.t]\nparms = { a = 1 }\nresources = { cpu = 2 }\n'
                     'train = "x {out}"\n[models.m]\nextends = "t"\n[models.n]\nextends = "t"\n'
                     'gird = { a = [1] }\n')  # fmt: skip
    assert [line for line in found if line.startswith("templates.t.parms")] == [
        "templates.t.parms: unknown key; did you mean 'params'?"], found  # fmt: skip
    assert sum(line.startswith("templates.t.resources.cpu: unknown key") for line in found) == 1
    assert any(line.startswith("models.n.gird: unknown key") for line in found), found
    assert not any(line.startswith(("models.m.parms", "models.n.parms", "models.m.resources"))
                   for line in found), found  # fmt: skip


def test_seed_003s_21_models_fit_in_60_lines() -> None:
    path = Path(__file__).parents[2] / "examples/003-video-21-models/all-21.toml"
    assert len(path.read_text().splitlines()) <= 60  # the seed's 21 tables: 110 lines
    spec = load_spec(path)
    assert len(spec.models) == 21 and "video" in spec.templates
    videos = [m for m in spec.models.values() if m.train is not None]
    assert len(videos) == 14
    for model in videos:
        assert model.resources is not None and model.resources.gpus_optional is True
        assert (model.resources.cpus, model.resources.gpus) == (4, 1)
    assert spec.models["vivit"].params == spec.models["timesformer"].params
    assert spec.models["x3d"].params == {"epochs": 30, "hidden": 6}  # x3d <- i3d <- video
