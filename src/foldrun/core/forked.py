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

import contextlib
import gc
import itertools
import os
import pickle
import sys
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")

# what the forked workers call, by call and index: one entry per forked_map under way, so a
# forked_map inside a worker's work does not replace the work of the one that forked it
_WORK: dict[int, Callable[[int], Any]] = {}
_CALLS = itertools.count()


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
    pool, results = _start(work, theirs, workers - 1)
    try:
        return _collect(work, n, theirs, results)
    except BaseException as err:
        if not isinstance(err, Exception):  # Ctrl-C, SIGTERM: the workers go now, not
            _kill(pool)  # after their share
        raise
    finally:
        if pool is not None:  # every result is in (or an error raised): the workers are
            # idle, and waiting for them leaves no pool thread alive at the next fork
            pool.shutdown(wait=True, cancel_futures=True)


def spread(
    work: Callable[[range], list[T]], n: int, least: int = 16, workers: int | None = None
) -> list[T]:
    """`work(range(n))`, the range cut into consecutive parts of at least `least` items
    (fewer: forking costs more than it saves), one per worker (default: per CPU), the parts'
    lists joined in order."""
    k = max(1, min(cpus() if workers is None else workers, n // max(least, 1)))
    bounds = [n * j // k for j in range(k + 1)]
    done = forked_map(lambda j: work(range(bounds[j], bounds[j + 1])), k, k)
    return [item for part in done for item in part]


def forked_start(work: Callable[[int], T], n: int, workers: int) -> Callable[[], list[T]]:
    """Starts `[work(i) for i in range(n)]` on up to `workers` forked processes and returns
    at once, so that this process goes on with other work meanwhile; calling what it returns
    waits for the results, in order (and does here what no worker could). An exception of
    `work` is raised by that call. A later call gives the same results or raises the same
    error (the workers' results are spent: a caller's `finally` waited again after a
    Ctrl-C met the first call)."""
    indices = list(range(n))
    pool, results = _start(work, indices, min(workers, n)) if workers >= 1 and n else (None, None)
    outcome: list[Any] = []  # the results, or the error, once waited for

    def wait() -> list[T]:
        if outcome and isinstance(outcome[0], BaseException):
            raise outcome[0]
        if outcome:
            return outcome[0]  # type: ignore[no-any-return]
        try:
            outcome.append(_collect(work, n, indices, results))
            return outcome[0]  # type: ignore[no-any-return]
        except BaseException as err:
            outcome.append(err)
            if not isinstance(err, Exception):  # Ctrl-C, SIGTERM: the workers go now
                _kill(pool)
            raise
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    return wait


def _collect(
    work: Callable[[int], Any], n: int, theirs: list[int], results: Iterator[bytes | None] | None
) -> list[Any]:
    """This process's share done here, the workers' results read back, in order."""
    there = set(theirs) if results is not None else set()
    out: list[Any] = [None] * n
    failed, error = n, None  # the first of this process's share that raised
    for i in range(n):
        if i not in there:
            try:
                out[i] = work(i)
            except Exception as err:
                failed, error = i, err
                break
    if results is not None:
        done = 0  # the results come in order: as many of theirs are in `out`
        try:
            for i, result in zip(theirs, results, strict=True):
                if i > failed:
                    break
                # a result that cannot be pickled is made here, as it would be without workers
                out[i] = pickle.loads(result) if result is not None else work(i)
                done += 1
        except BrokenProcessPool:  # a worker was killed: the rest of its share, done here
            for i in theirs[done:]:
                if i < failed:
                    out[i] = work(i)
    if error is not None:  # no earlier index raised: raised here, as without workers
        raise error
    return out


def _kill(pool: Any) -> None:
    """End the workers of `pool` at once (a signal is ending this process)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            process.kill()


def _bound_to(parent: int) -> None:
    """A worker's start: it dies with the process that forked it, even by SIGKILL (Linux's
    parent-death signal; without it a worker whose parent was killed waited forever on
    its pipe, with parent 1). SIGTERM and SIGHUP get their default action back: a signal
    handler the command installed is not the worker's."""
    import signal

    for sig in _ENDING:
        signal.signal(sig, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):  # held by the fork (_start): let them in now
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _ENDING)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _call(call: int, i: int) -> bytes | None:
    """The work of `call` at `i`, pickled (None when it cannot be), so that an unpicklable
    result is not taken for an exception of the work."""
    result = _WORK[call](i)
    try:
        return pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
    except Exception:
        return None


def _start(
    work: Callable[[int], Any], indices: list[int], workers: int
) -> tuple[Any, Iterator[bytes | None] | None]:
    """The pool and the results of `work` over `indices` from `workers` forked processes
    (an iterator, in order), or (None, None) when no process can be started here."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    call = next(_CALLS)
    _WORK[call] = work  # the workers are forked by the first submit below, and see it
    # the objects that exist now are left out of the collections in the workers (and
    # here, until they started): a collection there would write to every page of the heap
    # it shares with this process, copying it all
    pool = None
    gc.freeze()
    held = _hold(_ENDING)
    try:
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_bound_to,
            initargs=(os.getpid(),),
        )
        chunk = max(1, len(indices) // (4 * workers))
        results = pool.map(_call, [call] * len(indices), indices, chunksize=chunk)
    except Exception:  # everything is done here instead
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        return None, None
    finally:
        gc.unfreeze()
        del _WORK[call]  # the workers, forked by now, keep their copy
        _hold(held, how="restore")  # a signal held meanwhile is handled now, here
    return pool, results


def _ending() -> tuple[int, ...]:
    import signal

    return tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


# SIGTERM and SIGHUP are held while the workers are forked: a command's handler raising
# inside os.fork's at-fork callbacks was printed and ignored ('Exception ignored in
# _releaseLock'), and the command went on; a worker starts with them held, until its
# handlers are the default ones again
_ENDING = _ending()


def _hold(signals: tuple[int, ...] | set[int], how: str = "block") -> set[int]:
    """Block `signals` (how="block") or set the mask back to `signals` ("restore"); the
    mask before. A no-op where there is no pthread_sigmask."""
    import signal

    if not hasattr(signal, "pthread_sigmask"):
        return set()
    mode = signal.SIG_BLOCK if how == "block" else signal.SIG_SETMASK
    return set(signal.pthread_sigmask(mode, signals))
