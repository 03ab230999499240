"""core/imports.py: THE rule for `module:Name` (check, scorers and the worker use it)."""

from __future__ import annotations

import os.path
import sys
from pathlib import Path

import pytest

from foldrun.core.imports import BadRef, MissingName, NameFailed, resolve, split_ref


def _module(folder: Path, name: str, text: str) -> str:
    (folder / f"{name}.py").write_text(text)
    return name


def test_a_dotted_name_in_an_installed_module() -> None:
    assert resolve("os.path:join") is os.path.join
    assert resolve("collections:OrderedDict.fromkeys") is not None
    assert split_ref("a.b:C.d") == ("a.b", "C.d")


@pytest.mark.parametrize("ref", ["os", "os:", ":join", ""])
def test_not_module_colon_name(ref: str) -> None:
    with pytest.raises(BadRef):
        resolve(ref)


def test_the_spec_folder_goes_first_and_is_taken_off_unless_kept(tmp_path: Path) -> None:
    name = _module(tmp_path, f"beside_{tmp_path.name}", "def f():\n    return 1\n")
    with pytest.raises(ModuleNotFoundError):  # not found without the folder
        resolve(f"{name}:f")
    assert resolve(f"{name}:f", tmp_path)() == 1
    assert str(tmp_path) not in sys.path
    kept = _module(tmp_path, f"kept_{tmp_path.name}", "X = 2\n")
    try:
        assert resolve(f"{kept}:X", tmp_path, keep=True) == 2
        assert sys.path[0] == str(tmp_path)
        resolve(f"{kept}:X", tmp_path, keep=True)  # never twice
        assert sys.path.count(str(tmp_path)) == 1
    finally:
        sys.path.remove(str(tmp_path))


def test_what_failed_is_told_apart(tmp_path: Path) -> None:
    with pytest.raises(ModuleNotFoundError):  # the module's own error, as it is
        resolve("no_such_module_q:X", tmp_path)
    broken = _module(tmp_path, f"broken_{tmp_path.name}", "raise AttributeError('at import')\n")
    with pytest.raises(AttributeError, match="at import") as info:
        resolve(f"{broken}:X", tmp_path)
    assert not isinstance(info.value, MissingName)  # not a missing name
    with pytest.raises(MissingName, match="has no attribute 'nope'") as missing:
        resolve("os.path:join.nope")
    assert (missing.value.part, missing.value.owner) == ("nope", os.path.join)
    getter = "def __getattr__(name):\n    raise RuntimeError('boom')\n"
    lazy = _module(tmp_path, f"lazy_{tmp_path.name}", getter)
    with pytest.raises(NameFailed, match=r"cannot get 'X' from .*: RuntimeError: boom"):
        resolve(f"{lazy}:X", tmp_path)
