"""The figure modules' split (issue 23 item 4), checked on the source: what the cache keys
on covers every module that draws a kept figure, and the cache and the pool import no
matplotlib (the analysis, which the run summary uses too, imports them)."""

from __future__ import annotations

import ast
from pathlib import Path

import matplotlib

from foldrun.report import figure_cache, figure_drawing, figure_pool, svg

REPORT = Path(figure_drawing.__file__).parent


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_cache_and_the_pool_import_no_matplotlib() -> None:
    for module in (figure_cache, figure_pool):
        assert "matplotlib" not in _imported(Path(module.__file__)), module.__name__


def test_every_module_drawing_a_kept_figure_is_in_the_code_version() -> None:
    """A figure is drawn again when the code it depends on changed: a module outside
    report/figure*.py drawing a `cached` figure would be read from the cache stale."""
    drawing = sorted(p.name for p in REPORT.glob("*.py")
                     if "@cached" in p.read_text(encoding="utf-8"))  # fmt: skip
    assert drawing and all(name.startswith("figure") for name in drawing), drawing
    code = figure_drawing.code_version()
    for name in drawing:
        assert (REPORT / name).read_bytes() in code, name
    assert Path(svg.__file__).read_bytes() in code
    assert code.endswith(matplotlib.__version__.encode())
