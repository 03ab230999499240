"""Code is part of a task's fingerprint: the user's own files a task runs.

Like Snakemake's code trigger: the scripts a command names (`python train.py`, `bash
run.sh`, `python -m src.train`) and the modules of `entry`, `estimator` and `preprocess`
objects, when they lie in the spec's folder (or below it), are hashed into the fingerprint
of the tasks that run them. Editing one makes those tasks `stale`, since folds of one
result must come from the same code. Installed packages are not hashed (their version is
the user's environment, not the experiment). `[defaults] fingerprint_code = false` turns
it off.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from foldrun.core.templates import placeholders
from foldrun.plan.fingerprint import FileHashes


def code_files(
    spec_dir: Path, command: str | None, objects: list[str | None]
) -> list[Path]:
    """The files beside the spec that a stage runs: from its command and its `module:Name`
    objects; sorted, each once."""
    found: set[Path] = set()
    if command:
        found.update(_command_files(spec_dir, command))
    for ref in objects:
        if ref:
            module = _module_file(spec_dir, ref.partition(":")[0])
            if module is not None:
                found.add(module)
    return sorted(found)


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
            module = _module_file(spec_dir, word)
            if module is not None:
                found.append(module)
            continue
        path = _inside(spec_dir, word.partition("=")[2] if word.startswith("-") else word)
        if path is not None and path.suffix in CODE_SUFFIXES:
            found.append(path)
    return found


# what counts as code when a command names a file: data, configs and checkpoints named in a
# command are inputs the user may change on purpose (a config is named in params instead)
CODE_SUFFIXES = frozenset({".py", ".sh", ".bash", ".R", ".r", ".jl", ".pl", ".m", ".lua"})


def _module_file(spec_dir: Path, module: str) -> Path | None:
    """`pkg.mod` -> spec_dir/pkg/mod.py (or its package's __init__.py), if it is there."""
    if not module or not all(part.isidentifier() for part in module.split(".")):
        return None
    base = spec_dir.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path.resolve()
    return None


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
