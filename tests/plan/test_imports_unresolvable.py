"""`check`'s reading of a dependency's source must never say "ok" for a reference that
fails when a task imports it, nor crash on one that a module refuses."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from foldrun.plan import imports


def _fresh(code: str) -> str:
    """Run in a fresh interpreter: there the dependencies are not imported yet, so the
    source read is what answers."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _checked(refs: list[str]) -> list[str]:
    code = (
        "from pathlib import Path; from foldrun.plan.imports import import_problem\n"
        f"for ref in {refs!r}:\n"
        "    print(repr(import_problem(ref, Path('.'))))"
    )
    return _fresh(code).splitlines()


def test_a_name_only_imported_for_type_checkers_is_not_ok() -> None:
    """sklearn.impute binds IterativeImputer only under `if typing.TYPE_CHECKING:` (and its
    module __getattr__ raises ImportError until the experimental flag is imported): a task
    importing it fails, so check must say so, not crash and not pass it."""
    out = _checked(["sklearn.impute:IterativeImputer", "sklearn.impute:SimpleImputer"])
    assert "enable_iterative_imputer" in out[0] and "ImportError" in out[0]
    assert out[1] == "None"


def test_a_name_deleted_later_in_the_module_is_not_ok() -> None:
    """numpy/__init__.py imports `warnings` and then `del`s it."""
    out = _checked(["numpy:warnings", "numpy:mean"])
    assert "has no 'warnings'" in out[0]
    assert out[1] == "None"


def _names(source: str) -> set[str]:
    body = ast.parse(source).body
    return imports._top_level_names(body) - imports._deleted_names(body)


def test_branches_bind_only_what_every_path_binds() -> None:
    source = (
        "import typing\n"
        "if typing.TYPE_CHECKING:\n    from x import OnlyTyped\n"
        "if cond:\n    A = 1\n    B = 1\nelse:\n    A = 2\n"
        "try:\n    from fast import C\n    D = 1\nexcept ImportError:\n    C = None\n"
        "finally:\n    E = 1\n"
        "F = G = 1\n"
        "if cond:\n    del G\n"
        "H, I = 1, 2\n"
    )
    names = _names(source)
    assert {"typing", "A", "C", "E", "F"} <= names
    assert not {"OnlyTyped", "B", "D", "G"} & names


@pytest.mark.parametrize("ref", ["sklearn:", ":X", "sklearn.svm:SVC:extra", "sklearn.:SVC"])
def test_malformed_references_are_problems(ref: str, tmp_path: Path) -> None:
    assert imports.import_problem(ref, tmp_path) is not None
