"""Whether a spec's `module:Name` reference resolves, for `foldrun check`.

A reference into a package foldrun itself depends on (scikit-learn, NumPy, SciPy, pandas) is
looked up in the module's source instead of by importing it: those packages import on every
machine foldrun runs on, and importing scikit-learn alone is about a second, most of a
`check`. Anything else (the user's own modules, xgboost, ...) is imported for real, so a
module that fails on import is reported. Python has no way to list a module's names without
running it, hence the small reading of its top-level statements below.
"""

from __future__ import annotations

import ast
import importlib.machinery
import sys
from pathlib import Path

from foldrun.core.imports import BadRef, MissingName, NameFailed, resolve, split_ref
from foldrun.spec.problems import did_you_mean

# packages foldrun imports itself: a broken one is a broken foldrun, not a spec problem
OWN_DEPENDENCIES = frozenset({"sklearn", "numpy", "scipy", "pandas"})


def import_problem(ref: str, base: Path) -> str | None:
    """Why `module:Name` cannot be imported (the spec's folder is on the path), or None."""
    try:
        module_name, attr = split_ref(ref)
    except BadRef:
        return f"{ref!r} must look like 'module:Name' (e.g. 'sklearn.svm:SVC')"
    top = top_package(module_name)
    shadowed = (base / top).exists() or (base / f"{top}.py").exists()  # the spec's own module
    if not shadowed and defined_in_source(module_name, attr):
        return None
    try:
        resolve(ref, base)
    except MissingName as err:
        names = [n for n in dir(err.owner) if not n.startswith("_")]
        hint = did_you_mean(err.part, names) if len(names) < 500 else ""
        hint = hint if hint.startswith("; did") else ""
        return f"module {module_name!r} has no {attr!r}{hint}"
    except NameFailed as err:  # a module __getattr__ raising more than AttributeError
        return str(err)
    except Exception as err:  # ImportError, or the module failing on import
        why = f"{type(err).__name__}: {err}"
        return f"cannot import {module_name!r}: {why}; install it or fix the name"
    return None


def defined_in_source(module_name: str, attr: str) -> bool:
    """True when `attr` is bound at the top level of an own dependency's module source.
    False means "not known this way" (the caller imports for real): a name made at run time
    (a module `__getattr__`), a compiled module, or a package already imported."""
    top = top_package(module_name)
    if top not in OWN_DEPENDENCIES or top in sys.modules or "." in attr:
        return False
    origin = _source_file(module_name)
    if origin is None:
        return False
    try:
        tree = ast.parse(origin.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return False
    return attr in _top_level_names(tree.body) and attr not in _deleted_names(tree.body)


def top_package(module_name: str) -> str:
    return module_name.split(".")[0]


def _source_file(module_name: str) -> Path | None:
    """The module's .py file, found the way the import system would, without running any
    package's __init__ (PathFinder with each parent's search locations)."""
    parts = module_name.split(".")
    path = None
    spec = None
    for i in range(len(parts)):
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[: i + 1]), path)
        if spec is None:
            return None
        path = spec.submodule_search_locations
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _top_level_names(body: list[ast.stmt]) -> set[str]:
    """Names a module's top-level statements surely bind: under an `if`, those bound by
    whichever branch runs (nothing of an `if TYPE_CHECKING:` without an `else`); under a
    `try`, those bound whether or not it fails (or bound by its `finally`)."""
    names: set[str] = set()
    for node in body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.If):
            names |= _top_level_names(node.body) & _top_level_names(node.orelse)
        elif isinstance(node, ast.Try | ast.TryStar):
            sure = _top_level_names(node.body + node.orelse)
            for handler in node.handlers:
                sure &= _top_level_names(handler.body)
            names |= sure | _top_level_names(node.finalbody)
    return names


def _deleted_names(body: list[ast.stmt]) -> set[str]:
    """Names a `del` at the top level (or under an `if` / `try` there) may unbind."""
    names: set[str] = set()
    for node in body:
        if isinstance(node, ast.Delete):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
            names.update(e.id for t in node.targets if isinstance(t, ast.Tuple | ast.List)
                         for e in t.elts if isinstance(e, ast.Name))  # fmt: skip
        elif isinstance(node, ast.If | ast.Try | ast.TryStar):
            handlers = getattr(node, "handlers", [])
            for block in (node.body, node.orelse, getattr(node, "finalbody", []), *handlers):
                inner = block.body if isinstance(block, ast.ExceptHandler) else block
                names |= _deleted_names(inner)
    return names
