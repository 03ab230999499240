"""Small charts written as SVG text: the panels of the report's per-model figures.

matplotlib spends about a quarter of a second on a per-model figure (axes, ticks, text
layout, rasterising), most of a report's time once a run has dozens of models. These panels
are lines, steps, points and labelled cells on linear axes, which SVG states directly (the
browser lays the text out) in about a millisecond. No charting library in our stack writes
SVG without that layout cost, hence this small writer. Tick positions come from
matplotlib's MaxNLocator (arithmetic, no drawing); colours from its default cycle and
colour maps, so the panels match the PNG figures beside them.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

import matplotlib as mpl
import matplotlib.colors as mcolors
import numpy as np
from matplotlib.ticker import MaxNLocator

WIDTH, HEIGHT = 300, 290  # one panel, in CSS pixels
LEFT, RIGHT, TOP, BOTTOM = 54, 12, 30, 46  # the plot area's margins inside a panel
HEADER = 34  # the figure's title above the panels
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]  # fmt: skip  (matplotlib's default cycle)
FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
MAX_DOTS = 4_000  # a scatter's dots at most (denser clouds are drawn on a coarser grid)


def num(value: float) -> str:
    """A coordinate: one decimal, no "-0.0" (the same bytes for the same figure)."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def tick_text(value: float) -> str:
    return f"{value:.6g}"


@dataclass
class Panel:
    """One plot area with its axes; items are added in data coordinates."""

    title: str
    xlabel: str = ""
    ylabel: str = ""
    xlim: tuple[float, float] = (0.0, 1.0)
    ylim: tuple[float, float] = (0.0, 1.0)
    xticks: list[tuple[float, str]] | None = None  # None: chosen from the limits
    yticks: list[tuple[float, str]] | None = None
    rotate_xticks: int = 0  # degrees the x tick labels are turned (45, or 90 when crowded)
    body: list[str] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (label, colour)
    legend_at: str = "upper right"

    @functools.cached_property
    def left(self) -> float:
        """The plot area's left edge: room for the longest y tick label (a class name)."""
        ticks = self.yticks if self.yticks is not None else _ticks(self.ylim)
        longest = max((len(label) for _, label in ticks), default=0)
        return min(max(LEFT, 24 + 5.6 * longest), WIDTH / 2)

    def x(self, value: float) -> float:
        return self.left + _fraction(value, self.xlim) * (WIDTH - self.left - RIGHT)

    def y(self, value: float) -> float:
        return HEIGHT - BOTTOM - _fraction(value, self.ylim) * (HEIGHT - TOP - BOTTOM)

    def line(self, xs: Sequence[float], ys: Sequence[float], colour: str, width: float = 1.5,
             dashed: bool = False, opacity: float = 1.0) -> None:  # fmt: skip
        points = _thin(_pixels(self, xs, ys))
        if len(points) < 2:
            return
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        alpha = f' stroke-opacity="{opacity:g}"' if opacity < 1 else ""
        path = " ".join(f"{num(a)},{num(b)}" for a, b in points)
        self.body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                         f'stroke-width="{width:g}"{dash}{alpha}/>')  # fmt: skip

    def steps(self, edges: Sequence[float], counts: Sequence[float], colour: str) -> None:
        """A histogram's outline (as matplotlib's `stairs`)."""
        xs, ys = [edges[0]], [0.0]
        for i, count in enumerate(counts):
            xs += [edges[i], edges[i + 1]]
            ys += [float(count), float(count)]
        self.line([*xs, edges[-1]], [*ys, 0.0], colour)

    def points(self, xs: Sequence[float], ys: Sequence[float], colour: str) -> None:
        pixels = _pixels(self, xs, ys)
        # one dot per position: the same image, far fewer bytes; a dense cloud (100,000
        # predictions) on a coarser grid, so a figure stays some hundred kB
        for step in (0.1, 1.0, 2.0, 3.0, 4.0, 6.0):
            dots = {(round(a / step) * step, round(b / step) * step) for a, b in pixels}
            if len(dots) <= MAX_DOTS:
                break
        for a, b in sorted(dots):
            self.body.append(f'<circle cx="{num(a)}" cy="{num(b)}" r="2" fill="{colour}" '
                             'fill-opacity="0.5"/>')  # fmt: skip

    def cells(self, values: np.ndarray, cmap: str, digits: str = "d") -> None:
        """A matrix (row 0 at the top, as matplotlib's imshow), each cell coloured on the
        scale of its minimum to its maximum and labelled; NaN cells stay empty."""
        rows, cols = values.shape
        self.xlim, self.ylim = (-0.5, cols - 0.5), (rows - 0.5, -0.5)
        texts = [[format(v, digits) if v == v else "" for v in row] for row in values]
        size = _cell_font(self._cell_box(0, 0), max(len(t) for row in texts for t in row))
        finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values.ravel()
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        colours = mpl.colormaps[cmap](mcolors.Normalize(low, high)(values))
        for r in range(rows):
            for c in range(cols):
                value = values[r, c]
                if value != value:  # NaN
                    continue
                rgba = tuple(colours[r, c])
                x0, y0, w, h = self._cell_box(c, r)
                self.body.append(f'<rect x="{num(x0)}" y="{num(y0)}" width="{num(w)}" '
                                 f'height="{num(h)}" fill="{mcolors.to_hex(rgba)}"/>')  # fmt: skip
                self.body.append(_text(x0 + w / 2, y0 + h / 2 + size * 0.4, texts[r][c], size,
                                       ink(rgba), "middle"))  # fmt: skip

    def outline(self, col: int, row: int, colour: str) -> None:
        """A box around one cell of `cells` (a partial grid point)."""
        x0, y0, w, h = self._cell_box(col, row)
        self.body.append(f'<rect x="{num(x0 + 1.5)}" y="{num(y0 + 1.5)}" width="{num(w - 3)}" '
                         f'height="{num(h - 3)}" fill="none" stroke="{colour}" '
                         'stroke-width="3"/>')  # fmt: skip

    def _cell_box(self, col: int, row: int) -> tuple[float, float, float, float]:
        """x, y, width, height in pixels of the cell at (col, row) of `cells`."""
        x0, y0 = self.x(col - 0.5), self.y(row - 0.5)
        return x0, y0, self.x(col + 0.5) - x0, self.y(row + 0.5) - y0

    def render(self, left: float, top: float) -> str:
        parts = [f'<g transform="translate({num(left)},{num(top)})">', self._frame()]
        x0, w, h = num(self.left), num(WIDTH - self.left - RIGHT), HEIGHT - TOP - BOTTOM
        parts += [f'<clipPath id="c{num(left)}-{num(top)}"><rect x="{x0}" y="{TOP}" '
                  f'width="{w}" height="{h}"/></clipPath>',
                  f'<g clip-path="url(#c{num(left)}-{num(top)})">', *self.body, "</g>",
                  self._legend(), "</g>"]  # fmt: skip
        return "".join(parts)

    def _frame(self) -> str:
        right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
        centre = self.left + (right - self.left) / 2
        out = [f'<rect x="{num(self.left)}" y="{TOP}" width="{num(right - self.left)}" '
               f'height="{bottom - TOP}" fill="white" stroke="#333" stroke-width="0.8"/>']
        lines = self.title.split("\n")
        out += [_text(centre, TOP - 8 - 13 * (len(lines) - 1 - k), line, 11, "black", "middle")
                for k, line in enumerate(lines)]  # fmt: skip
        for value, label in self.xticks if self.xticks is not None else _ticks(self.xlim):
            px = self.x(value)
            out.append(f'<line x1="{num(px)}" y1="{bottom}" x2="{num(px)}" y2="{bottom + 4}" '
                       'stroke="#333" stroke-width="0.8"/>')  # fmt: skip
            if self.rotate_xticks:
                out.append(f'<text transform="translate({num(px)},{bottom + 12}) '
                           f'rotate(-{self.rotate_xticks})" '
                           f'font-size="9" text-anchor="end">{xml_text(label)}</text>')  # fmt: skip
            else:
                out.append(_text(px, bottom + 15, label, 9, "black", "middle"))
        for value, label in self.yticks if self.yticks is not None else _ticks(self.ylim):
            py = self.y(value)
            edge = self.left
            out.append(f'<line x1="{num(edge - 4)}" y1="{num(py)}" x2="{num(edge)}" '
                       f'y2="{num(py)}" stroke="#333" stroke-width="0.8"/>')  # fmt: skip
            out.append(_text(self.left - 6, py + 3, label, 9, "black", "end"))
        out.append(_text(centre, HEIGHT - 8, self.xlabel, 10, "black", "middle"))
        mid = TOP + (bottom - TOP) / 2
        out.append(f'<text transform="translate(12,{num(mid)}) rotate(-90)" font-size="10" '
                   f'text-anchor="middle">{xml_text(self.ylabel)}</text>')  # fmt: skip
        return "".join(out)

    def _legend(self) -> str:
        """A box of (line, label) entries inside the plot area, in as many columns as the
        entries need to fit its height; a label too long for its column is cut (with "…"),
        its whole text kept as the entry's tooltip."""
        if not self.legend:
            return ""
        space_w, space_h = WIDTH - self.left - RIGHT - 8, HEIGHT - TOP - BOTTOM - 8
        cols = math.ceil(len(self.legend) / max(1, int((space_h - 6) // 13)))
        rows = math.ceil(len(self.legend) / cols)
        longest = max(len(label) for label, _ in self.legend)
        col_w = min(20 + 5.6 * longest, space_w / cols)
        fits = max(1, int((col_w - 20) / 5.6))
        box_w, box_h = col_w * cols, 6 + 13 * rows
        x0 = WIDTH - RIGHT - 4 - box_w if "right" in self.legend_at else self.left + 4
        if "center" in self.legend_at:
            x0 = self.left + (WIDTH - self.left - RIGHT - box_w) / 2
        y0 = TOP + 4 if "upper" in self.legend_at else HEIGHT - BOTTOM - 4 - box_h
        out = [f'<rect x="{num(x0)}" y="{num(y0)}" width="{num(box_w)}" height="{num(box_h)}" '
               'fill="white" fill-opacity="0.85" stroke="#ccc"/>']  # fmt: skip
        for i, (label, colour) in enumerate(self.legend):
            x, y = x0 + col_w * (i // rows), y0 + 12 + 13 * (i % rows)
            shown = label if len(label) <= fits else label[: fits - 1] + "…"
            out.append(f'<g><title>{xml_text(label)}</title><line x1="{num(x + 4)}" '
                       f'y1="{num(y - 3)}" x2="{num(x + 16)}" y2="{num(y - 3)}" '
                       f'stroke="{colour}" stroke-width="2"/>'
                       f'{_text(x + 19, y, shown, 8, "black", "start")}</g>')  # fmt: skip
        return "".join(out)

def figure(title: str, panels: Sequence[Panel], cols: int, colour: str = "black") -> bytes:
    """The panels in a grid of `cols` columns under `title`: one SVG document."""
    rows = math.ceil(len(panels) / cols)
    header = HEADER if title else 0
    width, height = WIDTH * cols, header + HEIGHT * rows
    body = [panel.render(WIDTH * (i % cols), header + HEIGHT * (i // cols))
            for i, panel in enumerate(panels)]  # fmt: skip
    name = _text(width / 2, 22, title, 13, colour, "middle") if title else ""
    return document(width, height, [name, *body])


def limits(values: np.ndarray, pad: float = 0.05) -> tuple[float, float]:
    """Data limits with a margin (as matplotlib's autoscale), never empty, always finite
    (values near the float maximum too)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        lo, hi = lo - max(0.5, abs(lo) * 1e-9), hi + max(0.5, abs(hi) * 1e-9)
    else:
        margin = (hi / 2 - lo / 2) * 2 * pad  # halves: hi - lo may overflow
        lo, hi = lo - margin, hi + margin
    top = float(np.finfo(float).max)
    return max(lo, -top), min(hi, top)


def _fraction(value: float, lim: tuple[float, float]) -> float:
    """Where `value` lies from lim[0] (0) to lim[1] (1); in halves, so that neither
    difference overflows for values near the float maximum."""
    lo, hi = lim
    return (value / 2 - lo / 2) / ((hi / 2 - lo / 2) or 1.0)


def _pixels(panel: Panel, xs: Sequence[float], ys: Sequence[float]) -> list[tuple[float, float]]:
    """The finite data points as finite pixel positions."""
    out = []
    for a, b in zip(xs, ys, strict=True):
        if math.isfinite(a) and math.isfinite(b):
            px, py = panel.x(a), panel.y(b)
            if math.isfinite(px) and math.isfinite(py):
                out.append((px, py))
    return out


def _ticks(lim: tuple[float, float]) -> list[tuple[float, str]]:
    lo, hi = sorted(lim)
    try:
        values = MaxNLocator(5).tick_values(lo, hi)
    except (ValueError, OverflowError):
        values = np.array([np.inf])
    if not np.isfinite(values).all():  # a span past the float maximum: 5 even steps
        values = np.array([lo * (1 - k / 4) + hi * (k / 4) for k in range(5)])
    span = (hi / 2 - lo / 2) or 1.0
    return [(float(v), tick_text(float(v))) for v in values
            if lo - 1e-9 * span <= v <= hi + 1e-9 * span]  # fmt: skip


def _thin(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Consecutive points that land on the same half pixel drawn once: a curve of 100,000
    thresholds is a few hundred points on screen, and the file stays small."""
    out: list[tuple[float, float]] = []
    last = None
    for a, b in points:
        key = (round(a * 2), round(b * 2))
        if key != last:
            out.append((a, b))
            last = key
    return out


# characters XML 1.0 does not allow (control characters, lone surrogates, U+FFFE/U+FFFF):
# one in a name would make the whole figure unreadable, so each shows as U+FFFD
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`text` as SVG character data: escaped, and only characters XML allows."""
    return escape(_NOT_XML.sub("\ufffd", text))


def _cell_font(box: tuple[float, float, float, float], longest: int) -> int:
    """The font size (10 at most, 5 at least) at which a cell's value fits its cell."""
    _, _, w, h = box
    return max(5, min(10, int(abs(h) * 0.75), int(abs(w) / (0.62 * max(longest, 1)))))


def _text(x: float, y: float, text: str, size: int, colour: str, anchor: str) -> str:
    fill = "" if colour == "black" else f' fill="{colour}"'
    return (f'<text x="{num(x)}" y="{num(y)}" font-size="{size}" text-anchor="{anchor}"'
            f"{fill}>{xml_text(text)}</text>")  # fmt: skip


def ink(rgba: tuple[float, ...]) -> str:
    """Black or white, whichever reads on a cell of colour `rgba` (relative luminance)."""
    r, g, b = rgba[:3]
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "white"


def document(width: float, height: float, body: Sequence[str]) -> bytes:
    """One SVG document of `width` x `height` CSS pixels on white."""
    w, h = num(width), num(height)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" font-family="{FONT}">'
            f'<rect width="{w}" height="{h}" fill="white"/>')  # fmt: skip
    return (head + "".join(body) + "</svg>").encode("utf-8")


def _chars(n: int, size: int) -> float:
    """About how wide `n` characters of a `size` px sans-serif font are."""
    return n * size * 0.6


ROW = 16  # a forest plot's row, in pixels


def forest(rows: Sequence[tuple[str, float, float, float, str, bool]], title: str,
           xlabel: str) -> bytes:  # fmt: skip
    """One row per (label, mean, low, high, colour, bold), top to bottom: the interval as a
    line with end ticks and the mean as a dot, on one x axis."""
    left = 12 + min(_chars(max(len(r[0]) for r in rows), 8), 520)
    width, top = max(1100.0, left + 400), 40
    height = top + ROW * len(rows) + 48
    values = np.array([v for r in rows for v in r[1:4]], dtype=float)
    lim = limits(values)
    span = width - 24 - left

    def x(value: float) -> float:
        return left + span * _fraction(value, lim)

    out = [_text(width / 2, 22, title, 11, "black", "middle")]
    bottom = top + ROW * len(rows)
    for value, label in _ticks(lim):
        out.append(f'<line x1="{num(x(value))}" y1="{top}" x2="{num(x(value))}" '
                   f'y2="{bottom}" stroke="#ccc" stroke-width="0.8"/>')  # fmt: skip
        out.append(_text(x(value), bottom + 15, label, 9, "black", "middle"))
    for i, (label, mean, low, high, colour, bold) in enumerate(rows):
        y = top + ROW * i + ROW / 2
        if math.isfinite(low) and math.isfinite(high):
            out.append(f'<path d="M{num(x(low))},{num(y)}H{num(x(high))}M{num(x(low))},'
                       f'{num(y - 3)}V{num(y + 3)}M{num(x(high))},{num(y - 3)}V{num(y + 3)}" '
                       f'stroke="{colour}" fill="none"/>')  # fmt: skip
        if math.isfinite(mean):
            out.append(f'<circle cx="{num(x(mean))}" cy="{num(y)}" r="3" fill="{colour}"/>')
        weight = ' font-weight="bold"' if bold else ""
        out.append(f'<text x="{num(left - 6)}" y="{num(y + 3)}" font-size="8" '
                   f'text-anchor="end" fill="{colour if colour != "#8a8a8a" else "black"}"'
                   f'{weight}>{xml_text(label)}</text>')  # fmt: skip
    out.append(f'<rect x="{num(left)}" y="{top}" width="{num(span)}" height="{bottom - top}" '
               'fill="none" stroke="#333" stroke-width="0.8"/>')  # fmt: skip
    out.append(_text(left + span / 2, height - 10, xlabel, 10, "black", "middle"))
    return document(width, height, out)


def pvalue_matrix(labels: Sequence[str], p: np.ndarray, alpha: float, title: str) -> bytes:
    """The lower triangle of `p` (rows and columns in `labels`' order): a cell blue when
    p < alpha, pale otherwise, with its value when the cells are large enough to read."""
    n = len(labels)
    ticks = [f"{i + 1}. {label}" for i, label in enumerate(labels)]
    cell = max(12.0, min(40.0, 640 / n))
    left, top = 12 + min(_chars(max(map(len, ticks)), 8), 420), 40
    width = max(left + cell * n + 20, _chars(len(title), 11) + 40)
    height = top + cell * n + 44
    cmap = mpl.colormaps["Blues_r"]
    strong, pale = cmap(0.15), cmap(0.95)
    font = _cell_font((0, 0, cell, cell), 5)
    out = [_text(width / 2, 22, title, 11, "black", "middle")]
    for i in range(n):
        y = top + cell * i
        out.append(_text(left - 6, y + cell / 2 + 3, ticks[i], 8, "black", "end"))
        out.append(_text(left + cell * i + cell / 2, top + cell * n + 14, str(i + 1), 8,
                         "black", "middle"))  # fmt: skip
        for j in range(i):
            value = p[i, j]
            if value != value:
                continue
            rgba = strong if value < alpha else pale
            out.append(f'<rect x="{num(left + cell * j)}" y="{num(y)}" width="{num(cell)}" '
                       f'height="{num(cell)}" fill="{mcolors.to_hex(rgba)}" stroke="white" '
                       'stroke-width="0.5"/>')  # fmt: skip
            if n <= 30:
                text = "<.001" if value < 0.001 else f"{value:.3f}"
                out.append(_text(left + cell * j + cell / 2, y + cell / 2 + font * 0.4, text,
                                 font, ink(rgba), "middle"))  # fmt: skip
    out.append(_text(left + cell * n / 2, height - 10, "model (rank)", 10, "black", "middle"))
    return document(width, height, out)
