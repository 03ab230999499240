"""`[work(i) for i in range(n)]` spread over forked processes, for CPU-bound work (a report's
figures, a report per dataset) on the CPUs this process may use.

The standard pools pickle every call's arguments over to the workers; here the calls are
numbered and a forked worker reads the work from the memory it shares with this process
(tables, frames: nothing copied, nothing pickled but an index and the result). Share 0 of
every `workers` runs here while the workers run the others. Where no worker can start (no
fork on this platform, a daemon process, which may have no children, no memory) or one is
killed, its share runs here: the result is the same either way.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")

_WORK: Callable[[int], Any] | None = None  # what the forked workers call, by index


def cpus() -> int:
    """The CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def forked_map(work: Callable[[int], T], n: int, workers: int) -> list[T]:
    """`[work(i) for i in range(n)]`, in order, with up to `workers` processes (this one
    included). An exception of `work` is raised here, as it would be without workers."""
    workers = min(workers, n)
    if workers <= 1:
        return [work(i) for i in range(n)]
    theirs = [i for i in range(n) if i % workers]
    results = _start(work, theirs, workers - 1)
    there = set(theirs) if results is not None else set()
    out: list[Any] = [None] * n
    for i in range(n):
        if i not in there:
            out[i] = work(i)
    if results is not None:
        try:
            for i, result in zip(theirs, results, strict=True):
                out[i] = result
        except BrokenProcessPool:  # a worker was killed: its share, done here
            for i in theirs:
                out[i] = work(i)
    return out


def _call(i: int) -> Any:
    assert _WORK is not None
    return _WORK(i)


def _start(work: Callable[[int], T], indices: list[int], workers: int) -> Iterator[T] | None:
    """The results of `work` over `indices` from `workers` forked processes (an iterator, in
    order), or None when no process can be started here."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _WORK
    _WORK = work  # the workers are forked by the first submit below, and see it
    # the objects that exist now are left out of the collections in the workers (and
    # here, until they started): a collection there would write to every page of the heap
    # it shares with this process, copying it all
    pool = None
    gc.freeze()
    try:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
        chunk = max(1, len(indices) // (4 * workers))
        results = pool.map(_call, indices, chunksize=chunk)
    except Exception:  # everything is done here instead
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        return None
    finally:
        gc.unfreeze()
    pool.shutdown(wait=False)  # the workers end when they have done everything
    return results
