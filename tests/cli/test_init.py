"""`foldrun init TABLE`: tried as a new user would, on the table of every example (and the
demo's), the spec it writes passes `check` and `run` completes; it never replaces a file."""

from __future__ import annotations

import runpy
import shutil
import tomllib
from pathlib import Path

import pytest

from foldrun.cli import main
from foldrun.data.scan import scan
from foldrun.data.table import write_table

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
IGNORE = shutil.ignore_patterns("runs", "*.csv", "*.npz", "data", "splits", "__pycache__",
                                "foldrun.toml")  # fmt: skip


def foldrun(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The console script in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def example(name: str, tmp_path: Path) -> Path:
    """The example's programs and its data (its make_data.py run here), without its spec."""
    root = tmp_path / name
    shutil.copytree(EXAMPLES / name, root, ignore=IGNORE)
    runpy.run_path(str(root / "make_data.py"), run_name="__main__")
    return root


def init_check_run(capsys: pytest.CaptureFixture[str], root: Path, table: str,
                   *options: str, model: str) -> dict:  # fmt: skip
    """init, check, then run fold 0 of `model` (the whole run is what check counts)."""
    spec = root / "foldrun.toml"
    code, out, err = foldrun(capsys, "init", str(root / table), "--out", str(spec), *options)
    assert code == 0, err
    assert f"wrote {spec}" in out
    code, out, err = foldrun(capsys, "check", str(spec))
    assert code == 0, err
    code, out, err = foldrun(capsys, "run", str(spec), "--folds", "0", "--models", model)
    assert code == 0, out + err
    assert "failed" not in out
    return tomllib.loads(spec.read_text())


def test_000_regression_with_subjects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = example("000-mri-qc", tmp_path)
    spec = init_check_run(capsys, root, "scans.csv", "--target", "qu_motion", model="ridge")
    assert spec["data"] | {"table": None} == {"table": None, "id": "scan", "target": "qu_motion",
                                               "task": "regression", "group": "subject"}
    assert spec["split"]["strategy"] == "continuous"
    assert spec["report"]["primary_metric"] == "rmse"
    assert list(root.glob("runs/scans/tasks/ridge/default/fold_00/evaluate/DONE"))


def test_001_label_free_program(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No target: the program's command line becomes the template, its options params."""
    root = example("001-spectra-denoiser", tmp_path)
    program = ("python -m src.train --train_manifest spectra.csv --val_manifest v.csv "
               "--spectra spectra.npz --film_features cos_theta --components 2 --epochs 3 "
               "--lr 0.001 --log_dir logs --checkpoint_dir ckpt --audit_log audit.log")  # fmt: skip
    spec = init_check_run(capsys, root, "spectra.csv", "--group", "sample", "--program", program,
                          model="train")  # fmt: skip
    model = spec["models"]["train"]
    assert model["train"] == (
        "python -m src.train --train_manifest {train} --val_manifest {val} --spectra {spectra}"
        " --film_features {film_features} --components {components} --epochs {epochs}"
        " --lr {lr} --log_dir {log_dir} --checkpoint_dir {out} --audit_log {audit_log}"
    )
    assert model["params"] == {"spectra": "spectra.npz", "film_features": "cos_theta",
                               "components": 2, "epochs": 3, "lr": 0.001, "log_dir": "logs",
                               "audit_log": "audit.log"}  # fmt: skip
    assert "target" not in spec["data"] and spec["split"]["val"] == "next-fold"
    assert spec["split"]["strategy"] == "grouped"
    assert list(root.glob("runs/spectra/tasks/train/default/fold_00/train/DONE"))


def test_002_a_program_that_reads_every_fold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A table of files (foldrun scan), a program given the whole table and a fold number:
    it gets {fold_table}. Its own column names, output file and need of validation rows are
    what only its author knows: added as init's comments say, then the fold runs."""
    root = example("002-mpower-audio", tmp_path)
    found = scan(root / "data/melSpec", "{healthCode}_{record_id}_{column_id}.jpg",
                 root / "data/Demographics_Survey.csv", "healthCode", root)  # fmt: skip
    write_table(found.table, root / "recordings.csv")
    program = ("python inception.py --csv-file recordings.csv --fold 0 --out-dir out "
               "--epochs 5")  # fmt: skip
    spec = root / "foldrun.toml"
    code, _, err = foldrun(capsys, "init", str(root / "recordings.csv"), "--out", str(spec),
                           "--target", "professional-diagnosis", "--group", "healthCode",
                           "--program", program)  # fmt: skip
    assert code == 0, err
    written = tomllib.loads(spec.read_text())
    assert written["models"]["inception"]["train"] == (
        "python inception.py --csv-file {fold_table} --fold {fold} --out-dir {out} "
        "--epochs {epochs}")  # fmt: skip
    assert written["data"]["id"] == "record_id"
    assert written["split"]["strategy"] == "stratified-grouped"
    assert written["report"]["primary_metric"] == "balanced_accuracy"  # a program may write labels
    own = ('manifests = { rename = { path = "image_rel_path", "professional-diagnosis" = '
           '"label" } }\npredictions = { file = "{out}/none_fold{fold}_predictions.csv", '
           'id = "record_id", proba = "prob" }\n')  # fmt: skip
    text = spec.read_text().replace("\n[report]", f"{own}\n[report]")
    spec.write_text(text.replace("seed = 0\n", 'seed = 0\nval = "next-fold"\n', 1))
    code, out, err = foldrun(capsys, "check", str(spec))
    assert code == 0, err
    code, out, err = foldrun(capsys, "run", str(spec), "--folds", "0")
    assert code == 0, out + err


@pytest.mark.parametrize(("name", "table", "group"), [
    ("003-video-21-models", "videos.csv", "source"), ("004-animal-calls", "clips.csv", "tape"),
])  # fmt: skip
def test_003_004_estimators(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
                            table: str, group: str) -> None:  # fmt: skip
    root = example(name, tmp_path)
    options = ("--group", group) if group == "tape" else ()  # `source` is found by its name
    spec = init_check_run(capsys, root, table, *options, model="logreg")
    assert (spec["data"]["target"], spec["data"]["group"]) == ("label", group)
    assert spec["split"]["strategy"] == "stratified-grouped"
    assert spec["report"]["primary_metric"] == "roc_auc"
    assert set(spec["models"]) == {"logreg", "boosting"}


def test_demo_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from foldrun.data.example import write_example_table

    write_example_table(tmp_path / "samples.csv")
    spec = init_check_run(capsys, tmp_path, "samples.csv", model="logreg")
    assert (spec["data"]["id"], spec["data"]["group"]) == ("id", "patient")


def test_never_replaces_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from foldrun.data.example import write_example_table

    write_example_table(tmp_path / "samples.csv")
    spec = tmp_path / "foldrun.toml"
    spec.write_text("mine")
    code, out, err = foldrun(capsys, "init", str(tmp_path / "samples.csv"), "--out", str(spec))
    assert code == 2 and spec.read_text() == "mine" and out == ""
    assert err.count("\n") == 1 and "already exists" in err and str(spec) in err


@pytest.mark.parametrize(("args", "words"), [
    (("--target", "nope"), ["--target", "'nope'"]),
    (("--group", "nope"), ["--group", "'nope'"]),
    ((), ["--target COL"]),  # no column named like a label
    (("--target", "a", "--out", "no/such/f.toml"), ["no/such/f.toml", "does not exist"]),
    (("--target", "a", "--program", "python 'unclosed"), ["--program", "shell line"]),
    (("--target", "a", "--program", "a", "--program", "b", "--program", "c"), ["--program"]),
])  # fmt: skip
def test_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               args: tuple[str, ...], words: list[str]) -> None:  # fmt: skip
    table = tmp_path / "t.csv"
    table.write_text("a,b,c\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n")
    code, out, err = foldrun(capsys, "init", str(table), "--out", str(tmp_path / "f.toml"), *args)
    assert code == 2 and out == "" and err.count("\n") == 1 and all(w in err for w in words), err
    assert not (tmp_path / "f.toml").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]  # no temporary file left


def test_multiclass_and_rare_positive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The primary metric follows the classes: balanced accuracy for three, average
    precision for a rare positive class."""
    rows = [f"{i},{i % 7},{'abc'[i % 3]},{int(i % 20 == 0)}" for i in range(200)]
    (tmp_path / "t.csv").write_text("id,x,kind,label\n" + "\n".join(rows) + "\n")
    for target, metric in (("kind", "balanced_accuracy"), ("label", "average_precision")):
        out = tmp_path / f"{target}.toml"
        code, _, err = foldrun(capsys, "init", str(tmp_path / "t.csv"), "--target", target,
                               "--out", str(out))  # fmt: skip
        assert code == 0, err
        assert tomllib.loads(out.read_text())["report"]["primary_metric"] == metric


def test_spec_in_another_folder_and_a_parquet_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table path is written relative to the spec's folder, as the loader reads it."""
    import pandas as pd

    from foldrun.data.example import write_example_table

    write_example_table(tmp_path / "samples.csv")
    pd.read_csv(tmp_path / "samples.csv").to_parquet(tmp_path / "samples.parquet")
    (tmp_path / "exp").mkdir()
    spec = tmp_path / "exp" / "foldrun.toml"
    code, _, err = foldrun(capsys, "init", str(tmp_path / "samples.parquet"), "--out", str(spec))
    assert code == 0, err
    assert tomllib.loads(spec.read_text())["data"]["table"] == "../samples.parquet"
    code, out, err = foldrun(capsys, "check", str(spec))
    assert code == 0 and "ok:" in out, err


def test_program_options_that_are_not_params(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Braces in a value stay literal, a built-in name stays as written, a bare flag stays,
    `--name=value` keeps its form; check accepts the template."""
    from foldrun.data.example import write_example_table

    write_example_table(tmp_path / "samples.csv")
    (tmp_path / "fit.py").write_text("print('hi')\n")
    program = ("python fit.py --data=samples.csv --pattern '{x}_{y}' --model cnn --verbose "
               "--batch-size 32 --output-dir out --seed 1")  # fmt: skip
    spec = tmp_path / "foldrun.toml"
    code, _, err = foldrun(capsys, "init", str(tmp_path / "samples.csv"), "--program", program,
                           "--out", str(spec))  # fmt: skip
    assert code == 0, err
    model = tomllib.loads(spec.read_text())["models"]["fit"]
    assert model["train"] == ("python fit.py --data={train} --pattern {pattern} --model cnn "
                              "--verbose --batch-size {batch_size} --output-dir {out} "
                              "--seed {seed}")  # fmt: skip
    assert model["params"] == {"pattern": "{x}_{y}", "batch_size": 32}
    code, _, err = foldrun(capsys, "check", str(spec))
    assert code == 0, err


def test_a_starter_that_does_not_load_is_never_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in init must not leave the user a broken spec: the loader reads it first."""
    from foldrun.cli import init
    from foldrun.data.example import write_example_table

    write_example_table(tmp_path / "samples.csv")
    render = init.render
    monkeypatch.setattr(init, "render", lambda *a: render(*a).replace("[split]", "[splitt]"))
    code, out, err = foldrun(capsys, "init", str(tmp_path / "samples.csv"), "--out",
                             str(tmp_path / "foldrun.toml"))  # fmt: skip
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "does not load (splitt: unknown key" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samples.csv"]


def test_a_table_with_a_header_and_no_rows(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """Hostile round 3: a header and no rows crashed (ValueError from the split's codes)."""
    table = tmp_path / "t.csv"
    table.write_text("id,target\n")
    code, out, err = foldrun(capsys, "init", str(table), "--out", str(tmp_path / "f.toml"))
    assert code == 2 and out == "" and err.count("\n") == 1 and "no rows" in err, err
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]
