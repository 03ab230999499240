from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from foldrun.cli import cli
from foldrun.plan.check import check_spec
from tests.spec.helpers import BASE, write_spec

OK_MODELS = """
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
preprocess = ["sklearn.preprocessing:StandardScaler"]
[models.rf]
estimator = "sklearn.ensemble:RandomForestClassifier"
grid = { n_estimators = [10, 20], max_depth = [2, 3] }
[models.cmd]
train = "true {train} {out}"
predict = "true {test} {predictions} {threshold}"
[models.cmd.stages.predict]
grid = { threshold = [0.3, 0.5, 0.7] }
"""


def problem_lines(spec: Path) -> list[str]:
    return [p.line() for p in check_spec(spec)]


def only_problem(spec: Path) -> str:
    lines = problem_lines(spec)
    assert len(lines) == 1, lines
    return lines[0]


def test_clean_spec_exits_0_with_summary(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, OK_MODELS)
    result = CliRunner().invoke(cli, ["check", str(spec)])
    assert result.exit_code == 0, result.output
    # lr: 1 variant x (3 folds x 3 stages + refit); rf: 4 x 10; cmd: 3 train + 3 x (3 + 3)
    assert "3 model(s), 8 variant(s), 71 task(s) over 3 fold(s)" in result.output
    assert not (tmp_path / "runs").exists()  # check writes nothing


def test_cli_exit_2_one_line_per_problem(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        """
[models.rf]
estimator = "sklearn.ensemble:RandomForestClasifier"
grd = { a = [1] }
[models.cmd]
train = "no-such-program-xyz {train}"
predict = "true {tset}"
""",
    )
    result = CliRunner().invoke(cli, ["check", str(spec)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("foldrun: 3 problem(s)")
    assert any(line.endswith("models.rf.grd: unknown key; did you mean 'grid'?") for line in lines)
    assert any(
        "models.cmd.predict: unknown placeholder {tset}; did you mean 'test'?" in line
        for line in lines
    )
    # the model with a schema error is not checked further; the other one still is
    assert any(
        "models.cmd.train: program 'no-such-program-xyz' is not on PATH" in line for line in lines
    )


def test_console_script(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, '[models.m]\nentry = "no_such_module_q:run"\n')
    proc = subprocess.run(["foldrun", "check", str(spec)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "models.m.entry: cannot import 'no_such_module_q': ModuleNotFoundError" in proc.stderr
    (tmp_path / "no_such_module_q.py").write_text("def run(ctx):\n    return None\n")
    proc = subprocess.run(["foldrun", "check", str(spec)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr  # modules beside the spec import
    assert "1 model(s), 1 variant(s), 10 task(s)" in proc.stdout


def test_missing_columns_name_the_column(tmp_path: Path) -> None:
    head = BASE.replace('group = "patient"', 'group = "patien"\nfeatures = ["x1", "x9"]')
    lines = problem_lines(write_spec(tmp_path, '[models.m]\nentry = "os:getcwd"\n', head=head))
    assert lines == [
        f"{tmp_path / 'foldrun.toml'}: data.group: column 'patien': not in samples.csv; "
        "did you mean 'patient'?",
        f"{tmp_path / 'foldrun.toml'}: data.features: column 'x9': not in samples.csv; "
        "the columns are: id, label, patient, x1, x2",
    ]


def test_missing_target_and_id_columns(tmp_path: Path) -> None:
    head = BASE.replace('target = "label"', 'target = ["a", "b"]').replace(
        'id = "id"', 'id = "ident"'
    )
    lines = problem_lines(write_spec(tmp_path, '[models.m]\nentry = "os:getcwd"\n', head=head))
    assert lines[0].split(": ")[1] == "data.id"
    assert sum("data.target: column" in line for line in lines) == 2


def test_missing_table(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, '[models.m]\nentry = "os:getcwd"\n')
    (tmp_path / "samples.csv").unlink()
    assert "data.table: data table not found" in only_problem(spec)


def test_unreadable_table(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, '[models.m]\nentry = "os:getcwd"\n')
    (tmp_path / "samples.csv").write_bytes(b"")
    assert "data.table: the data table is empty" in only_problem(spec)
    (tmp_path / "samples.csv").write_bytes(b"\xff\xfe\x00bad")
    assert "data.table: cannot read the data table" in only_problem(spec)


def test_parquet_table_is_read(tmp_path: Path) -> None:
    import pandas as pd

    spec = write_spec(tmp_path, '[models.m]\nentry = "os:getcwd"\n')
    pd.read_csv(tmp_path / "samples.csv").to_parquet(tmp_path / "samples.parquet")
    spec.write_text(spec.read_text().replace("samples.csv", "samples.parquet"))
    assert problem_lines(spec) == []
    spec.write_text(spec.read_text().replace('target = "label"', 'target = "lable"'))
    assert "column 'lable': not in samples.parquet; did you mean 'label'?" in only_problem(spec)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (
            'estimator = "sklearn.ensemble:RandomForestClasifier"',
            "models.m.estimator: module 'sklearn.ensemble' has no 'RandomForestClasifier'; "
            "did you mean 'RandomForestClassifier'?",
        ),
        (
            'estimator = "sklearn.linear_model:LogisticRegression"\npreprocess = ["nosuchmod:X"]',
            "models.m.preprocess[0]: cannot import 'nosuchmod': ModuleNotFoundError",
        ),
        ('entry = "no_module_here.sub:run"', "models.m.entry: cannot import 'no_module_here.sub'"),
        ('entry = "os"', "models.m.entry: 'os' must look like 'module:Name'"),
    ],
)
def test_imports(tmp_path: Path, model: str, expected: str) -> None:
    assert expected in only_problem(write_spec(tmp_path, f"[models.m]\n{model}\n"))


def test_module_failing_on_import_reports_its_error(tmp_path: Path) -> None:
    (tmp_path / "broken_mod_q.py").write_text("raise RuntimeError('boom at import')\n")
    line = only_problem(write_spec(tmp_path, '[models.m]\nentry = "broken_mod_q:run"\n'))
    assert "cannot import 'broken_mod_q': RuntimeError: boom at import" in line


@pytest.mark.parametrize(
    ("train", "expected"),
    [
        ("not-on-path-q {train}", "program 'not-on-path-q' is not on PATH"),
        ("python missing_train.py {train}", "script 'missing_train.py' not found"),
        ("./run.sh {train}", "program './run.sh' not found"),
        ("python 'unclosed {train}", "the command is not valid shell"),
    ],
)
def test_commands(tmp_path: Path, train: str, expected: str) -> None:
    spec = write_spec(tmp_path, f'[models.m]\ntrain = "{train}"\npredict = "true {{test}}"\n')
    assert f"models.m.train: {expected}" in only_problem(spec)


def test_commands_that_are_fine(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("")
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    spec = write_spec(
        tmp_path,
        """
[models.a]
train = "CUDA_LAUNCH_BLOCKING=1 python -u train.py --in {train}"
predict = "./run.sh {test} && echo done"
refit = "python -m foldrun --help"
[models.b]
train = "python3 -c 'print(1)'"
predict = "awk '{print $1}' {test}"
""",
    )
    assert problem_lines(spec) == []


def test_unknown_placeholder_and_stage(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        """
[models.m]
train = "true {train} {threshold}"
predict = "true {test} {threshold}"
[models.m.stages.predict]
grid = { threshold = [0.3] }
[models.m.stages.traing]
resources = { cpus = 2 }
""",
    )
    lines = problem_lines(spec)
    assert len(lines) == 2
    assert (
        "models.m.stages.traing: this model has no stage 'traing'; did you mean 'train'?"
        in (lines[0])
    )
    assert "models.m.train: unknown placeholder {threshold}" in lines[1]


def test_split_from_missing(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, '[models.m]\nentry = "os:getcwd"\n')
    spec.write_text(spec.read_text().replace('from = "split"', 'from = "nosplit"'))
    assert "split.from: split folder" in only_problem(spec)
    assert "not found; run 'foldrun split' first" in only_problem(spec)


def test_split_from_without_folds(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, '[models.m]\nentry = "os:getcwd"\n')
    (tmp_path / "empty").mkdir()
    spec.write_text(spec.read_text().replace('from = "split"', 'from = "empty"'))
    assert "split.from: the split folder has no fold folders" in only_problem(spec)


@pytest.mark.parametrize(
    ("split", "expected"),
    [
        ('strategy = "grouped"', "split.strategy: strategy 'grouped' needs [data] group"),
        ('strategy = "predefined"', "split.fold_column: strategy 'predefined' needs fold_column"),
        ('strategy = "multilabel"', "split.strategy: strategy 'multilabel' needs [data] target"),
        ('val = "next-fold"\nfolds = 2', "split.val: val = 'next-fold' needs folds >= 3"),
        ('stratify = ["nope"]', "split.stratify: column 'nope': not in samples.csv"),
        ("folds = 1", "split.folds: Input should be greater than or equal to 2"),
    ],
)
def test_split_options(tmp_path: Path, split: str, expected: str) -> None:
    head = BASE.replace('group = "patient"\n', "").replace('from = "split"', split)
    spec = write_spec(tmp_path, '[models.m]\nentry = "os:getcwd"\n', head=head)
    assert expected in "\n".join(problem_lines(spec))


def test_mlflow_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a)
    )
    spec = write_spec(tmp_path, '[models.m]\nentry = "os:getcwd"\n[mlflow]\nexperiment = "x"\n')
    expected = 'mlflow: mlflow is not installed; pip install "foldrun[mlflow]"'
    assert only_problem(spec).endswith(expected)


def test_schema_error_elsewhere_does_not_hide_data_problems(tmp_path: Path) -> None:
    head = BASE.replace('target = "label"', 'target = "lbl"') + "typo = 1\n"
    lines = problem_lines(write_spec(tmp_path, '[models.m]\nentry = "os:getcwd"\n', head=head))
    assert any("split.typo: unknown key" in line for line in lines)
    assert any("data.target: column 'lbl'" in line for line in lines)


def test_shell_keywords_and_builtins_are_fine_in_a_command(tmp_path: Path) -> None:
    from foldrun.plan.check import command_problem

    (tmp_path / "train.py").write_text("")
    line = ("source env/bin/activate && cd . && export A=1; for f in a b; do python train.py "
            "--x {x} $f; done; if [ -n \"$A\" ]; then echo ok; fi")
    assert command_problem(line, tmp_path) is None
    assert "nosuchprog" in command_problem("cd . && nosuchprog --y", tmp_path)
    assert "train2.py" in command_problem("for f in a; do python train2.py; done", tmp_path)
    assert "nosuch" in command_problem("if nosuch; then echo; fi", tmp_path)


def test_val_or_holdout_placeholder_without_such_a_split_is_a_problem(tmp_path: Path) -> None:
    import pandas as pd

    from foldrun.plan.check import check_spec

    (tmp_path / "t.py").write_text("")
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(20)], "x": range(20),
                          "y": [0, 1] * 10})
    frame.to_csv(tmp_path / "d.csv", index=False)
    spec = tmp_path / "foldrun.toml"
    spec.write_text('name = "v"\n[data]\ntable = "d.csv"\nid = "id"\ntarget = "y"\n'
                    '[split]\nfolds = 2\n[models.m]\n'
                    'train = "python t.py {train} {val} {out}"\n'
                    'predict = "python t.py {test} {holdout} {predictions}"\n')
    lines = [p.line() for p in check_spec(spec)]
    assert any("models.m.train" in line and "{val}" in line for line in lines), lines
    assert any("models.m.predict" in line and "{holdout}" in line for line in lines), lines
    spec.write_text(spec.read_text().replace("folds = 2", "folds = 3\nval = 'next-fold'\n"
                                             "holdout = 0.2"))
    assert check_spec(spec) == []


def test_the_task_count_includes_inner_folds_as_the_plan_does(tmp_path: Path) -> None:
    from foldrun.plan import build_plan
    from foldrun.spec import load_spec

    head = BASE.replace('from = "split"', "folds = 3\ninner = 2")
    spec = write_spec(tmp_path, OK_MODELS, head=head)
    result = CliRunner().invoke(cli, ["check", str(spec)])
    assert result.exit_code == 0, result.output
    # rf and cmd have variants to choose from: their fold stages run on 2 inner folds too
    planned = len(build_plan(load_spec(spec)).tasks)
    assert f"{planned} task(s) over 3 fold(s)" in result.output
    assert planned == 10 + 4 * (9 * 3 + 1) + (3 * 3 + 3 * 6 * 3)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "line",
    [
        "case {fold} in 0) val=a;; 1) val=b;; esac; python -c 1 $val",
        "case {fold} in 0|1) python -c 1 ;; *) python -c 2 ;; esac",
        's=$(( {fold} + 1 )); printf "%s" $s',
        "x=$(date +%s); (cd . && echo $x); arr=(a b); f() { echo; }; ((n++)); f",
    ],
)
def test_shell_syntax_is_not_read_as_programs(tmp_path: Path, line: str) -> None:
    """`run` executes these with bash; check must not say "program 'val' is not on PATH"."""
    from foldrun.plan.check import command_problem

    assert command_problem(line, tmp_path) is None


def test_programs_inside_shell_syntax_are_still_checked(tmp_path: Path) -> None:
    from foldrun.plan.check import command_problem

    assert "nosuch1" in command_problem("case $x in a|b) nosuch1 --y;; esac", tmp_path)
    assert "nosuch2" in command_problem("(cd . && nosuch2)", tmp_path)
    assert "nosuch3" in command_problem("s=$(( 1 + 2 )); nosuch3 $s", tmp_path)


def _template_spec(tmp_path: Path, model: str, split: str = "folds = 3") -> Path:
    import pandas as pd

    (tmp_path / "t.py").write_text("")
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(20)], "x": range(20), "y": [0, 1] * 10})
    frame.to_csv(tmp_path / "d.csv", index=False)
    spec = tmp_path / "foldrun.toml"
    spec.write_text(f'name = "v"\n[data]\ntable = "d.csv"\nid = "id"\ntarget = "y"\n'
                    f"[split]\n{split}\n[models.m]\n{model}")  # fmt: skip
    return spec


@pytest.mark.parametrize(
    ("model", "stage", "expected"),
    [
        ('train = "python t.py {train} {fold1:02d} {lr:.0e}"\nparams = { lr = "fast" }\n',
         "train", "{lr:.0e} cannot format 'fast'"),
        ('train = "python t.py {fold1:02d}"\nrefit = "python t.py {train} {fold1:02d}"\n',
         "refit", "{fold1:02d} cannot format 'all'"),
        ('train = "python t.py {fold:q}"\n', "train", "{fold:q} cannot format 0"),
        ('train = "python t.py {fold?--fold}"\n', "train", "{fold} is foldrun's own value"),
        ('train = "python t.py {train}"\nrefit = "python t.py {train} {val}"\n',
         "refit", "{val} is used but refit has no val set"),
        ('train = "python t.py {train}"\nrefit = "python t.py {train} {test}"\n',
         "refit", "{test} in refit is the holdout, and the split has none"),
        ('train = "python t.py {epochs:03d}"\n', "train", "unknown placeholder {epochs}"),
        # Python format syntax foldrun does not fill: left alone, it reached the program
        # as written (`{fold!r}`), and check said ok
        ('train = "python t.py {fold!r}"\n', "train", "{fold!r} is not a form foldrun fills"),
        ('train = "python t.py {train}"\npredict = "python t.py {lr[0]} {predictions}"\n'
         "params = { lr = [1, 2] }\n", "predict", "{lr[0]} is not a form foldrun fills"),
        ('train = "python t.py {out.parent}"\n', "train", "{out.parent} is not a form"),
        ('train = "python t.py {fold1:02dd}"\n', "train", "{fold1:02dd} is not a form"),
    ],
)
def test_template_mistakes_are_one_check_line(
    tmp_path: Path, model: str, stage: str, expected: str
) -> None:
    """Each names the model and stage (`models.m.<stage>`) and the placeholder."""
    line = only_problem(_template_spec(tmp_path, model))
    assert f"models.m.{stage}" in line and expected in line, line


def test_a_programs_own_braces_pass_check(tmp_path: Path) -> None:
    """An f-string, awk, a dict comprehension, bash's ${fold:-0} and a literal {{fold!r}}
    are the program's own text: only a placeholder's name in an unfilled form is refused."""
    command = ("python -c \"import sys; print(f'{sys.argv!r}', {k: 1 for k in 'ab'})\" "
               "{train} | awk '{print $1}' ${fold:-0} {{fold!r}}")
    model = f"train = '''{command}'''\nparams = {{ k = 1 }}\n"
    assert problem_lines(_template_spec(tmp_path, model)) == []


def test_a_conversion_is_one_line_at_foldrun_check(tmp_path: Path) -> None:
    spec = _template_spec(tmp_path, 'train = "python t.py {train} {fold!r}"\n')
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(cli, ["check", str(spec)])
    assert result.exit_code == 2
    first = result.output.splitlines()[0]
    assert "models.m.train: {fold!r} is not a form foldrun fills" in first, result.output
    assert "use {fold}" in first
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_format_specs_and_refit_test_with_a_holdout_pass_check(tmp_path: Path) -> None:
    model = ('train = "python t.py {train} fold_{fold1:02d} --lr {lr:.0e} {amp?--amp}"\n'
             'refit = "python t.py {train} {test} {fold:+d}"\n'
             "params = { lr = 3e-4, amp = true }\n")  # fmt: skip
    assert problem_lines(_template_spec(tmp_path, model, "folds = 3\nholdout = 0.2")) == []


def test_group_may_be_a_list_in_the_spec(tmp_path: Path) -> None:
    import pandas as pd

    from foldrun.plan.split import make_split
    from foldrun.spec import load_spec

    spec = _template_spec(tmp_path, 'train = "python t.py {train}"\n')
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(24)], "x": range(24),
                          "y": [0, 1] * 12, "t": ["a", "b"] * 12, "s": [0, 0, 1, 1] * 6})
    frame.to_csv(tmp_path / "d.csv", index=False)
    spec.write_text(spec.read_text().replace('target = "y"', 'target = "y"\ngroup = ["t", "s"]'))
    assert problem_lines(spec) == []
    folds = make_split(load_spec(spec))
    rows = frame.assign(fold=folds.test_fold[0])
    assert (rows.groupby(["t", "s"])["fold"].nunique() == 1).all()
    spec.write_text(spec.read_text().replace('["t", "s"]', '["t", "site"]'))
    assert "data.group: column 'site'" in only_problem(spec)


def test_code_entries_that_name_no_file_are_check_lines(tmp_path: Path) -> None:
    spec = _template_spec(tmp_path, 'train = "python t.py {train}"\ncode = ["src/"]\n')
    line = only_problem(spec)
    assert "models.m.code" in line and "code entry 'src/' names no file" in line
    (tmp_path / "src").mkdir()
    (tmp_path / "src/a.py").write_text("")
    assert problem_lines(spec) == []
    spec.write_text(spec.read_text().replace("[split]", "[defaults]\ncode = ['..']\n[split]"))
    assert "defaults.code: code entry '..'" in only_problem(spec)


@pytest.mark.parametrize("onto", ["fold", "subset"])
def test_a_rename_onto_a_column_of_the_fold_table(tmp_path: Path, onto: str) -> None:
    """Hostile round 3: x -> 'fold' with {fold_table} passed check and the program's fold
    table held one 'fold' column: the fold numbers, the feature's values gone."""
    models = f"""
    [models.m]
    train = "cp {{fold_table}} {{out}}/t.csv"
    manifests = {{ rename = {{ x1 = "{onto}" }} }}
    """
    assert f"rename gives 'x1' the name of the column '{onto}'" in only_problem(
        write_spec(tmp_path, models))
    renamed_too = models.replace(f'x1 = "{onto}"', f'x1 = "{onto}", {onto} = "{onto}_"')
    assert problem_lines(write_spec(tmp_path, renamed_too)) == []
    plain = models.replace("{fold_table}", "{train}")  # no fold table: no clash
    assert problem_lines(write_spec(tmp_path, plain)) == []


def test_a_table_column_named_like_a_column_of_the_fold_table(tmp_path: Path) -> None:
    """Hostile round 3: a data column named 'subset' was replaced by the fold table's own."""
    models = '[models.m]\ntrain = "cp {fold_table} {out}/t.csv"\n'
    spec = write_spec(tmp_path, models)
    text = (tmp_path / "samples.csv").read_text()
    (tmp_path / "samples.csv").write_text(text.replace("x2", "subset", 1))
    assert "column 'subset' has the name of a column {fold_table} adds" in only_problem(spec)
    renamed = models + 'manifests = { rename = { subset = "x2" } }\n'
    assert problem_lines(write_spec(tmp_path, renamed)) == []


def test_a_proba_table_naming_no_class_of_the_target(tmp_path: Path) -> None:
    """Hostile round 3: proba = { 0 = ..., maybe = ... } passed check, and every fold was
    done and scored on a class 'maybe' the target never has (roc_auc NaN, a brier of it)."""
    models = """
    [models.m]
    train = "true"
    predict = "true {test} {predictions}"
    [models.m.predictions]
    proba = { "0" = "p0", maybe = "p1" }
    """
    problem = only_problem(write_spec(tmp_path, models))
    assert "proba names 'maybe', not a class of 'label'" in problem
    assert problem_lines(write_spec(tmp_path, models.replace("maybe", '"1"'))) == []
