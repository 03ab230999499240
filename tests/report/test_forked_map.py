"""`forked_map` (each dataset's report, the report's figures) is `[work(i) for i in
range(n)]` whatever the workers do: the same results in order, the same exception."""

from __future__ import annotations

import pytest

from foldrun.core.forked import forked_map


def test_the_first_failing_index_is_the_one_raised() -> None:
    """Index 3 (this process's share of 3 workers) and index 1 (a worker's) both fail: a
    loop raises index 1's error; this process raised its own index 3 first."""

    def work(i: int) -> int:
        if i in (1, 3):
            raise ValueError(i)
        return i

    with pytest.raises(ValueError, match=r"^1$"):
        forked_map(work, 9, 3)


def test_a_result_that_cannot_be_pickled_is_made_here() -> None:
    """A worker's result that cannot be pickled came back as a pickling error, though the
    work itself succeeded."""
    results = forked_map(lambda i: lambda: i * 10, 6, 3)
    assert [f() for f in results] == [0, 10, 20, 30, 40, 50]


def test_a_forked_map_inside_a_worker_keeps_the_outer_work() -> None:
    """A forked_map inside a worker's work replaced what that worker runs for its next
    index: index 4 came back as 14, the inner work's result."""
    out = forked_map(lambda i: (i, forked_map(lambda j: i * 10 + j, 3, 2)), 9, 3)
    assert out == [(i, [i * 10, i * 10 + 1, i * 10 + 2]) for i in range(9)]
