"""A spec's module that ends the process as it is imported: a training script beside
foldrun.toml that parses its command line at the top (argparse exits on a missing
argument), or calls sys.exit there. foldrun must say so, not exit with the script's
message as if it were its own."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from foldrun.core.imports import ModuleExited, resolve
from tests.reliability.helpers import foldrun

SCRIPT = """import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
args = parser.parse_args()
def run_fold(ctx):
    return None
"""


def test_a_module_calling_sys_exit_on_import_is_an_import_error(tmp_path: Path) -> None:
    name = f"exits_{tmp_path.name}"
    (tmp_path / f"{name}.py").write_text("import sys\nsys.exit(3)\n")
    with pytest.raises(ModuleExited, match=r"sys\.exit\(3\)"):  # not SystemExit
        resolve(f"{name}:f", tmp_path)


def test_check_lists_a_script_that_parses_its_arguments_on_import(tmp_path: Path) -> None:
    """`foldrun check` ended with argparse's 'usage: foldrun ...' and 'foldrun: error: the
    following arguments are required: --lr', exit 2, and no other problem listed."""
    pd.DataFrame({"id": [f"s{i}" for i in range(20)], "a": range(20),
                  "label": [0, 1] * 10}).to_csv(tmp_path / "samples.csv", index=False)  # fmt: skip
    (tmp_path / "train.py").write_text(SCRIPT)
    (tmp_path / "foldrun.toml").write_text("""name = "t"
[data]
table = "samples.csv"
id = "id"
target = "label"
[split]
folds = 2
[models.script]
entry = "train:run_fold"
[models.typo]
estimator = "sklearn.linear_model:LogisticRegresion"
""")
    done = foldrun("check", str(tmp_path / "foldrun.toml"))
    assert done.returncode == 2
    assert "models.script.entry: cannot import 'train'" in done.stderr, done.stderr
    assert "sys.exit(2)" in done.stderr
    assert "models.typo.estimator" in done.stderr  # the other problems still listed
