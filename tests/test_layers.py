"""The layers of docs/ARCHITECTURE.md, checked on the source: an AST walk collects every
`import foldrun.x...` and `from foldrun.x... import` (at module level or in a function)."""

from __future__ import annotations

import ast
from pathlib import Path

import foldrun

SRC = Path(foldrun.__file__).parent

# each package may import only packages of a lower rank (the same rank: neither way)
RANK = {
    "_version": 0, "errors": 0, "core": 1, "layout": 2,  # layout: the key's format from core
    "data": 2, "split": 3, "spec": 4, "plan": 5, "results": 6, "run": 7,
    "report": 8, "track": 8, "example": 8, "api": 9, "cli": 10, "__main__": 11, "__init__": 11,
}  # fmt: skip


def imports() -> dict[str, set[str]]:
    """{package: the other foldrun packages it imports}."""
    found: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        package = path.relative_to(SRC).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                parts = name.split(".")
                if parts[0] == "foldrun" and len(parts) > 1 and parts[1] != package:
                    found.setdefault(package, set()).add(parts[1])
    return found


def test_every_package_has_a_rank() -> None:
    packages = {p.name.removesuffix(".py") for p in SRC.iterdir()
                if p.suffix == ".py" or (p / "__init__.py").exists()}  # fmt: skip
    assert packages <= RANK.keys(), packages - RANK.keys()


def test_packages_import_only_lower_layers() -> None:
    upward = sorted(
        f"{package} imports {dep}"
        for package, deps in imports().items()
        for dep in deps
        if RANK[dep] >= RANK[package] and package != "__init__"
    )
    assert upward == []


def test_core_imports_no_other_foldrun_package() -> None:
    assert imports().get("core", set()) <= {"errors", "_version"}


def test_no_cycle_between_packages() -> None:
    graph = imports()
    seen: dict[str, int] = {}

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, " -> ".join((*path, node))
        if seen.get(node):
            return
        for dep in sorted(graph.get(node, ())):
            visit(dep, (*path, node))
        seen[node] = 1

    for package in sorted(graph):
        visit(package, ())


def test_the_spec_file_is_parsed_in_one_place() -> None:
    """Only spec/load.py parses TOML (read_document): every other reader asks it. (A
    program's own TOML metrics file is not a spec: run/program_files.py reads those; nor is
    its TOML config template: core/configs.py fills those.)"""
    parsers = sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                     if "tomllib." in p.read_text(encoding="utf-8"))  # fmt: skip
    programs = ("run/program_files.py", "core/configs.py")
    assert [p for p in parsers if p not in programs] == ["spec/load.py"]


def literal_collections(source: str) -> list[tuple[int, set[str]]]:
    """(line, its strings) of every tuple, list, set and dict (its keys) written out in
    `source`, in any order and any layout."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Tuple | ast.List | ast.Set | ast.Dict):
            items = node.keys if isinstance(node, ast.Dict) else node.elts
            strings = {i.value for i in items if isinstance(i, ast.Constant)}
            found.append((node.lineno, {v for v in strings if isinstance(v, str)}))
    return found


def stage_lists(source: str) -> list[int]:
    """The lines of `source` where a list of the stages is written: any literal holding
    every fold stage (train, predict, evaluate), in any order, a dict of ranks included."""
    from foldrun.core.task import FOLD_STAGES

    return [line for line, names in literal_collections(source) if set(FOLD_STAGES) <= names]


def test_the_stage_names_are_listed_in_one_place() -> None:
    """The stages are listed only in core/task.py (STAGES); everyone else imports them (a
    grep for '"train", "predict"' missed results/collect.py's STAGE_RANK)."""
    listed = sorted(f"{p.relative_to(SRC)}:{line}" for p in SRC.rglob("*.py")
                    for line in stage_lists(p.read_text(encoding="utf-8")))  # fmt: skip
    assert [where.split(":")[0] for where in listed] == ["core/task.py"], listed


def test_the_stage_list_guard_sees_any_order_and_layout() -> None:
    source = ('RANK = {"evaluate": 0, "predict": 1, "train": 2}\n'
              'X = ("predict",\n "train", "evaluate")\n')  # fmt: skip
    assert stage_lists(source) == [1, 2]
    assert stage_lists('TRAINS = ("train", "refit")\n') == []  # a subset names a fact


def test_files_are_hashed_in_one_place() -> None:
    """A file's sha256 is computed by core/files.py file_sha256 only."""
    hashing = sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                     if "fh.read(1 << 20)" in p.read_text(encoding="utf-8"))  # fmt: skip
    assert hashing == ["core/files.py"]


def test_the_top_level_splitters_are_the_split_packages() -> None:
    """`foldrun.KFold` ... are foldrun.split.SPLITTERS, no more and no fewer."""
    from foldrun import _API
    from foldrun.split import SPLITTERS

    named = {k for k, v in _API.items() if v == "foldrun.split"}
    assert named - {"make_folds", "load_folds", "Folds"} == set(SPLITTERS)


def test_only_the_slurm_backend_writes_a_plan_file() -> None:
    """docs/ARCHITECTURE.md: the runner writes no plan file (its write_plan_file was dead);
    a SLURM array reads the one its backend wrote, the local backend hands tasks to its fork
    server and never passes --plan (its `plan_file` option was set by nothing)."""
    from foldrun.run.backends.base import RunContext
    from foldrun.run.backends.local import worker_argv

    writers = sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                     if ".plan.pickle" in {n.value for n in ast.walk(ast.parse(p.read_text()))
                                           if isinstance(n, ast.Constant)})  # fmt: skip
    assert writers == ["run/backends/slurm/__init__.py"]
    ctx = RunContext(spec_path=Path("s.toml"), run_dir=Path("r"), run_id="x",
                     options={"plan_file": "p.pickle"})  # fmt: skip
    assert "--plan" not in worker_argv(ctx, "m/v/fold_00/train", [])
