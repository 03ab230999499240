"""How every report figure is drawn and kept: matplotlib (Agg backend) in one style with the
garbage collector paused, as PNG bytes or a PNG file, and the `cached` / `cached_file`
decorators that read a figure from figure_cache.py instead of drawing it again. The figures
themselves are in figures_*.py; figure_pool.py draws many at once."""

from __future__ import annotations

import functools
import gc
import io
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display, ever
import matplotlib.pyplot as plt
import numpy as np

from foldrun.report import figure_cache, svg
from foldrun.report.figure_ticks import lean_ticks
from foldrun.report.svg import ink

DPI = 90
MAX_PANELS = 8  # per-model plots show at most this many models (the best ranked)
PARTIAL = "#c0392b"  # partial variants (fewer folds than planned) are drawn in red


@functools.cache
def code_version() -> bytes:
    """The figure modules' source (report/figure*.py, svg.py) and matplotlib's version: a
    change to any redraws all."""
    here = Path(__file__).parent
    code = b"".join(p.read_bytes() for p in sorted(here.glob("figure*.py")))
    return code + Path(svg.__file__).read_bytes() + matplotlib.__version__.encode()


def figure_key(name: str, inputs: object) -> str:
    """The cache entry of the figure `name` drawn from `inputs`."""
    return figure_cache.key(name, inputs, code_version())


# Titles at the top of their axes, where matplotlib would put them: placing them
# automatically (above any tick labels on top, which no plot here has) measures every
# axis, a quarter of a figure's time.
STYLE = {"axes.titley": 1.0}


@contextmanager
def drawing() -> Iterator[None]:
    """How every figure is drawn: in STYLE, and with the cyclic garbage collector paused
    (matplotlib makes tens of thousands of small objects per figure, and each collection
    they trigger walks the whole heap, the report's tables too: a fifth of a figure's
    time). Collected afterwards as usual."""
    was = gc.isenabled()
    gc.disable()
    try:
        with plt.rc_context(STYLE):
            yield
    finally:
        if was:
            gc.enable()


def cached(
    draw: Callable[..., bytes | None] | None = None, *, suffix: str = ".png"
) -> Callable[..., bytes | None]:
    """`draw` (returning image bytes or None) runs only for inputs not drawn before; kept
    as `<key><suffix>` (`@cached(suffix=".svg")` for an SVG). The wrapper carries what
    figure_pool.draw_many needs: `suffix`, `key(args)` and `fresh(*args)` (drawn, not
    looked up)."""

    def wrap(draw: Callable[..., bytes | None]) -> Callable[..., bytes | None]:
        def fresh(*args: object) -> bytes | None:
            with drawing():
                return draw(*args)

        @functools.wraps(draw)
        def wrapper(*args: object) -> bytes | None:
            entry = figure_key(draw.__name__, args)
            hit = figure_cache.lookup(entry, suffix)
            if hit is not None:
                return hit or None
            image = fresh(*args)
            figure_cache.store(entry, image or b"", suffix)
            return image

        wrapper.suffix = suffix  # type: ignore[attr-defined]
        wrapper.key = lambda args: figure_key(draw.__name__, args)  # type: ignore[attr-defined]
        wrapper.fresh = fresh  # type: ignore[attr-defined]
        return wrapper

    return wrap(draw) if draw is not None else wrap  # type: ignore[return-value]


def cached_file(draw: Callable[..., Path | None]) -> Callable[..., Path | None]:
    """`draw` (writing the PNG file its Path argument names, or returning None) runs only
    for inputs not drawn before; the file's name is not an input."""

    @functools.wraps(draw)
    def wrapper(*args: object) -> Path | None:
        at = next(i for i, a in enumerate(args) if isinstance(a, Path))
        path, inputs = args[at], args[:at] + args[at + 1 :]
        entry = figure_key(draw.__name__, inputs)
        hit = figure_cache.lookup(entry)
        if hit is not None:
            if not hit:
                return None
            Path(path).write_bytes(hit)  # type: ignore[arg-type]
            return Path(path)  # type: ignore[arg-type]
        with drawing():
            out = draw(*args)
        figure_cache.store(entry, out.read_bytes() if out is not None else b"")
        return out

    return wrapper


def save(fig: plt.Figure, path: Path) -> Path:
    """The figure written to `path` as PNG, closed afterwards."""
    lean_ticks(fig)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def png(fig: plt.Figure, tight: bool = True) -> bytes:
    """The figure as PNG bytes (for a data URI), closed afterwards. `tight=False`: the
    caller set the margins (tight_layout is a third of a small figure's cost)."""
    lean_ticks(fig)
    buf = io.BytesIO()
    if tight:
        fig.tight_layout()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()


def panel_grid(n: int, size: float = 3.2) -> tuple[plt.Figure, list[plt.Axes]]:
    """A figure of `n` square panels, at most 4 a row."""
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def cell_values(ax: plt.Axes, values: np.ndarray, cmap: str, digits: str = ".3f") -> None:
    """A heatmap with each cell's value written in a colour that reads on it."""
    image = ax.imshow(values, cmap=cmap, aspect="auto")
    for (i, j), v in np.ndenumerate(values):
        if v == v:  # NaN cells stay empty
            ax.text(j, i, format(v, digits), ha="center", va="center", fontsize=8,
                    color=ink(image.cmap(image.norm(v))))  # fmt: skip
