"""forked_start: work started on forked workers, waited for later, same results as in-line."""

from __future__ import annotations

import os

import pytest

from foldrun.core.forked import forked_start, spread


def test_results_in_order_from_other_processes() -> None:
    here = os.getpid()
    wait = forked_start(lambda i: (i * i, os.getpid()), 7, 2)
    out = wait()
    assert [v for v, _ in out] == [i * i for i in range(7)]
    assert here not in {pid for _, pid in out}  # none of it ran here


def test_without_workers_the_work_runs_when_waited_for() -> None:
    calls: list[int] = []
    wait = forked_start(lambda i: calls.append(i) or i, 3, 0)
    assert calls == []  # nothing started yet: this process goes on first
    assert wait() == [0, 1, 2]
    assert calls == [0, 1, 2]


def test_an_exception_of_the_work_is_raised_by_the_wait() -> None:
    def work(i: int) -> int:
        if i == 2:
            raise ValueError("bad input 2")
        return i

    wait = forked_start(work, 4, 1)
    with pytest.raises(ValueError, match="bad input 2"):
        wait()


def test_nothing_to_do() -> None:
    assert forked_start(lambda i: i, 0, 4)() == []


def test_spread_cuts_the_range_in_order_over_workers() -> None:
    seen = spread(lambda part: [(i, os.getpid()) for i in part], 100, least=10, workers=3)
    assert [i for i, _ in seen] == list(range(100))
    assert {pid for _, pid in seen} - {os.getpid()}  # parts were done by other processes


def test_spread_keeps_few_items_in_line() -> None:
    seen = spread(lambda part: [os.getpid() for _ in part], 15, least=16, workers=4)
    assert set(seen) == {os.getpid()}
