"""Code is part of a task's fingerprint: the user's own files a task runs.

Like Snakemake's code trigger: the scripts a command names (`python train.py`, `bash
run.sh`, `python -m src.train`) and the modules of `entry`, `estimator` and `preprocess`
objects, when they lie in the spec's folder (or below it), are hashed into the fingerprint
of the tasks that run them. A Python file brings the local modules it imports, read
statically (`ast`) and transitively inside the spec's folder tree: editing `src/model.py`,
imported two levels down by `train.py`, makes the tasks that run `train.py` stale. `code =
["src/", "configs/base.yaml", "conf/*.yaml"]` (a model's, or `[defaults]`) adds files,
folders and globs. Editing one makes those tasks `stale`, since folds of one result must
come from the same code. The modules of `[report] scorers` are code of the stages that
score (evaluate, refit). Installed packages are not hashed (their version is the user's
environment, not the experiment): the versions of those imported are recorded in the
task's folder instead (`packages.json`). `[defaults] fingerprint_code = false` turns it
off.
"""

from __future__ import annotations

import ast
import functools
import shlex
import sys
from collections.abc import Iterable
from pathlib import Path

from foldrun.core.templates import placeholders
from foldrun.errors import PlanError
from foldrun.plan.fingerprint import FileHashes


def code_files(
    spec_dir: Path, command: str | None, objects: list[str | None], declared: Iterable[str] = ()
) -> list[Path]:
    """The files beside the spec that a stage runs: from its command and its `module:Name`
    objects, the local modules those import, and the `code` entries; sorted, each once."""
    found: set[Path] = set()
    if command:
        found.update(_command_files(spec_dir, command))
    for ref in objects:
        if ref:
            found |= _package_files(spec_dir, ref.partition(":")[0])
    found |= local_imports(spec_dir, [p for p in found if p.suffix == ".py"])[0]
    found |= declared_files(spec_dir, declared)
    return sorted(found)


def local_imports(spec_dir: Path, files: list[Path]) -> tuple[set[Path], set[str]]:
    """(the Python files `files` import inside `spec_dir`, transitively, with `files`; the
    top-level names of the other modules they import, not the standard library's). A
    module resolves against the spec's folder (a `module:Name`'s sys.path) and the folder of
    each script named (a script's own sys.path[0])."""
    roots = list(dict.fromkeys([spec_dir, *(f.parent for f in files)]))
    seen, stack, packages = set(files), list(files), set()
    while stack:
        path = stack.pop()
        for base, name in _imports(path):
            found = _resolve(spec_dir, [base] if base is not None else roots, name)
            if not found and base is None and name.split(".")[0] not in sys.stdlib_module_names:
                packages.add(name.split(".")[0])
            for module in found - seen:
                seen.add(module)
                stack.append(module)
    return seen, packages


def _imports(path: Path) -> list[tuple[Path | None, str]]:
    """(folder a relative import starts from, else None; dotted name) of every import in
    the file, each parent package too (`import a.b.c` runs a/__init__.py and a/b/...)."""
    stat = path.stat()
    return _parsed_imports(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4096)
def _parsed_imports(path: str, mtime_ns: int, size: int) -> list[tuple[Path | None, str]]:
    try:
        tree = ast.parse(Path(path).read_bytes(), filename=path)
    except (SyntaxError, ValueError, OSError):
        return []  # not Python foldrun can read: only the file itself is code
    found: list[tuple[Path | None, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(None, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = None if not node.level else Path(path).parents[node.level - 1]
            stem = node.module or ""
            found += [(base, stem)] if stem else []
            # `from a import b`: b may be a module a/b.py
            found += [(base, f"{stem}.{a.name}".strip(".")) for a in node.names if a.name != "*"]
    return [(base, prefix) for base, name in found for prefix in _prefixes(name)]


def _prefixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _resolve(spec_dir: Path, roots: list[Path], name: str) -> set[Path]:
    """The file of module `name` under the first root that has it, inside the spec's tree."""
    if not name or not all(part.isidentifier() for part in name.split(".")):
        return set()
    for root in roots:
        base = root.joinpath(*name.split("."))
        for path in (base.with_suffix(".py"), base / "__init__.py"):
            if path.is_file() and _within(path.resolve(), spec_dir):
                return {path.resolve()}
    return set()


def _within(path: Path, spec_dir: Path) -> bool:
    return path.is_relative_to(spec_dir) and not any(
        part.startswith(".") or part == "site-packages" for part in path.relative_to(spec_dir).parts
    )


def declared_files(spec_dir: Path, entries: Iterable[str]) -> set[Path]:
    """The files of `code` entries: a file, every file of a folder (hidden ones and
    __pycache__ left out), or a glob; relative to the spec's folder, inside it."""
    found: set[Path] = set()
    for entry in entries:
        if any(c in entry for c in "*?["):
            matches = list(spec_dir.glob(entry))
        else:
            path = (spec_dir / entry).resolve()
            if path == spec_dir or not path.is_relative_to(spec_dir):
                raise PlanError(f"code entry {entry!r} names no file in the spec's folder "
                                "(the folder itself or outside it); name files, folders "
                                "or globs below it", key="code")  # fmt: skip
            matches = list(path.rglob("*")) if path.is_dir() else [path]
        files = {m.resolve() for m in matches if m.is_file()}
        files = {f for f in files if _within(f, spec_dir) and "__pycache__" not in f.parts}
        if not files:
            raise PlanError(f"code entry {entry!r} names no file in the spec's folder; fix "
                            "it or remove it", key="code")  # fmt: skip
        found |= files
    return found


def imported_packages(spec_dir: Path, files: list[Path]) -> tuple[str, ...]:
    """The top-level names of the installed modules the Python files import (sorted)."""
    return tuple(sorted(local_imports(spec_dir, [f for f in files if f.suffix == ".py"])[1]))


@functools.cache
def _distributions() -> dict[str, list[str]]:
    from importlib.metadata import packages_distributions

    return dict(packages_distributions())


def package_versions(names: Iterable[str]) -> dict[str, str]:
    """{distribution: version} of the packages behind the imported top-level names (those
    installed; an import that is not installed is left out)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in sorted(set(names)):
        for dist in _distributions().get(name, []):
            try:
                found[dist] = version(dist)
            except PackageNotFoundError:
                continue
    return found


def code_hashes(spec_dir: Path, files: list[Path], hashes: FileHashes) -> dict[str, str]:
    """{path relative to the spec's folder: sha256}: relative, so a moved project stays done."""
    return {str(path.relative_to(spec_dir)): str(hashes(path)) for path in files}


def changed_code(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """The files whose hash differs, or that came or went, between two code records."""
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))


def _command_files(spec_dir: Path, command: str) -> list[Path]:
    try:
        words = shlex.split(command, comments=True)
    except ValueError:  # unbalanced quotes: `check` reports the template
        return []
    found = []
    for i, word in enumerate(words):
        if placeholders(word):
            continue  # a value foldrun fills in (a manifest, a param), not code
        if i > 0 and words[i - 1] == "-m":
            found.extend(_package_files(spec_dir, word))
            continue
        path = _inside(spec_dir, word.partition("=")[2] if word.startswith("-") else word)
        if path is not None and path.suffix in CODE_SUFFIXES:
            found.append(path)
    return found


# what counts as code when a command names a file: data, configs and checkpoints named in a
# command are inputs the user may change on purpose (a config is named in params instead)
CODE_SUFFIXES = frozenset({".py", ".sh", ".bash", ".R", ".r", ".jl", ".pl", ".m", ".lua"})


def _package_files(spec_dir: Path, module: str) -> set[Path]:
    """`pkg.mod` -> spec_dir/pkg/mod.py (or its package's __init__.py) and the __init__.py
    of each package above it (importing pkg.mod runs them), those that are there."""
    found: set[Path] = set()
    for prefix in _prefixes(module):
        found |= _resolve(spec_dir, [spec_dir], prefix)
    return found


def _inside(spec_dir: Path, word: str) -> Path | None:
    """The file `word` names, when it is a file in the spec's folder or below it."""
    if not word or "\0" in word:
        return None
    path = (spec_dir / word).resolve() if not word.startswith("/") else Path(word).resolve()
    try:
        path.relative_to(spec_dir)
    except ValueError:
        return None
    return path if path.is_file() else None
