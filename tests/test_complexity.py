"""The code stays readable: no function above radon's grade C (cyclomatic complexity > 20)
and short functions (median length at most 10 lines)."""

from __future__ import annotations

import ast
import statistics
from pathlib import Path

from radon.complexity import cc_rank, cc_visit

import foldrun

SRC = Path(foldrun.__file__).parent


def _sources() -> list[tuple[Path, str]]:
    return [(p, p.read_text(encoding="utf-8")) for p in sorted(SRC.rglob("*.py"))]


def test_no_function_above_grade_c() -> None:
    worse = [
        f"{path.relative_to(SRC)}:{block.lineno} {block.fullname} {cc_rank(block.complexity)} "
        f"({block.complexity})"
        for path, text in _sources()
        for block in cc_visit(text)
        if cc_rank(block.complexity) not in "ABC"
    ]
    assert not worse, "\n".join(worse)


def test_median_function_length_at_most_ten_lines() -> None:
    lengths = [
        node.end_lineno - node.lineno + 1
        for _, text in _sources()
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno
    ]
    assert len(lengths) > 500  # the walk found the code
    assert statistics.median(lengths) <= 10
