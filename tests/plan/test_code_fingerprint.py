"""The user's code beside the spec is part of each task's fingerprint (Snakemake's code
trigger): editing a script makes the tasks that run it stale, and status names the file."""

from __future__ import annotations

import json
from pathlib import Path

from foldrun.plan.code import code_files
from tests.reliability.helpers import invoke as foldrun  # main() in this process
from tests.reliability.helpers import project


def test_command_names_its_scripts_and_modules(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    for name in ("train.py", "src/__init__.py", "src/fit.py", "run.sh", "conf.yaml"):
        (tmp_path / name).write_text("x")
    spec_dir = tmp_path.resolve()
    found = code_files(spec_dir, "source env/bin/activate && python train.py --c conf.yaml "
                       "--train {train} && python -m src.fit --x=run.sh", [])
    # -m src.fit runs src/__init__.py too
    assert [p.name for p in found] == ["run.sh", "__init__.py", "fit.py", "train.py"]
    assert code_files(spec_dir, None, ["src.fit:Model", "sklearn.svm:SVC", None]) == [
        spec_dir / "src/__init__.py", spec_dir / "src/fit.py"]
    outside = tmp_path.parent / "elsewhere.py"
    outside.write_text("x")
    assert code_files(spec_dir, f"python {outside} ../elsewhere.py", []) == []


def test_an_edited_script_makes_its_tasks_stale_and_status_names_it(tmp_path: Path) -> None:
    project(tmp_path, folds=2, grid=1)
    assert foldrun("run", "foldrun.toml", cwd=tmp_path).returncode == 0
    code = json.loads((tmp_path / "runs/toy/tasks/toy/k0/fold_00/train/code.json").read_text())
    assert list(code) == ["model.py"]
    with open(tmp_path / "model.py", "a") as fh:
        fh.write("# a fix between folds\n")
    status = foldrun("status", "foldrun.toml", "--format", "json", cwd=tmp_path)
    tasks = json.loads(status.stdout)["tasks"]
    stale = [t for t in tasks if t["state"] == "stale"]
    assert {t["stage"] for t in stale} == {"train", "predict", "evaluate"}
    assert all(t["why"] == "changed: model.py" for t in stale if t["stage"] != "evaluate")
    refused = foldrun("run", "foldrun.toml", cwd=tmp_path)
    assert refused.returncode == 2 and "stale" in refused.stderr
    assert foldrun("run", "foldrun.toml", "--force", cwd=tmp_path).returncode == 0


def test_the_switch_turns_it_off(tmp_path: Path) -> None:
    spec = project(tmp_path, folds=2, grid=1)
    spec.write_text(spec.read_text() + "\n[defaults]\nfingerprint_code = false\n")
    assert foldrun("run", "foldrun.toml", cwd=tmp_path).returncode == 0
    with open(tmp_path / "model.py", "a") as fh:
        fh.write("# edited\n")
    assert foldrun("status", "foldrun.toml", cwd=tmp_path).returncode == 0  # all still done


def _local_modules(root: Path) -> None:
    """train.py -> lib/helpers.py -> lib/qc_utils.py (seed 000's qc_utils.py), and src/."""
    (root / "lib").mkdir()
    (root / "src").mkdir()
    (root / "train.py").write_text("import json\nimport lib.helpers\nfrom src import model\n")
    (root / "lib/__init__.py").write_text("")
    (root / "lib/helpers.py").write_text("from . import qc_utils\nfrom .qc_utils import f\n")
    (root / "lib/qc_utils.py").write_text("import numpy as np\n\ndef f():\n    return np.e\n")
    (root / "src/__init__.py").write_text("")
    (root / "src/model.py").write_text("import sklearn.svm\nfrom .missing import x\n")
    (root / "broken.py").write_text("def (:\n")


def test_python_files_bring_the_local_modules_they_import(tmp_path: Path) -> None:
    from foldrun.plan.code import imported_packages

    _local_modules(tmp_path)
    spec_dir = tmp_path.resolve()
    found = code_files(spec_dir, "python train.py {train}", [])
    assert [str(p.relative_to(spec_dir)) for p in found] == [
        "lib/__init__.py", "lib/helpers.py", "lib/qc_utils.py", "src/__init__.py",
        "src/model.py", "train.py"]  # fmt: skip
    assert imported_packages(spec_dir, found) == ("numpy", "sklearn")  # json: stdlib
    by_module = code_files(spec_dir, "python -m lib.helpers", ["broken:f"])
    assert [p.name for p in by_module] == ["broken.py", "__init__.py", "helpers.py",
                                           "qc_utils.py"]  # fmt: skip


def test_code_entries_add_files_folders_and_globs(tmp_path: Path) -> None:
    import pytest

    from foldrun.errors import PlanError

    _local_modules(tmp_path)
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs/base.yaml").write_text("a: 1\n")
    (tmp_path / "configs/x.yaml").write_text("a: 2\n")
    (tmp_path / "src/__pycache__").mkdir()
    (tmp_path / "src/__pycache__/model.pyc").write_text("")
    spec_dir = tmp_path.resolve()
    found = code_files(spec_dir, None, [], ["src/", "configs/*.yaml", "broken.py"])
    assert sorted(str(p.relative_to(spec_dir)) for p in found) == [
        "broken.py", "configs/base.yaml", "configs/x.yaml", "src/__init__.py", "src/model.py"]
    with pytest.raises(PlanError, match="code entry 'conf/' names no file"):
        code_files(spec_dir, None, [], ["conf/"])
    with pytest.raises(PlanError, match="names no file"):
        code_files(spec_dir, None, [], ["../"])


SPEC = """\
name = "qc"
[data]
table = "t.csv"
id = "id"
target = "y"
[split]
folds = 2
[models.qc]
train = "python train.py {test} {predictions}"
[models.other]
train = "python other.py {test} {predictions}"
code = ["configs/"]
"""
PREDICT = ("import csv, sys\nw = open(sys.argv[2], 'w')\nw.write('id,score\\n')\n"
           "for r in csv.DictReader(open(sys.argv[1])):\n    w.write(f\"{r['id']},0.5\\n\")\n")


def test_a_module_two_levels_down_makes_exactly_its_models_tasks_stale(tmp_path: Path) -> None:
    """Issue 24's acceptance: status names the module; the other model stays done."""
    import pandas as pd

    import foldrun.api as fr

    _local_modules(tmp_path)
    (tmp_path / "src/model.py").write_text("import sklearn.svm\n")
    (tmp_path / "train.py").write_text((tmp_path / "train.py").read_text() + PREDICT)
    (tmp_path / "other.py").write_text(PREDICT)
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs/base.yaml").write_text("a: 1\n")
    pd.DataFrame({"id": [f"s{i}" for i in range(12)], "y": [0, 1] * 6}).to_csv(
        tmp_path / "t.csv", index=False)
    (tmp_path / "foldrun.toml").write_text(SPEC)
    project = fr.Project.load(tmp_path / "foldrun.toml")
    assert project.run(jobs=1).ok
    task = tmp_path / "runs/qc/tasks/qc/default/fold_00/train"
    assert "lib/qc_utils.py" in json.loads((task / "code.json").read_text())
    versions = json.loads((task / "packages.json").read_text())
    assert versions["numpy"] == __import__("numpy").__version__ and "scikit-learn" in versions
    with open(tmp_path / "lib/qc_utils.py", "a") as fh:
        fh.write("# a fix\n")
    tasks = project.status().tasks
    assert {t.model for t in tasks} == {"qc", "other"}
    assert {t.state for t in tasks if t.model == "other"} == {"done"}
    stale = [t for t in tasks if t.model == "qc"]
    assert {t.state for t in stale} == {"stale"}
    assert {t.why for t in stale if t.stage == "train"} == {"changed: lib/qc_utils.py"}
    (tmp_path / "configs/base.yaml").write_text("a: 2\n")
    whys = {t.why for t in project.status().tasks if t.model == "other" and t.stage == "train"}
    assert whys == {"changed: configs/base.yaml"}
