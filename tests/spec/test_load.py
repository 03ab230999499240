from __future__ import annotations

from pathlib import Path

import pytest

from foldrun.errors import SpecError
from foldrun.spec import load_spec, parse_spec

HEAD = """\
name = "demo"
[data]
table = "samples.csv"
target = "label"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "foldrun.toml"
    path.write_text(text)
    return path


def lines(tmp_path: Path, text: str) -> list[str]:
    spec, problems = parse_spec(write(tmp_path, text))
    assert spec is None
    return [p.line().split(": ", 1)[1] for p in problems]


def test_full_design_example_loads(tmp_path: Path) -> None:
    spec = load_spec(
        write(
            tmp_path,
            HEAD.replace('name = "demo"', 'name = "demo"\noutput = "out/here"')
            + """
[split]
folds = 5
val = "none"
seed = 42
[defaults]
resources = { cpus = 1, gpus = 0, mem = "4G", time = "01:00:00" }
[models.logreg]
estimator = "sklearn.linear_model:LogisticRegression"
params = { C = 1.0, max_iter = 5000 }
preprocess = ["sklearn.preprocessing:StandardScaler"]
[models.cnn]
train = "python train.py --train {train} --val {val} --out {out} --lr {lr}"
predict = "python predict.py --ckpt {out}/model.pt --input {test} --output {predictions}"
params = { lr = 3e-4 }
resources = { gpus = 1, cpus = 4, mem = "32G", time = "24:00:00" }
[models.cnn.stages.predict]
grid = { threshold = [0.3, 0.5] }
[models.custom]
entry = "mypkg.cv:run_fold"
[slurm]
partition = "gpu"
[mlflow]
tracking_uri = "sqlite:///mlruns.db"
""",
        )
    )
    assert spec.models["logreg"].kind == "estimator"
    assert spec.models["cnn"].kind == "command"
    assert spec.models["cnn"].stage_names() == ("train", "predict", "evaluate")
    assert spec.models["custom"].stage_names() == ("train", "predict", "evaluate", "refit")
    assert spec.split.options() == {"folds": 5, "val": "none", "seed": 42}
    assert spec.seed == 42
    # paths are relative to the spec file, not to the working directory
    assert spec.run_dir == (tmp_path / "out/here").resolve()
    assert spec.table_path == (tmp_path / "samples.csv").resolve()


def test_default_output_is_runs_name(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, HEAD + '[models.m]\nentry = "a:b"\n'))
    assert spec.run_dir == (tmp_path / "runs" / "demo").resolve()
    assert spec.split_from is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[models.rf]\nestimator = 'a:B'\ngrd = {x = [1]}\n",
            "models.rf.grd: unknown key; did you mean 'grid'?",
        ),
        ("[data2]\n", "data2: unknown key; did you mean 'data'?"),
        ("[split]\nfodls = 3\n", "split.fodls: unknown key; did you mean 'folds'?"),
        (
            "[models.m]\nentry = 'a:b'\nresources = { cpu = 2 }\n",
            "models.m.resources.cpu: unknown key; did you mean 'cpus'?",
        ),
        (
            "[models.m]\ntrain='x'\npredict='y'\n[models.m.stages.predict]\ngird = {a=[1]}\n",
            "models.m.stages.predict.gird: unknown key; did you mean 'grid'?",
        ),
    ],
)
def test_unknown_keys_get_did_you_mean(tmp_path: Path, text: str, expected: str) -> None:
    models = "" if "[models" in text else "[models.m]\nentry='a:b'\n"
    found = lines(tmp_path, HEAD + text + models)
    assert expected in found


def test_every_schema_problem_at_once(tmp_path: Path) -> None:
    found = lines(
        tmp_path,
        """\
name = "demo"
[data]
table = "t.csv"
target = 3
tabel = 1
[split]
val = "nope"
[models."../x"]
entry = "a:b"
[models.both]
estimator = "a:B"
entry = "a:c"
[models.none]
params = { a = 1 }
[models.cmd]
train = "python t.py {lrr}"
predict = "python p.py {test}"
params = { lr = 1 }
[models.cmd.stages.prdict]
grid = { t = [1] }
""",
    )
    joined = "\n".join(found)
    assert "data.target: wrong type (got 3)" in joined
    assert "data.tabel: unknown key; did you mean 'table'?" in joined
    assert "split.val: val must be 'next-fold', 'none' or a fraction" in joined
    assert "models.\"../x\": model name '../x' is not allowed" in joined
    assert "models.both: a model needs exactly one of" in joined
    assert "models.none: a model needs exactly one of" in joined
    assert "models.cmd.train: unknown placeholder {lrr}; did you mean 'lr'?" in joined
    assert "models.cmd.stages.prdict: this model has no stage 'prdict'; did you mean" in joined
    assert len(found) == 8


def test_load_spec_raises_first_problem_as_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as err:
        load_spec(write(tmp_path, HEAD + "[models.rf]\nestimator='a:B'\ngrd = 1\n"))
    assert err.value.key == "models.rf.grd"
    assert "did you mean 'grid'" in err.value.one_line()


@pytest.mark.parametrize("name", ["../x", "a/b", "..", "a b", "x..y"])
def test_model_names_that_are_not_folders_are_rejected(tmp_path: Path, name: str) -> None:
    with pytest.raises(SpecError, match="not allowed"):
        load_spec(write(tmp_path, HEAD + f'[models."{name}"]\nentry = "a:b"\n'))


@pytest.mark.parametrize("name", ["rf", "rf-2", "lgbm_v1.3", "A.b-c_d"])
def test_good_model_names(tmp_path: Path, name: str) -> None:
    assert name in load_spec(write(tmp_path, HEAD + f'[models."{name}"]\nentry = "a:b"\n')).models


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[models.m]\nrefit = 'x {train}'\n", "found none of them"),
        ("[models.m]\nentry = 'a:b'\nevaluate = 'x'\n", "only command models"),
        ("[models.m]\nentry = 'a:b'\nrefit = 'x'\n", "only command models"),
        ("[models.m]\nentry = 'a:b'\npreprocess = ['a:B']\n", "estimator models only"),
        ("[models.m]\nentry = 'a:b'\ngrid = { a = [] }\n", "empty list"),
        ("[models.m]\nentry = 'a:b'\ngrid = { a = [1, 1] }\n", "lists a value twice"),
        (
            "[models.m]\nentry = 'a:b'\ngrid = { a = [1] }\n[models.m.stages.predict]\n"
            "grid = { a = [2] }\n",
            "a key may vary in one grid only",
        ),
        (
            "[models.m]\nentry = 'a:b'\n[models.m.stages.evaluate]\ngrid = { a = [2] }\n",
            "takes no grid",
        ),
        (
            "[models.m]\ntrain='t'\npredict='p'\n[models.m.stages.refit]\ngrid={a=[1]}\n",
            "no stage 'refit'",
        ),
        (
            "[models.m]\ntrain='t {threshold}'\npredict='p {threshold}'\n"
            "[models.m.stages.predict]\ngrid={threshold=[1]}\n",
            r"unknown placeholder \{threshold\}",
        ),
        ("[split]\nfrom = 'x'\nfolds = 3\n[models.m]\nentry='a:b'\n", "cannot be set with it"),
        ("[split]\nstrategy = 'magic'\n[models.m]\nentry='a:b'\n", "unknown strategy"),
        ("[models]\n", "no models"),
        ("[models.m]\nentry='a:b'\n[defaults]\nresources={mem='lots'}\n", "mem must be"),
    ],
)
def test_semantic_errors(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        load_spec(write(tmp_path, HEAD + text))


def test_stage_grid_key_is_a_placeholder_from_its_stage_on(tmp_path: Path) -> None:
    spec = load_spec(
        write(
            tmp_path,
            HEAD + "[models.m]\ntrain='t {train}'\npredict='p {threshold}'\nrefit='r {threshold}'\n"
            "[models.m.stages.predict]\ngrid={threshold=[0.3, 0.5]}\n",
        )
    )
    assert spec.models["m"].stage_names() == ("train", "predict", "evaluate", "refit")


def test_toml_syntax_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(write(tmp_path, "name = \n"))
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "nope.toml")


def test_missing_required_keys(tmp_path: Path) -> None:
    found = lines(tmp_path, "[models.m]\nentry='a:b'\n")
    assert "name: required key is missing; add it" in found
    assert "data: required key is missing; add it" in found


def test_only_badly_named_models_reports_just_the_names(tmp_path: Path) -> None:
    found = lines(tmp_path, HEAD + '[models."a/b"]\nentry = "a:b"\n')
    assert len(found) == 1
    assert found[0].startswith("models.\"a/b\": model name 'a/b' is not allowed")


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ('params = { seed = 99, lr = 0.1 }', "models.cmd.params.seed"),
        ('params = { out = "/x" }', "models.cmd.params.out"),
        ("grid = { fold = [1, 2] }", "models.cmd.grid.fold"),
        ("stages.predict.grid = { test = [1, 2] }", "models.cmd.stages.predict.grid.test"),
    ],
)
def test_command_params_named_like_a_builtin_placeholder_are_refused(
    tmp_path: Path, params: str, key: str
) -> None:
    """`params = { seed = 99 }` reached the program as {seed} = 0 while params.json and
    MLflow said 99 (issue 22); check and run (both load the spec here) refuse it."""
    text = HEAD + f'[models.cmd]\ntrain = "prog {{out}}"\npredict = "prog {{test}}"\n{params}\n'
    found = lines(tmp_path, text)
    assert len(found) == 1 and found[0].startswith(f"{key}: ")
    name = key.rsplit(".", 1)[1]
    assert f"'{name}' is foldrun's own placeholder {{{name}}}" in found[0]
    with pytest.raises(SpecError):
        load_spec(tmp_path / "foldrun.toml")


def test_estimator_and_entry_params_keep_any_name(tmp_path: Path) -> None:
    (tmp_path / "samples.csv").write_text("id,x,label\na,1,0\nb,2,1\n")
    text = HEAD + (
        '[models.est]\nestimator = "sklearn.linear_model:LogisticRegression"\n'
        "params = { seed = 1, out = 2, test = 3 }\n"
        '[models.ent]\nentry = "os:getcwd"\nparams = { fold = 1, train = 2 }\n'
    )
    spec, problems = parse_spec(write(tmp_path, text))
    assert problems == [] and spec is not None


def test_curves_declare_the_file_and_its_form(tmp_path: Path) -> None:
    (tmp_path / "samples.csv").write_text("id,x,label\na,1,0\nb,2,1\n")
    model = '[models.cmd]\ntrain = "prog {out}"\npredict = "prog {test} {predictions}"\n'
    text = HEAD + model + 'curves = { file = "{out}/metrics.jsonl", format = "long" }\n'
    spec, problems = parse_spec(write(tmp_path, text))
    assert problems == [] and spec is not None
    assert spec.models["cmd"].curves.format == "long"  # type: ignore[union-attr]
    bad = HEAD + model + 'curves = { file = "{outt}/m.jsonl", format = "tall" }\n'
    found = lines(tmp_path, bad)
    assert any(line.startswith("models.cmd.curves.format") for line in found), found
    typo = HEAD + model + 'curves = { file = "{outt}/m.jsonl" }\n'
    assert lines(tmp_path, typo) == ["models.cmd.curves.file: unknown placeholder {outt}; "
                                     "did you mean 'out'?"]  # fmt: skip
