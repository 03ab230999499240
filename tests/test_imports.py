"""foldrun's own import graph, read from the source (AST, not grep): module to module, the
imports made inside functions counted, since an import moved into a function still runs
and still ties the two modules together. Only `if TYPE_CHECKING:` blocks are left out:
they never run.

- no cycle: each module can be understood (and imported) after the ones it imports;
- an import inside a function is a choice made for start-up time (of `import foldrun` or
  of a command) and says so in a comment, on its line or just above its block of imports.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import foldrun

SRC = Path(foldrun.__file__).parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the foldrun module imported (the longest module the name starts with)
    line: int
    in_function: bool
    node: ast.stmt


def target(name: str) -> str | None:
    parts = name.split(".")
    while parts:
        if ".".join(parts) in MODULES:
            return ".".join(parts)
        parts.pop()
    return None


def _type_checking_only(tree: ast.Module) -> set[int]:
    return {id(sub) for node in ast.walk(tree)
            if isinstance(node, ast.If) and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING" for sub in ast.walk(node)}  # fmt: skip


def _in_functions(tree: ast.Module) -> set[int]:
    return {id(sub) for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            for sub in ast.walk(node)}  # fmt: skip


def _names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        # `from foldrun.split import store` imports the module foldrun.split.store
        return [f"{node.module}.{alias.name}" for alias in node.names]
    return []


@functools.cache
def parsed(module: str) -> ast.Module:
    return ast.parse(MODULES[module].read_text(encoding="utf-8"))


def imports_of(module: str) -> Iterator[Import]:
    tree = parsed(module)
    skipped, in_function = _type_checking_only(tree), _in_functions(tree)
    for node in ast.walk(tree):
        if id(node) in skipped or not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        for name in _names(node):
            found = target(name) if name.split(".")[0] == "foldrun" else None
            if found is not None and found != module:
                yield Import(module, found, node.lineno, id(node) in in_function, node)


def graph() -> dict[str, set[str]]:
    return {m: {i.target for i in imports_of(m)} for m in MODULES}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `edges` (a list of modules, the first repeated at the end), or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node):], node]
        if node in done:
            return None
        for dep in sorted(edges.get(node, ())):
            if cycle := visit(dep, [*path, node]):
                return cycle
        done.add(node)
        return None

    for node in sorted(edges):
        if cycle := visit(node, []):
            return cycle
    return None


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_imports_inside_functions() -> None:
    """The guard would pass on nothing if the walk missed function-level imports: the CLI
    loads its commands lazily (cli/__init__.py), so that edge must be in the graph."""
    lazy = [i for i in imports_of("foldrun.cli") if i.in_function]
    assert lazy, "no function-level import found in foldrun/cli/__init__.py"


def test_no_import_cycle_between_modules() -> None:
    cycle = find_cycle(graph())
    assert cycle is None, " -> ".join(cycle or [])


# --- imports inside functions say why -----------------------------------------------------

# modules whose function-level imports are not yet reviewed (issue 23 item 4): this list
# only shrinks; a module not in it needs a comment at each function-level import
UNREVIEWED: set[str] = set()


def _blocks(tree: ast.Module) -> dict[int, tuple[int, int]]:
    """{id of an import statement: (first, last) line of its block}: a block is a run of
    import statements one after the other in one body."""
    regions: dict[int, tuple[int, int]] = {}
    for parent in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(parent, field, None)  # a lambda's body is an expression
            block: list[ast.stmt] = []
            for stmt in [*(body if isinstance(body, list) else []), None]:
                if isinstance(stmt, ast.Import | ast.ImportFrom):
                    block.append(stmt)
                    continue
                if block:
                    last = block[-1].end_lineno or block[-1].lineno
                    regions.update({id(b): (block[0].lineno, last) for b in block})
                block = []
    return regions


def _commented(lines: list[str], block: tuple[int, int]) -> bool:
    """A `#` comment on a line of the import's block or in the comment lines just above."""
    first = block[0]
    while first > 1 and lines[first - 2].lstrip().startswith("#"):
        first -= 1
    return any("#" in lines[n - 1] for n in range(first, block[1] + 1))


def uncommented() -> list[str]:
    found = []
    for module in MODULES:
        lines = MODULES[module].read_text(encoding="utf-8").splitlines()
        regions = _blocks(parsed(module))
        found += [f"{module}:{i.line} imports {i.target}" for i in imports_of(module)
                  if i.in_function and not _commented(lines, regions[id(i.node)])]  # fmt: skip
    return found


def test_function_level_imports_say_why() -> None:
    missing = [m for m in uncommented() if m.split(":")[0] not in UNREVIEWED]
    assert missing == []


def test_the_unreviewed_list_only_shrinks() -> None:
    left = {found.split(":")[0] for found in uncommented()}
    reviewed = UNREVIEWED - left
    assert reviewed == set(), "take these off UNREVIEWED"
