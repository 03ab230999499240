"""The user's code beside the spec is part of each task's fingerprint (Snakemake's code
trigger): editing a script makes the tasks that run it stale, and status names the file."""

from __future__ import annotations

import json
from pathlib import Path

from foldrun.plan.code import code_files
from tests.reliability.helpers import foldrun, project


def test_command_names_its_scripts_and_modules(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    for name in ("train.py", "src/__init__.py", "src/fit.py", "run.sh", "conf.yaml"):
        (tmp_path / name).write_text("x")
    spec_dir = tmp_path.resolve()
    found = code_files(spec_dir, "source env/bin/activate && python train.py --c conf.yaml "
                       "--train {train} && python -m src.fit --x=run.sh", [])
    assert [p.name for p in found] == ["run.sh", "fit.py", "train.py"]
    assert code_files(spec_dir, None, ["src.fit:Model", "sklearn.svm:SVC", None]) == [
        spec_dir / "src/fit.py"]
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
