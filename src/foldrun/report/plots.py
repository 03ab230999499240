"""The report's PNG plots (matplotlib, Agg backend). Each function writes one file or returns
None when the plot does not apply to this run (e.g. ROC curves for a regression)."""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import io
import json
import math
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, TypeVar

import matplotlib

matplotlib.use("Agg")  # no display, ever
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from pyarrow import ArrowException

from foldrun.core.files import write_atomic, write_with
from foldrun.report import svg
from foldrun.report.svg import ink
from foldrun.results.metrics import as_labels

MAX_PANELS = 8  # per-model plots show at most this many models (the best ranked)
DPI = 90
CACHE = ".plots"  # under results/: drawn images keyed on a hash of their inputs


class _Cache:
    """Where drawn images are kept while a report is built (None: not kept), and the keys
    this build used (the others are removed at its end)."""

    folder: ClassVar[Path | None] = None
    used: ClassVar[set[str]] = set()


@contextmanager
def cache(results_dir: Path) -> Iterator[None]:
    """Within, a plot whose inputs (data, titles, this module's code, matplotlib's version)
    hash to those of one drawn before is read from `results_dir/.plots` instead of drawn
    again: nothing changed, nothing redrawn; one model changed, one model redrawn. Images
    no longer used are removed at the end, so the folder holds only the last report's.
    A cache that cannot be read or written is skipped (the plot is drawn)."""
    folder, used = results_dir / CACHE, set[str]()  # pruned even if another cleared _Cache
    _Cache.folder, _Cache.used = folder, used
    try:
        yield
        _prune(folder, used | _Cache.used)
    finally:
        _Cache.folder, _Cache.used = None, set()


KINDS = ("png", "svg", "json", "parquet")  # what the cache holds


def keys_used() -> frozenset[str]:
    """The cache entries this build has used so far."""
    return frozenset(_Cache.used)


_T = TypeVar("_T")


def with_keys_used(work: Callable[[], _T]) -> tuple[_T, frozenset[str]]:
    """`work()` and the cache entries it used: what a forked worker hands back, for the
    parent to `mark_used`."""
    before = keys_used()
    return work(), keys_used() - before


def mark_used(keys: frozenset[str]) -> None:
    """Entries a forked worker used count as this build's (else the end of the build
    would remove what the worker kept)."""
    _Cache.used |= keys


def _prune(folder: Path, used: set[str]) -> None:
    """Removes the entries this build did not use, and temporaries of a killed one."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        stem, dot, suffix = entry.name.partition(".")
        kind = suffix.rpartition(".")[2]  # `<key>.png`, `<key>.json`, `<key>.<name>.parquet`
        ours = (dot and kind in KINDS and stem not in used) or suffix.endswith("tmp")
        if ours:
            Path(entry.path).unlink(missing_ok=True)


@functools.cache
def _code_version() -> bytes:
    """This module's and svg.py's source and matplotlib's version: a change to any redraws
    all."""
    code = Path(__file__).read_bytes() + Path(svg.__file__).read_bytes()
    return code + matplotlib.__version__.encode()


def _digest(h: hashlib._Hash, value: object) -> None:
    """Feeds `value` to the hash: frames by their columns, dtypes and every cell."""
    if isinstance(value, pd.DataFrame | pd.Series):
        frame = value.to_frame() if isinstance(value, pd.Series) else value
        h.update(repr((type(value).__name__, list(frame.columns), list(map(str, frame.dtypes)),
                       frame.shape)).encode())  # fmt: skip
        try:
            h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        except TypeError:  # cells pandas cannot hash (mixed objects): their text
            h.update(frame.to_csv().encode())
    elif isinstance(value, np.ndarray):
        h.update(repr((value.dtype.str, value.shape)).encode())
        h.update(value.tobytes() if value.dtype != object else repr(value.tolist()).encode())
    elif isinstance(value, dict):
        h.update(b"{")
        for k, v in value.items():
            _digest(h, k)
            _digest(h, v)
        h.update(b"}")
    elif isinstance(value, list | tuple):
        h.update(b"[")
        for v in value:
            _digest(h, v)
        h.update(b"]")
    else:
        h.update(repr((type(value).__name__, value)).encode())
    h.update(b";")


def _key(name: str, inputs: object, code: bytes = b"") -> str:
    h = hashlib.sha256(code or _code_version())
    _digest(h, (name, inputs))
    return h.hexdigest()


# an entry saying the plot did not apply (an empty file is a damaged entry, never this)
NOT_DRAWN = b"foldrun: no figure for these inputs\n"
_PNG_START, _PNG_END = b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82"


def _lookup(key: str, suffix: str = ".png") -> bytes | None:
    """The entry stored under `key` (b"": the plot did not apply), or None: none, or one
    that is not whole (empty, truncated, overwritten: drawn again and replaced)."""
    if _Cache.folder is None:
        return None
    _Cache.used.add(key)
    try:
        data = (_Cache.folder / f"{key}{suffix}").read_bytes()
    except OSError:
        return None
    if data == NOT_DRAWN:
        return b""
    return data if _whole(data, suffix) else None


def _whole(data: bytes, suffix: str) -> bool:
    """Whether a cache entry reads whole: a PNG from its signature to its IEND chunk, an
    SVG from its tag to </svg>, JSON that parses. foldrun writes entries atomically, so a
    damaged one was damaged by something else; it is never copied into a report."""
    if suffix == ".png":
        return data.startswith(_PNG_START) and data.endswith(_PNG_END)
    if suffix == ".svg":
        return data.lstrip().startswith((b"<svg", b"<?xml")) and data.rstrip().endswith(b"</svg>")
    if suffix == ".json":
        try:
            json.loads(data)
        except ValueError:
            return False
    return bool(data)


def _store(key: str, data: bytes, suffix: str = ".png") -> None:
    if _Cache.folder is None:
        return
    with contextlib.suppress(OSError):  # a cache that cannot be written is only slower
        write_atomic(_Cache.folder / f"{key}{suffix}", data or NOT_DRAWN)


def remembered(name: str, inputs: object, code: bytes, compute: Callable[[], object]) -> object:
    """A JSON value computed from `inputs` by `code` (the source it depends on), kept like
    the images: computed again only when an input or the code changed."""
    key = _key(name, inputs, code)
    hit = _lookup(key, ".json")
    if hit:
        try:
            return json.loads(hit)
        except ValueError:
            pass
    value = compute()
    _store(key, json.dumps(value).encode(), ".json")  # NaN round-trips; floats exactly
    return value


# Titles at the top of their axes, where matplotlib would put them: placing them
# automatically (above any tick labels on top, which no plot here has) measures every
# axis, a quarter of a figure's time.
STYLE = {"axes.titley": 1.0}


@contextmanager
def _drawing() -> Iterator[None]:
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


def remembered_frames(
    name: str,
    inputs: object,
    code: bytes,
    compute: Callable[[], tuple[dict[str, pd.DataFrame], object]],
) -> tuple[dict[str, pd.DataFrame], object]:
    """(frames, JSON value) computed from `inputs` by `code`, kept like the images: the
    frames as Parquet files (never pickles: a run folder from elsewhere must not run code),
    and only when they read back exactly (columns, dtypes, index, every cell), so a report
    from the cache is the report computed afresh. Cache entries `compute` used (pooled
    intervals) are kept as long as this one is."""
    key = _key(name, inputs, code)
    hit = _lookup(key, ".json")
    if hit and _Cache.folder is not None:
        try:
            head = json.loads(hit)
            frames = {n: pd.read_parquet(_Cache.folder / f"{key}.{n}.parquet")
                      for n in head["frames"]}  # fmt: skip
            _Cache.used.update(head["uses"])
            return frames, head["value"]
        except (OSError, ValueError, KeyError, TypeError, ArrowException):
            pass
    before = set(_Cache.used)
    frames, value = compute()
    if _Cache.folder is not None:
        head = {"frames": list(frames), "value": value, "uses": sorted(_Cache.used - before)}
        with contextlib.suppress(OSError, ValueError, TypeError, ArrowException):
            for n, frame in frames.items():
                path = _Cache.folder / f"{key}.{n}.parquet"
                write_with(path, lambda tmp, frame=frame: frame.to_parquet(tmp))
                if not _same(frame, pd.read_parquet(path)):
                    return frames, value  # not kept: computed again next time
            _store(key, json.dumps(head).encode(), ".json")  # last: the entry is whole
    return frames, value


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    same_dtypes = list(map(str, a.dtypes)) == list(map(str, b.dtypes))
    same_index = type(a.index) is type(b.index) and a.index.equals(b.index)
    same_columns = list(a.columns) == list(b.columns) and a.columns.dtype == b.columns.dtype
    return same_columns and same_dtypes and same_index and a.equals(b)


def cached(
    draw: Callable[..., bytes | None] | None = None, *, suffix: str = ".png"
) -> Callable[..., bytes | None]:
    """`draw` (returning image bytes or None) runs only for inputs not drawn before; kept
    as `<key><suffix>` (`@cached(suffix=".svg")` for an SVG)."""

    def wrap(draw: Callable[..., bytes | None]) -> Callable[..., bytes | None]:
        @functools.wraps(draw)
        def wrapper(*args: object) -> bytes | None:
            key = _key(draw.__name__, args)
            hit = _lookup(key, suffix)
            if hit is not None:
                return hit or None
            with _drawing():
                image = draw(*args)
            _store(key, image or b"", suffix)
            return image

        wrapper.suffix = suffix  # type: ignore[attr-defined]
        return wrapper

    return wrap(draw) if draw is not None else wrap  # type: ignore[return-value]


def draw_many(draw: Callable[..., bytes | None], calls: Sequence[tuple[object, ...]]):
    """`[draw(*args) for args in calls]` for a `cached` draw: those in the cache are read,
    the others drawn in a pool of processes (at most one per CPU; forked, so nothing is
    imported again) and kept. A figure is the same bytes from a worker as from this process
    (the same code and matplotlib state), so a report stays byte-identical however many
    figures were drawn afresh."""
    name, suffix = draw.__name__, getattr(draw, "suffix", ".png")
    keys = [_key(name, args) for args in calls]
    out: list[bytes | None] = [None] * len(calls)
    todo = []
    for i, key in enumerate(keys):
        hit = _lookup(key, suffix)
        if hit is None:
            todo.append(i)
        else:
            out[i] = hit or None
    images = _draw_all(name, [calls[i] for i in todo])
    for i, image in zip(todo, images, strict=True):
        _store(keys[i], image or b"", suffix)
        out[i] = image
    return out


WORKERS: int | None = None  # processes drawing figures (None: one per CPU this process may use)


def workers() -> int:
    """Processes that draw at once: WORKERS, else one per CPU this process may use."""
    from foldrun.core.forked import cpus

    return WORKERS if WORKERS is not None else cpus()


def _draw_all(name: str, calls: list[tuple[object, ...]]) -> list[bytes | None]:
    """`name`'s drawing (uncached) of every call, spread over forked workers."""
    from foldrun.core.forked import forked_map

    return forked_map(lambda i: _draw_one(name, calls[i]), len(calls), workers())


def _draw_one(name: str, args: tuple[object, ...]) -> bytes | None:
    with _drawing():
        return globals()[name].__wrapped__(*args)  # type: ignore[no-any-return]


def cached_file(draw: Callable[..., Path | None]) -> Callable[..., Path | None]:
    """`draw` (writing the PNG file its Path argument names, or returning None) runs only
    for inputs not drawn before; the file's name is not an input."""

    @functools.wraps(draw)
    def wrapper(*args: object) -> Path | None:
        at = next(i for i, a in enumerate(args) if isinstance(a, Path))
        path, inputs = args[at], args[:at] + args[at + 1 :]
        key = _key(draw.__name__, inputs)
        hit = _lookup(key)
        if hit is not None:
            if not hit:
                return None
            Path(path).write_bytes(hit)  # type: ignore[arg-type]
            return Path(path)  # type: ignore[arg-type]
        with _drawing():
            out = draw(*args)
        _store(key, out.read_bytes() if out is not None else b"")
        return out

    return wrapper


def _save(fig: plt.Figure, path: Path) -> Path:
    _lean_ticks(fig)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def png(fig: plt.Figure, tight: bool = True) -> bytes:
    """The figure as PNG bytes (for a data URI), closed afterwards. `tight=False`: the
    caller set the margins (tight_layout is a third of a small figure's cost)."""
    _lean_ticks(fig)
    buf = io.BytesIO()
    if tight:
        fig.tight_layout()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()


class _InView(mticker.Locator):
    """An automatic locator's ticks less those outside the axis's view: matplotlib makes a
    tick (two lines, a grid line, two texts) for each one and never draws those outside,
    a quarter of the ticks of an axis. What is drawn is the same."""

    def __init__(self, inner: mticker.Locator) -> None:
        self.inner = inner

    def set_axis(self, axis: object) -> None:
        super().set_axis(axis)  # type: ignore[arg-type]
        self.inner.set_axis(axis)  # type: ignore[arg-type]

    def __call__(self) -> Sequence[float]:
        low, high = sorted(self.axis.get_view_interval())  # type: ignore[union-attr]
        slack = (high - low) * 1e-6  # matplotlib decides on the edges
        return [v for v in self.inner() if low - slack <= v <= high + slack]

    def tick_values(self, vmin: float, vmax: float) -> Sequence[float]:
        return self.inner.tick_values(vmin, vmax)


def _text_width(texts: Sequence[str], size: float) -> float:
    """The width in inches of the widest of `texts` at font `size` (bold, the wider), as
    matplotlib lays it out: a figure with hundreds of labels need not be laid out twice
    (tight_layout) to fit them."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(1, 1, 72)  # 72 dpi: pixels are points
    prop = FontProperties(size=size, weight="bold")
    widest = max((renderer.get_text_width_height_descent(t, prop, ismath=False)[0]
                  for t in texts), default=0.0)  # fmt: skip
    return widest / 72


def _margins(fig: plt.Figure, labels: Sequence[str], size: float, bottom: float,
             top: float) -> None:  # fmt: skip
    """Margins in inches: left fits the y tick `labels` (font `size`), bottom the x tick
    labels and the x label, top the title."""
    width, height = fig.get_size_inches()
    left = _text_width(labels, size) + 0.25
    fig.subplots_adjust(left=min(left / width, 0.6), right=1 - 0.25 / width,
                        bottom=bottom / height, top=1 - top / height)  # fmt: skip


def _lean_ticks(fig: plt.Figure) -> None:
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            locator = axis.get_major_locator()
            if type(locator) is mticker.AutoLocator:
                axis.set_major_locator(_InView(locator))


def ordered(values: object) -> list[object]:
    """Distinct values in numeric order when every one is a number (8 before 32), else
    in text order."""
    distinct = list(dict.fromkeys(values))  # type: ignore[call-overload]
    try:
        return sorted(distinct, key=lambda v: float(v))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return sorted(distinct, key=str)


def tick(value: object) -> str:
    """A parameter value as a tick label: 1.0 -> "1", 0.001 -> "0.001", 1e-05 -> "1e-05"."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _cell_values(ax: plt.Axes, values: np.ndarray, cmap: str, digits: str = ".3f") -> None:
    """A heatmap with each cell's value written in a colour that reads on it."""
    image = ax.imshow(values, cmap=cmap, aspect="auto")
    for (i, j), v in np.ndenumerate(values):
        if v == v:  # NaN cells stay empty
            ax.text(j, i, format(v, digits), ha="center", va="center", fontsize=8,
                    color=ink(image.cmap(image.norm(v))))  # fmt: skip


def _label(model: str, variant: str) -> str:
    return model if variant == "default" else f"{model}/{variant}"


def _grid(n: int, size: float = 3.2) -> tuple[plt.Figure, list[plt.Axes]]:
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


@cached_file
def metric_per_fold(
    metrics: pd.DataFrame,
    ranking: pd.DataFrame,
    primary: str,
    path: Path,
    labels: dict[tuple[str, str], str] | None = None,
) -> Path | None:
    """Every fold's test score per selected variant (points) with mean ± CI (bar).
    `labels`: each variant's label, a partial one saying so (report.models.plot_labels)."""
    if ranking.empty:
        return None
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(ranking) + 2), 4))
    rng = np.random.default_rng(0)
    rows = metrics[
        (metrics["metric"] == primary) & (metrics["subset"] == "test") & (metrics["fold"] >= 0)
    ]
    by_variant = rows.groupby(["model", "variant"])["value"]
    xs, ys = [], []
    for x, key in enumerate(zip(ranking["model"], ranking["variant"], strict=True)):
        values = by_variant.get_group(key).to_numpy(float) if key in by_variant.groups else []
        xs.extend(x + rng.uniform(-0.12, 0.12, len(values)))
        ys.extend(values)
    # one scatter and one errorbar call for every model: per-model calls cost ~50 ms each
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ax.scatter(xs, ys, s=14, alpha=0.6, c=[colors[round(x) % len(colors)] for x in xs])
    mean = ranking["mean"].to_numpy(float)
    # the interval drawn as it is, as in the forest plot: a logit-scale interval near a
    # bound can lie beside its mean, which errorbar refuses (negative error)
    x = np.arange(len(ranking)) + 0.25
    low, high = ranking["ci_low"].to_numpy(float), ranking["ci_high"].to_numpy(float)
    ax.vlines(x, low, high, color="black", lw=1)
    ax.plot(np.r_[x, x], np.r_[low, high], "_", color="black", ms=8)
    ax.plot(x, mean, "o", color="black")
    # a partial variant (fewer folds than planned) says so, in red; without `labels`, one
    # with fewer folds than the most any has
    n = ranking["n"].to_numpy() if "n" in ranking else np.zeros(len(ranking))
    full = n.max() if len(n) else 0
    keys = list(zip(ranking.model, ranking.variant, strict=True))
    if labels is None:
        labels = {(m, v): _label(m, v) + (f" (PARTIAL {k}/{full})" if k < full else "")
                  for (m, v), k in zip(keys, n, strict=True)}  # fmt: skip
    texts = [labels.get(key, _label(*key)) for key in keys]
    ax.set_xticks(range(len(ranking)))
    ax.set_xticklabels(texts, rotation=30, ha="right")
    for tick, text in zip(ax.get_xticklabels(), texts, strict=True):
        tick.set_color(PARTIAL if "(PARTIAL" in text else "black")
    ax.set_ylabel(f"test {primary}")
    ax.set_title(f"{primary} per fold (points) and mean ± 95% CI")
    return _save(fig, path)


def _binary_scores(part: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """(truth 0/1, score) of the positive class; multiclass: micro-averaged one-vs-rest."""
    probas = [c for c in part.columns if c.startswith("proba_")]
    y = as_labels(part["y_true"])
    if len(probas) >= 2:
        classes = [c.removeprefix("proba_") for c in probas]
        if len(classes) == 2:
            return (y == classes[1]).astype(int), part[probas[1]].to_numpy(float)
        truth = np.stack([y == c for c in classes], 1).astype(int)
        return truth.ravel(), part[probas].to_numpy(float).ravel()
    if "score" in part:
        return (y == sorted(set(y))[-1]).astype(int), part["score"].to_numpy(float)
    return None


@cached_file
def curves(oof: dict[str, pd.DataFrame], kind: str, path: Path) -> Path | None:
    """ROC (`kind="roc"`) or precision-recall curves of pooled out-of-fold predictions."""

    fig, ax = plt.subplots(figsize=(5.5, 5))
    drawn = sum(_curve(ax, part, kind, label) for label, part in oof.items())
    if not drawn:
        plt.close(fig)
        return None
    _curve_axes(ax, kind)
    return _save(fig, path)


def _curve(ax: plt.Axes, part: pd.DataFrame, kind: str, label: str) -> bool:
    """One ROC or PR line of `part`'s pooled predictions; False when it does not apply."""
    scores = curve_scores(part)
    if scores is None:
        return False
    xs, ys, text = curve_line(*scores, kind)
    ax.plot(xs, ys, label=f"{label} ({text})" if label else text)
    return True


def curve_scores(part: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """(truth 0/1, score) of the rows with a label and a finite score (a failed row's NaN
    is left out), or None when they hold fewer than two classes: no curve then."""
    scores = _binary_scores(part.dropna(subset=["y_true"])) if "y_true" in part else None
    if scores is None:
        return None
    finite = np.isfinite(scores[1])
    truth, score = scores[0][finite], scores[1][finite]
    return (truth, score) if len(set(truth)) >= 2 else None


def curve_line(truth: np.ndarray, score: np.ndarray, kind: str) -> tuple[object, object, str]:
    """The ROC (`kind="roc"`: false and true positive rates) or precision-recall (recall,
    precision) points, and the score that names them ("AUC 0.912", "AP 0.874")."""
    from sklearn import metrics as skm

    if kind == "roc":
        fpr, tpr, _ = skm.roc_curve(truth, score)
        return fpr, tpr, f"AUC {skm.auc(fpr, tpr):.3f}"
    precision, recall, _ = skm.precision_recall_curve(truth, score)
    return recall, precision, f"AP {skm.average_precision_score(truth, score):.3f}"


def _curve_axes(ax: plt.Axes, kind: str) -> None:
    if kind == "roc":
        ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
        ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, out-of-fold")
    else:
        ax.set(xlabel="recall", ylabel="precision", title="Precision-recall, out-of-fold")
    ax.legend(fontsize=7, loc="lower right" if kind == "roc" else "lower left")


def _predicted_labels(part: pd.DataFrame) -> np.ndarray:
    probas = [c for c in part.columns if c.startswith("proba_")]
    if "pred" in part and (part["pred"].notna().all() or not probas):
        # rows of a model that gave no label (only a score) show as "none", never a crash
        return np.where(part["pred"].notna(), as_labels(part["pred"]), "none")
    classes = np.asarray([c.removeprefix("proba_") for c in probas])
    return classes[part[probas].to_numpy(float).argmax(1)]


@cached_file
def confusion(oof: dict[str, pd.DataFrame], path: Path) -> Path | None:
    items = [
        (k, v) for k, v in oof.items() if "pred" in v or any(v.columns.str.startswith("proba_"))
    ]
    return _panel_per_model(items, _confusion, path)


def _panel_per_model(
    items: list[tuple[str, pd.DataFrame]],
    draw: Callable[[plt.Axes, pd.DataFrame, str], None],
    path: Path,
) -> Path | None:
    """One panel per (label, out-of-fold predictions), drawn by `draw`; None without any."""
    if not items:
        return None
    fig, axes = _grid(len(items))
    for ax, (label, part) in zip(axes, items, strict=True):
        draw(ax, part, label)
    return _save(fig, path)


def _confusion(ax: plt.Axes, part: pd.DataFrame, title: str) -> None:
    labels, counts = confusion_counts(part)
    _cell_values(ax, counts, "Blues", "d")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set(xlabel="predicted", ylabel="true", title=title)


def confusion_counts(part: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """The classes (true and predicted, sorted) and the counts, rows true, columns predicted."""
    from sklearn.metrics import confusion_matrix

    y = as_labels(part["y_true"])
    pred = _predicted_labels(part)
    labels = sorted(set(y) | set(pred))
    return labels, confusion_matrix(y, pred, labels=labels)


@cached_file
def predicted_vs_true(oof: dict[str, pd.DataFrame], path: Path) -> Path | None:
    return _panel_per_model(list(oof.items()), _scatter, path)


def _scatter(ax: plt.Axes, part: pd.DataFrame, title: str) -> None:
    y = part["y_true"].to_numpy(float)
    pred = part["pred"].to_numpy(float)
    ax.scatter(y, pred, s=8, alpha=0.5)
    lo, hi = np.nanmin([y.min(), pred.min()]), np.nanmax([y.max(), pred.max()])
    ax.plot([lo, hi], [lo, hi], ls="--", color="grey", lw=1)
    ax.set(xlabel="true", ylabel="predicted", title=title)


@cached_file
def prediction_distribution(oof: dict[str, pd.DataFrame], path: Path) -> Path | None:
    """Score of the positive class (binary) or the top probability, per true class."""
    items = [(k, v) for k, v in oof.items() if _binary_scores(v) is not None]
    return _panel_per_model(items, _distribution, path)


def _distribution(ax: plt.Axes, part: pd.DataFrame, title: str) -> None:
    xlabel, hists = score_histograms(part)
    for cls, counts, edges in hists:
        # step outlines: one polygon per class instead of 20 bars (much faster to draw)
        ax.stairs(counts, edges, lw=1.5, label=cls)  # one artist, fast
    ax.set(xlabel=xlabel, ylabel="rows", title=title)
    ax.legend(fontsize=7, loc="upper center")


def score_histograms(part: pd.DataFrame) -> tuple[str, list[tuple[str, np.ndarray, np.ndarray]]]:
    """What the score distribution shows: the positive class's score (binary) or the top
    probability, as 20 bins per true class over [0, 1], or over the scores' own range when
    they leave it (a decision function's margins): (x label, [(class, counts, edges)])."""
    probas = [c for c in part.columns if c.startswith("proba_")]
    if len(probas) > 2:
        score, xlabel = part[probas].to_numpy(float).max(1), "top probability"
    else:
        score, xlabel = _binary_scores(part)[1], "score of the positive class"  # type: ignore[index]
    y = as_labels(part["y_true"])
    finite = np.isfinite(score)
    score, y = score[finite], y[finite]
    low, high = (float(score.min()), float(score.max())) if score.size else (0.0, 1.0)
    span = (0.0, 1.0) if low >= 0 and high <= 1 else (low, high if high > low else low + 1)
    return xlabel, [(str(cls), *np.histogram(score[y == cls], bins=20, range=span))
                    for cls in sorted(set(y))]  # fmt: skip


def training_curves(task_paths: dict[str, list[Path]], path: Path) -> Path | None:
    """The training curves of the selected variants' tasks (results/curves.py reads them):
    one panel per curve, train solid and val dashed in it."""
    rows, unreadable = [], 0
    for label, paths in task_paths.items():
        for fold, folder in enumerate(paths):
            found, bad = read_curves(folder, label, fold)
            rows, unreadable = rows + found, unreadable + bad
    if not rows:
        return None
    return _training_figure(pd.DataFrame(rows), list(task_paths), path, unreadable)


@cached_file
def _training_figure(df: pd.DataFrame, labels: list[str], path: Path, unreadable: int = 0):
    df = df.assign(base=[curve_base(n)[0] for n in df["name"]])
    bases = sorted(df["base"].unique())[:MAX_PANELS]
    fig, axes = _grid(len(bases), size=3.6)
    colors = dict(zip(labels, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 10,
                      strict=False))  # fmt: skip
    for ax, base in zip(axes, bases, strict=True):
        for (label, name, fold), part in df[df["base"] == base].groupby(["label", "name", "fold"]):
            dashed = curve_base(str(name))[1] not in ("", "train")  # val (test) dashed
            ax.plot(part["step"], part["value"], color=colors[label], alpha=0.6, lw=1,
                    ls="--" if dashed else "-",
                    label=f"{label} {name}" if fold == part["fold"].min() else None)  # fmt: skip
        ax.set(xlabel="step", title=base)
    handles = {h.get_label(): h for ax in axes for h in ax.get_lines() if h.get_label()[:1] != "_"}
    if handles:
        axes[0].legend(handles.values(), handles.keys(), fontsize=7)
    if unreadable:
        fig.suptitle(unreadable_note(unreadable), fontsize=8, color=PARTIAL)
    return _save(fig, path)


def unreadable_note(count: int) -> str:
    return f"{count} line(s) of the training logs could not be read: left out"


_SURROGATE = re.compile("[\ud800-\udfff]")


def read_curves(folder: Path, label: str, fold: int) -> tuple[list[dict[str, object]], int]:
    """A task folder's curve points as rows (label, fold, name, value, step), and how many
    lines of its logs could not be read (never drawn)."""
    from foldrun.results.curves import task_curves

    found = task_curves(folder)
    return _rows(found.points, label, fold), found.unreadable


def read_jsonl(path: Path, label: str, fold: int) -> list[dict[str, object]]:
    """The points of one curve file as rows (see read_curves)."""
    from foldrun.results.curves import read_file

    return _rows(read_file(path).points, label, fold)


def _rows(points: list, label: str, fold: int) -> list[dict[str, object]]:
    # JSON can hold a lone surrogate ("\\ud800"), which no frame of text can
    return [{"label": label, "fold": fold, "name": _SURROGATE.sub("\ufffd", name),
             "value": value, "step": step} for name, step, value, _ in points]  # fmt: skip


@cached_file
def grid_heatmaps(grids: list[tuple[str, str, str, pd.DataFrame]], primary: str, path: Path):
    """Mean test score over each model's 2-parameter grid; `grids` holds (model, x, y,
    frame with columns x, y, mean), one panel per model."""
    if not grids:
        return None
    fig, axes = _grid(len(grids), size=4.2)
    for ax, (model, x, y, means) in zip(axes, grids, strict=True):
        _heatmap(ax, means, x, y, f"{model}: mean test {primary}")
    return _save(fig, path)


def _heatmap(ax: plt.Axes, means: pd.DataFrame, x: str, y: str, title: str) -> None:
    """Mean score over a 2-parameter grid; both axes in numeric order when numeric."""
    table = means.pivot_table(index=y, columns=x, values="mean", aggfunc="mean")
    table = table.reindex(index=ordered(table.index), columns=ordered(table.columns))
    _cell_values(ax, table.to_numpy(float), "viridis")
    ax.set_xticks(range(table.shape[1]), [tick(c) for c in table.columns])
    ax.set_yticks(range(table.shape[0]), [tick(c) for c in table.index])
    partial = _partial(means)
    cols, rows = list(table.columns), list(table.index)
    for px, py in zip(means.loc[partial, x], means.loc[partial, y], strict=True):
        j, i = cols.index(px), rows.index(py)
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec=PARTIAL, lw=2.5))
    ax.set(xlabel=x, ylabel=y)
    ax.set_title(title + _partial_note(partial), fontsize=10)


PARTIAL = "#c0392b"  # partial variants (fewer folds than planned) are drawn in red


@cached(suffix=".svg")
def forest(rows: pd.DataFrame, primary: str, conf: int) -> bytes | None:
    """Every variant's mean and interval on the primary metric, best at the top. `rows`:
    label, mean, ci_low, ci_high, selected (bool), partial (bool), folds ("4/5").

    The interval is drawn as it is, not as errors around the mean: a logit-scale interval
    of scores near a bound can lie wholly below (or above) their arithmetic mean. SVG
    written directly: with hundreds of variants matplotlib took a second."""
    if rows.empty:
        return None
    lines = []
    for r in rows.itertuples():
        colour = PARTIAL if r.partial else "#3465a4" if r.selected else "#8a8a8a"
        label = f"{r.label}  ({r.folds} folds)" if r.partial else str(r.label)
        lines.append((label, float(r.mean), float(r.ci_low), float(r.ci_high), colour,
                      bool(r.selected)))  # fmt: skip
    title = "Every variant (bold: the model's selected variant; red: partial)"
    return svg.forest(lines, title, f"test {primary}: mean over folds and {conf}% interval")


@cached(suffix=".svg")
def pvalue_matrix(labels: list[str], p: np.ndarray, alpha: float) -> bytes | None:
    """Holm-corrected p-values between models (rank order); blue cells are significant."""
    if len(labels) < 2:
        return None
    return svg.pvalue_matrix(labels, p, alpha, f"Holm-corrected p-values (blue: p < {alpha})")


MAX_TICKS = 30  # tick labels a 5.5-inch axis can show (10,000 were 61% of a report's time)


def thinned(n: int, most: int = MAX_TICKS) -> np.ndarray:
    """Which of n evenly spread positions get a tick label: all when n <= most, else `most`
    of them, always the first and the last."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, most).round().astype(int))


@cached
def grid_1d(model: str, x: str, means: pd.DataFrame, primary: str) -> bytes:
    """Mean and interval per value of one parameter; a log axis when the values span
    more than two decades."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    order = ordered(means[x])
    rows = means.set_index(x).loc[order]
    shown = thinned(len(order))
    try:
        xs = np.asarray(order, dtype=float)
    except (TypeError, ValueError):
        xs = np.arange(len(order), dtype=float)
        ax.set_xticks(xs[shown], [str(order[i]) for i in shown])
    else:
        positive = (xs > 0).all()
        if positive and xs.max() / xs.min() > 100:
            ax.set_xscale("log")
        ax.set_xticks(xs[shown], [tick(order[i]) for i in shown])
        ax.minorticks_off()
    mean = rows["mean"].to_numpy(float)
    err = [np.nan_to_num(mean - rows["ci_low"].to_numpy(float)),
           np.nan_to_num(rows["ci_high"].to_numpy(float) - mean)]  # fmt: skip
    ax.errorbar(xs, mean, yerr=err, fmt="o-", capsize=3)
    partial = _partial(rows)
    if partial.any():
        ax.scatter(xs[partial], mean[partial], s=90, marker="s", facecolors="none",
                   edgecolors=PARTIAL, lw=2, zorder=3)  # fmt: skip
    title = f"{model}: mean and interval over folds"
    ax.set(xlabel=x, ylabel=f"test {primary}")
    ax.set_title(title + _partial_note(partial), fontsize=10)
    return png(fig)


def _partial(rows: pd.DataFrame) -> np.ndarray:
    """Which grid points are partial variants (fewer folds than planned)."""
    if "partial" not in rows:
        return np.zeros(len(rows), dtype=bool)
    return rows["partial"].fillna(False).to_numpy(bool)


def _partial_note(partial: np.ndarray) -> str:
    return "\n(red box: PARTIAL, fewer folds than planned)" if partial.any() else ""


@cached(suffix=".svg")
def grid_2d(model: str, x: str, y: str, means: pd.DataFrame, primary: str) -> bytes:
    """Mean test score over a 2-parameter grid, both axes in numeric order when numeric;
    a partial grid point boxed in red. SVG: a report has one per model with a grid."""
    # dropna=False: a row or column of grid points without a score stays (empty cells)
    table = means.pivot_table(index=y, columns=x, values="mean", aggfunc="mean", dropna=False)
    table = table.reindex(index=ordered(table.index), columns=ordered(table.columns))
    partial = _partial(means)
    xticks = [(float(j), tick(c)) for j, c in enumerate(table.columns)]
    yticks = [(float(i), tick(r)) for i, r in enumerate(table.index)]
    title = f"{model}: mean test {primary}" + _partial_note(partial)
    panel = svg.Panel(title, x, y, xticks=xticks, yticks=yticks)
    panel.cells(table.to_numpy(float), "viridis", ".3f")
    cols, rows = list(table.columns), list(table.index)
    for px, py in zip(means.loc[partial, x], means.loc[partial, y], strict=True):
        if px in cols and py in rows:  # a NaN parameter value has no cell
            panel.outline(cols.index(px), rows.index(py), PARTIAL)
    return svg.figure("", [panel], 1)


SPLITS = ("train", "val", "valid", "validation", "test")


def curve_base(name: str) -> tuple[str, str]:
    """("loss", "val") of "val_loss" / "val/loss" / "loss_val": one panel per base name,
    train and val overlaid in it."""
    low = name.lower()
    for split in SPLITS:
        for sep in ("_", "/", "-"):
            if low.startswith(split + sep):
                return name[len(split) + 1 :], split
            if low.endswith(sep + split):
                return name[: -len(split) - 1], split
    return name, ""


MAX_CURVE_PANELS = 4


@cached(suffix=".svg")
def model_figure(
    title: str, task: str, oof: pd.DataFrame | None, curves: pd.DataFrame | None,
    unreadable: int = 0,
) -> bytes | None:
    """One SVG figure per model: ROC, PR, confusion and score distribution (classification)
    or predicted vs true (regression), then its training curves (train and val overlaid).
    SVG, not matplotlib: a report has one per model (see svg.py)."""
    panels: list[svg.Panel] = []
    if oof is not None and len(oof):
        panels += _prediction_panels(task, oof)
    if curves is not None and len(curves):
        bases = curves.assign(base=[curve_base(n)[0] for n in curves["name"]])
        for base in sorted(bases["base"].unique())[:MAX_CURVE_PANELS]:
            panels.append(_curves_svg(bases[bases["base"] == base], base))
    if not panels:
        return None
    colour = PARTIAL if "PARTIAL" in title else "black"
    if unreadable:  # counted, never drawn: the figure says so
        title = f"{title} — {unreadable_note(unreadable)}"
    return svg.figure(title, panels, min(len(panels), 4), colour)


def _prediction_panels(task: str, oof: pd.DataFrame) -> list[svg.Panel]:
    panels = []
    scores = curve_scores(oof)
    if task == "classification" and scores is not None:
        panels += [_curve_svg(*scores, "roc"), _curve_svg(*scores, "pr")]
    labelled = "pred" in oof or any(oof.columns.str.startswith("proba_"))
    if task == "classification" and labelled:  # a score alone gives no predicted label
        panels.append(_confusion_svg(oof))
    if task == "classification" and _binary_scores(oof) is not None:
        panels.append(_distribution_svg(oof))
    if task == "regression" and "pred" in oof:
        panels.append(_scatter_svg(oof))
    return panels


UNIT = (-0.03, 1.03)  # [0, 1] with room for a line along the edge (as matplotlib's margins)


def _curve_svg(truth: np.ndarray, score: np.ndarray, kind: str) -> svg.Panel:
    """The ROC (with the chance diagonal) or precision-recall panel."""
    xs, ys, text = curve_line(truth, score, kind)
    if kind == "roc":
        panel = svg.Panel("ROC, out-of-fold", "false positive rate", "true positive rate",
                          xlim=UNIT, ylim=UNIT, legend_at="lower right")  # fmt: skip
        panel.line([0, 1], [0, 1], "grey", width=1, dashed=True)
    else:
        panel = svg.Panel("Precision-recall, out-of-fold", "recall", "precision", xlim=UNIT,
                          ylim=UNIT, legend_at="lower left")  # fmt: skip
    panel.line(xs, ys, svg.COLOURS[0])  # type: ignore[arg-type]
    panel.legend.append((text, svg.COLOURS[0]))
    return panel


def _confusion_svg(part: pd.DataFrame) -> svg.Panel:
    labels, counts = confusion_counts(part)
    ticks = [(float(i), str(label)) for i, label in enumerate(labels)]
    # labels wider than their column are turned, and then the axis names share the y axis
    # (turned labels reach down to where the x axis name would be)
    column = (svg.WIDTH - svg.LEFT - svg.RIGHT) / len(ticks)
    turned = max(len(t) for _, t in ticks) * 5.5 > column
    names = ("", "true (rows), predicted (columns)") if turned else ("predicted", "true")
    # at 45 degrees labels closer than their height overlap: upright then
    angle = 0 if not turned else 45 if column * 0.7 >= 10 else 90
    panel = svg.Panel("Confusion, out-of-fold", *names, xticks=ticks, yticks=ticks,
                      rotate_xticks=angle)  # fmt: skip
    panel.cells(counts, "Blues")
    return panel


def _distribution_svg(part: pd.DataFrame) -> svg.Panel:
    """Score of the positive class (binary) or the top probability, per true class."""
    xlabel, hists = score_histograms(part)
    top = max((float(counts.max()) for _, counts, _ in hists), default=1.0) or 1.0
    bins = hists[0][2] if hists else np.array([0.0, 1.0])
    panel = svg.Panel("Scores per true class", xlabel, "rows", ylim=(0.0, top * 1.05),
                      xlim=(float(bins[0]), float(bins[-1])),
                      legend_at="upper center")  # fmt: skip
    for k, (name, counts, edges) in enumerate(hists):
        colour = svg.COLOURS[k % len(svg.COLOURS)]
        panel.steps(edges, counts, colour)
        panel.legend.append((name, colour))
    return panel


def _scatter_svg(part: pd.DataFrame) -> svg.Panel:
    y = part["y_true"].to_numpy(float)
    pred = part["pred"].to_numpy(float)
    lim = svg.limits(np.concatenate([y, pred]))
    panel = svg.Panel("Predicted vs true, out-of-fold", "true", "predicted", xlim=lim, ylim=lim)
    panel.points(y, pred, svg.COLOURS[0])
    panel.line(list(lim), list(lim), "grey", width=1, dashed=True)
    return panel


def _curves_svg(part: pd.DataFrame, base: str) -> svg.Panel:
    """Every fold's curve of each logged name of one base (train_loss, val_loss: loss),
    a colour per name, so train and val are overlaid."""
    steps, values = part["step"].to_numpy(float), part["value"].to_numpy(float)
    panel = svg.Panel(f"{base} (each fold a line)", "step", "", xlim=svg.limits(steps),
                      ylim=svg.limits(values))  # fmt: skip
    for k, (name, rows) in enumerate(part.groupby("name", sort=True)):
        colour = svg.COLOURS[k % len(svg.COLOURS)]
        for _fold, line in rows.groupby("fold", sort=True):
            xs, ys = line["step"].to_numpy(float), line["value"].to_numpy(float)
            if (np.isfinite(xs) & np.isfinite(ys)).sum() == 1:  # one point: no line, a dot
                panel.points(xs, ys, colour)
            panel.line(xs, ys, colour, width=1, opacity=0.7)
        panel.legend.append((str(name), colour))
    return panel
