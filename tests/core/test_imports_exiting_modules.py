"""A spec's module that ends the process as it is imported: a training script beside
foldrun.toml that parses its command line at the top (argparse exits on a missing
argument), or calls sys.exit there. foldrun must say so, not exit with the script's
message as if it were its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from foldrun.core.imports import ModuleExited, resolve
from tests.reliability.helpers import foldrun, table
from tests.run.test_user_code import HEAD

SCRIPT = """import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
args = parser.parse_args()
def run_fold(ctx):
    return None
"""


def _project(root: Path, models: str) -> None:
    table().to_csv(root / "samples.csv", index=False)
    (root / "foldrun.toml").write_text(HEAD + models)


def test_a_module_calling_sys_exit_on_import_is_an_import_error(tmp_path: Path) -> None:
    name = f"exits_{tmp_path.name}"
    (tmp_path / f"{name}.py").write_text("import sys\nsys.exit(3)\n")
    with pytest.raises(ModuleExited, match=r"sys\.exit\(3\)"):  # not SystemExit
        resolve(f"{name}:f", tmp_path)


def test_check_lists_a_script_that_parses_its_arguments_on_import(tmp_path: Path) -> None:
    """`foldrun check` ended with argparse's 'usage: foldrun ...' and 'foldrun: error: the
    following arguments are required: --lr', exit 2, and no other problem listed."""
    (tmp_path / "train.py").write_text(SCRIPT)
    _project(tmp_path, '[models.script]\nentry = "train:run_fold"\n'
             '[models.typo]\nestimator = "sklearn.linear_model:LogisticRegresion"\n')  # fmt: skip
    done = foldrun("check", str(tmp_path / "foldrun.toml"))
    assert done.returncode == 2
    assert "models.script.entry: cannot import 'train'" in done.stderr, done.stderr
    assert "sys.exit(2)" in done.stderr
    assert "models.typo.estimator" in done.stderr  # the other problems still listed


def test_the_spec_folder_goes_on_the_path_only_for_a_module_lying_there(tmp_path: Path) -> None:
    """An installed module (sklearn's) was imported with the spec's folder first on the
    path, kept there by the worker: a random.py beside foldrun.toml then replaced the
    standard library's for every module imported later in the task."""
    import sys

    beside = f"beside_{tmp_path.name}"
    (tmp_path / f"{beside}.py").write_text("X = 1\n")
    try:
        assert resolve("os.path:join", tmp_path, keep=True) is not None
        assert str(tmp_path) not in sys.path
        assert resolve(f"{beside}:X", tmp_path, keep=True) == 1
        assert sys.path[0] == str(tmp_path)
    finally:
        while str(tmp_path) in sys.path:
            sys.path.remove(str(tmp_path))


def test_a_random_py_beside_the_spec_leaves_estimator_tasks_alone(tmp_path: Path) -> None:
    """Every estimator task failed when foldrun ran from the spec's folder: the task
    server (python -m) had that folder first on its path, and importing sklearn (joblib,
    tempfile) imported the user's random.py instead of the standard library's."""
    (tmp_path / "random.py").write_text("raise RuntimeError('the user random.py')\n")
    _project(tmp_path, '[models.lr]\nestimator = "sklearn.linear_model:LogisticRegression"\n')
    done = foldrun("run", "foldrun.toml", "--stages", "train", cwd=tmp_path)  # from there
    assert done.returncode == 0, done.stdout + done.stderr
