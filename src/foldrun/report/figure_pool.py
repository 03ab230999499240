"""Many figures at once: those in the cache are read, the others drawn by forked workers
(core/forked.py), as many as WORKERS allows. No matplotlib here: the analysis spreads its
intervals over the same number of workers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from foldrun.core.forked import cpus, forked_map
from foldrun.report import figure_cache

WORKERS: int | None = None  # processes drawing figures (None: one per CPU this process may use)


def workers() -> int:
    """Processes that draw at once: WORKERS, else one per CPU this process may use."""
    return WORKERS if WORKERS is not None else cpus()


def draw_many(draw: Callable[..., bytes | None], calls: Sequence[tuple[object, ...]]):
    """`[draw(*args) for args in calls]` for a `cached` draw (figure_drawing.py): those in
    the cache are read, the others drawn in a pool of processes (at most one per CPU;
    forked, so nothing is imported again) and kept. A figure is the same bytes from a
    worker as from this process (the same code and matplotlib state), so a report stays
    byte-identical however many figures were drawn afresh."""
    suffix = draw.suffix  # type: ignore[attr-defined]
    keys = [draw.key(args) for args in calls]  # type: ignore[attr-defined]
    out: list[bytes | None] = [None] * len(calls)
    todo = []
    for i, key in enumerate(keys):
        hit = figure_cache.lookup(key, suffix)
        if hit is None:
            todo.append(i)
        else:
            out[i] = hit or None
    images = _draw_all(draw, [calls[i] for i in todo])
    for i, image in zip(todo, images, strict=True):
        figure_cache.store(keys[i], image or b"", suffix)
        out[i] = image
    return out


def _draw_all(draw: Callable[..., bytes | None], calls: list[tuple[object, ...]]):
    """`draw`'s drawing (uncached) of every call, spread over forked workers."""
    return forked_map(lambda i: _draw_one(draw, calls[i]), len(calls), workers())


def _draw_one(draw: Callable[..., bytes | None], args: tuple[object, ...]) -> bytes | None:
    return draw.fresh(*args)  # type: ignore[attr-defined,no-any-return]
