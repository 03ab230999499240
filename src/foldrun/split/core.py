"""Fold assignment algorithms on plain numpy arrays, shared by `make_folds` and the splitter
classes. Each returns `fold`: an int64 array giving every sample's test fold (0..k-1).

`rng` is a numpy Generator, or None for the deterministic, unshuffled order that
scikit-learn gives with `shuffle=False`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

Rng = np.random.Generator | None

# groups at least this large (in samples, relative to a fold) are placed one by one
_BIG_GROUP_SHARE = 1 / 50
_MIN_GREEDY_GROUPS = 1000
_SIZE_WEIGHT = 1.0  # weight of fold-size excess against class excess while placing
_SIZE_PENALTY = 1.0  # weight of squared relative fold-size excess in the class search
_MAX_MOVE_GROUPS = 1000  # local search moves the largest 1000 groups and the 500 smallest
_MAX_MOVES = 200  # steps per phase of the local search
_MAX_SWAP_GROUPS = 120  # swaps among the largest 120
_MAX_REFERENCE_GROUPS = 5000  # run scikit-learn's greedy as the class-balance bound up to here
_REFERENCE_MARGIN = 0.99  # aim 1% below it: its ties fall by chance, as scikit-learn's do
_EVEN = 1e-3  # fold sizes within 0.1% of each other are even: class balance comes first
_ROUND_GROUPS_PER_FOLD = 4  # small groups are matched to folds in rounds of 4 per fold
# past _MAX_REFERENCE_GROUPS groups: the count repair moves up to this many of the smallest
# groups (fewer with many classes: each step costs groups x classes x folds), this many times
_REPAIR_CELLS = 100_000
_REPAIR_STEPS = 1000
_REPAIR_SWAP = 1000  # and, when no single move helps, swaps two of the smallest 1000
_ARROW_TEXT_ROWS = 10_000  # class_codes of at least this many strings: hashed as Arrow text


def kfold(n: int, k: int, rng: Rng, dtype: type = np.int64) -> np.ndarray:
    """Sizes within one; contiguous blocks when unshuffled (as scikit-learn's KFold).
    `dtype=np.int8` (k < 128): the same folds, a byte per row (scattered 8x faster)."""
    if rng is None:
        return (np.arange(n) * k // n).astype(dtype)
    fold = np.empty(n, dtype=dtype)
    fold[rng.permutation(n)] = np.tile(np.arange(k, dtype=dtype), -(-n // k))[:n]  # i % k
    return fold


def stratified(codes: np.ndarray, k: int, rng: Rng) -> np.ndarray:
    """Deal each class round-robin, continuing across classes: every class count and every
    fold size within one of even. Within a class the folds come in contiguous blocks of the
    (unshuffled or shuffled) sample order, as scikit-learn's: unshuffled, neighbouring
    samples stay together, so dependence between them is not hidden."""
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # by class, then sample (or random) order: the order np.lexsort((keys, codes)) gives,
    # from stable argsorts (a radix sort on 16-bit codes) at a third of lexsort's time
    small = codes.astype(np.int16) if codes.max() < 2**15 else codes
    if rng is None:
        order = np.argsort(small, kind="stable")
    else:
        shuffled = _rank_order(rng.random(n))
        order = shuffled[np.argsort(small[shuffled], kind="stable")]
    fold = np.empty(n, dtype=np.int64)
    fold[order] = _dealt_by_class(np.bincount(codes), k)
    return fold


def _rank_order(keys: np.ndarray) -> np.ndarray:
    """np.argsort(keys, kind="stable") for `Generator.random` floats (multiples of 2**-53):
    each key's top bits and its index packed in one uint64 and sorted by value (a SIMD sort,
    several times faster than an argsort of floats). That order is the stable argsort's
    when no two keys share their top bits; when two do (rare), the stable argsort itself."""
    n = len(keys)
    index_bits = max(1, (n - 1).bit_length())
    shift = np.uint64(max(0, 53 - (64 - index_bits)))
    top = (keys * 2.0**53).astype(np.uint64) >> shift
    packed = np.sort((top << np.uint64(index_bits)) | np.arange(n, dtype=np.uint64))
    high = packed >> np.uint64(index_bits)
    if (high[1:] == high[:-1]).any():
        return np.argsort(keys, kind="stable")
    return (packed & np.uint64((1 << index_bits) - 1)).astype(np.int64)


def _dealt_by_class(sizes: np.ndarray, k: int) -> np.ndarray:
    """Positions 0..n-1 dealt round-robin (position % k), then sorted by fold within each
    class's run of positions (`sizes` in class order): counted, not sorted."""
    ends = np.cumsum(sizes)
    folds = np.arange(k)

    def below(m: np.ndarray) -> np.ndarray:  # how many j < m have j % k == fold
        return m[:, None] // k + (m[:, None] % k > folds)

    counts = below(ends) - below(ends - sizes)
    return np.repeat(np.tile(folds, len(sizes)), counts.ravel())


def continuous(y: np.ndarray, k: int, rng: Rng) -> np.ndarray:
    """Rank-based: sort by target, deal each block of k consecutive samples across the
    folds in its own random order, so every fold sees the whole distribution."""
    n = len(y)
    tie = np.arange(n) if rng is None else rng.random(n)
    order = np.lexsort((tie, y))
    n_blocks = -(-n // k)
    if rng is None:
        perms = np.tile(np.arange(k), (n_blocks, 1))
    else:
        perms = np.argsort(rng.random((n_blocks, k)), axis=1)
    fold = np.empty(n, dtype=np.int64)
    fold[order] = perms.ravel()[:n]
    # the last, partial block: its samples go to a random subset of folds (sizes within one)
    return fold


def quantile_codes(y: np.ndarray, bins: int) -> np.ndarray:
    """Quantile bin of each value (the recipe users write by hand)."""
    edges = np.unique(np.quantile(y, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.searchsorted(edges, y, side="right").astype(np.int64)


def stratified_grouped(
    groups: np.ndarray, codes: np.ndarray | None, k: int, rng: Rng
) -> np.ndarray:
    """Groups kept whole; class shares balanced first, fold sizes as even as possible after.

    Works at group level on a (groups x classes) count matrix. Large groups are placed
    one by one, biggest first; the many small groups that remain go in rounds of 4k groups
    of similar size, each fold taking 3 to 5 of them, matched to folds by an optimal
    assignment. Both steps reduce one squared deviation: each fold's class counts from its
    own size times the class shares of the whole, plus a lighter fold-size term. A local
    search then lowers, lexicographically, (1) the worst class-share deviation of any fold,
    (2) the sum of squared class-share deviations, and then, never raising (1), (3) the
    spread of fold sizes. Past a few thousand groups, a last repair moves small groups
    until the class counts are as even as whole rows allow (sizes even too), when that
    costs no class balance beyond what whole rows impose (`_evened`).
    """
    g_index, n_groups = _first_appearance(groups)  # renaming groups keeps folds
    if codes is None:
        counts = np.bincount(g_index, minlength=n_groups)[:, None]
    else:
        n_classes = int(codes.max()) + 1 if len(codes) else 1
        counts = np.bincount(
            g_index * n_classes + codes, minlength=n_groups * n_classes
        ).reshape(n_groups, n_classes)
    group_fold = _place_groups(counts.astype(np.float64), k, rng)
    return group_fold[g_index]


def _first_appearance(groups: np.ndarray) -> tuple[np.ndarray, int]:
    """(codes numbered in order of first appearance, how many): `pd.factorize`'s. Integer
    codes that already are (`class_codes`', the splitters') are kept without a second hash:
    they are exactly when each is at most one above all those before it, starting at 0."""
    if groups.dtype.kind in "iu" and len(groups) and groups[0] == 0 and groups.min() >= 0:
        top = np.maximum.accumulate(groups)
        if not np.any(np.diff(top) > 1):
            return groups.astype(np.int64, copy=False), int(top[-1]) + 1
    codes, uniques = pd.factorize(groups)
    return codes, len(uniques)


def _place_groups(counts: np.ndarray, k: int, rng: Rng) -> np.ndarray:
    sizes = counts.sum(axis=1)
    n_groups = len(sizes)
    if rng is None:
        order = np.argsort(-sizes, kind="stable")
    else:
        perm = rng.permutation(n_groups)
        order = perm[np.argsort(-sizes[perm], kind="stable")]
    total = sizes.sum()
    share = counts.sum(axis=0) / total
    # what a group adds to its fold's deviations: class counts beyond its own size's fair
    # share of each class, and (lighter) its size towards the fold-size target
    adds = np.column_stack([counts - sizes[:, None] * share, _SIZE_WEIGHT * sizes])
    dev = np.zeros((k, adds.shape[1]))
    dev[:, -1] = -_SIZE_WEIGHT * total / k
    fold = np.empty(n_groups, dtype=np.int64)
    big = int(np.sum(sizes > total / k * _BIG_GROUP_SHARE))
    n_greedy = min(n_groups, max(big, _MIN_GREEDY_GROUPS))
    jitter = _jitter(rng, n_greedy, k)
    for pos in range(n_greedy):
        g = order[pos]
        f = int(np.argmin(dev @ adds[g] + jitter[pos]))
        fold[g] = f
        dev[f] += adds[g]
    _rounds(adds, order[n_greedy:], fold, dev)
    movable = np.unique(
        np.concatenate([order[:_MAX_MOVE_GROUPS], order[n_groups - _MAX_MOVE_GROUPS // 2 :]])
    )
    groups = order[np.isin(order, movable)]
    reference = _reference(counts, k, rng)
    if reference is None:
        _polish(counts, groups, fold, k, 0.0)  # many groups: as balanced as it gets
        return _evened(counts, fold, k) if counts.shape[1] > 1 else fold
    before = _Folds(counts, reference, k)
    ref_worst = before.totals("size")[0]
    # three candidates: scikit-learn's with sizes evened only (never raising its worst
    # class deviation), and ours and scikit-learn's each brought below its class balance,
    # then sizes evened. The first is never worse than scikit-learn's on classes; class
    # balance comes first, so the lowest worst deviation wins among those whose size spread
    # stays well below scikit-learn's (halfway from it to the first's, or within 0.1% of a
    # fold: even anyway). Any candidate so is no worse than scikit-learn's on classes,
    # and sizes are more even (measured in benchmarks/bench_split.py).
    sizes_only = reference.copy()
    _polish(counts, groups, sizes_only, k, np.inf)
    _polish(counts, groups, fold, k, ref_worst)
    _polish(counts, groups, reference, k, ref_worst)
    floor = _Folds(counts, sizes_only, k)
    room = max((floor.spread() + before.spread()) / 2, _EVEN * floor.target)
    candidates = [(_Folds(counts, f, k), f) for f in (fold, reference)]
    ok = [f for state, f in candidates if state.spread() <= room and state.worst.max() <= ref_worst]
    return min([*ok, sizes_only], key=lambda f: _Folds(counts, f, k).totals("size"))


def _evened(counts: np.ndarray, fold: np.ndarray, k: int) -> np.ndarray:
    """The polished folds, or the same repaired towards `_even_counts`, whichever is better
    on classes, then sizes. Class deviations below those of the even counts themselves
    (what whole rows allow in folds of even size) count as equal: the polish reaches them
    only with uneven sizes (0.09% spread at 1e6 rows, where scikit-learn's is 0.003%)."""
    even = _even_counts(counts.sum(axis=0).astype(np.int64), k).astype(np.float64)
    floor = float(_share_dev(even, even.sum(axis=1), even.sum(axis=0) / even.sum())[0].max())
    repaired = fold.copy()
    _repair(counts, repaired, even, k)

    def rank(f: np.ndarray) -> tuple[float, float]:
        state = _Folds(counts, f, k)
        return max(float(state.worst.max()), floor * (1 + 1e-9)), state.spread()

    return min((fold, repaired), key=rank)  # a tie keeps the polished folds


def _even_counts(totals: np.ndarray, k: int) -> np.ndarray:
    """(folds, classes) counts as even as whole rows allow: each class's rows dealt
    round-robin, continuing across classes (as `stratified` deals rows), so every count is
    within one of its class's share and fold sizes within one of each other."""
    base = totals // k
    even = np.tile(base, (k, 1))
    extra = totals - base * k
    units = np.arange(int(extra.sum()))
    np.add.at(even, (units % k, np.repeat(np.arange(len(totals)), extra)), 1)
    return even


def _repair(counts: np.ndarray, fold: np.ndarray, even: np.ndarray, k: int) -> None:
    """Move small groups one at a time, each time the move that most lowers the summed
    squared gap between the folds' class counts and `even`, until no move lowers it. A
    fold-size gap is a gap in its class counts, so sizes and classes even out together;
    single rows of each class (plenty among 1e5 groups) close the last gaps exactly."""
    sizes = counts.sum(axis=1)
    movable = np.argsort(sizes, kind="stable")[: max(1000, _REPAIR_CELLS // counts.shape[1])]
    add = counts[movable]
    gap = _Folds(counts, fold, k).c - even
    norm = (add**2).sum(axis=1)
    rows = np.arange(len(movable))
    for _ in range(_REPAIR_STEPS):
        here = fold[movable]
        toward = add @ gap.T  # moving group i to fold b changes the sum by 2 x change[i, b]
        change = toward - toward[rows, here][:, None] + norm[:, None]
        change[rows, here] = np.inf
        i, b = np.unravel_index(int(np.argmin(change)), change.shape)
        if change[i, b] < -0.5:  # whole counts: a move that lowers it lowers it by >= 1
            gap[here[i]] -= add[i]
            gap[b] += add[i]
            fold[movable[i]] = b
        elif not _repair_swap(add[:_REPAIR_SWAP], toward[:_REPAIR_SWAP], here, gap, fold,
                              movable):  # fmt: skip
            return


def _repair_swap(
    add: np.ndarray, toward: np.ndarray, here: np.ndarray, gap: np.ndarray, fold: np.ndarray,
    movable: np.ndarray,
) -> bool:
    """The best swap of two of the smallest groups in two folds (a difference of two groups
    closes a gap that no single group does), made if it lowers the squared gap; else False."""
    n = len(add)
    h = here[:n]
    mine = toward[np.arange(n), h]  # v_i . gap of its own fold
    # i goes from h[i] to h[j], j the other way: the change of the sum, halved
    change = (toward[:, h] - mine[:, None]) + (toward[:, h].T - mine[None, :])
    norm = (add**2).sum(axis=1)
    change += norm[:, None] + norm[None, :] - 2 * (add @ add.T)
    change[h[:, None] == h[None, :]] = np.inf
    i, j = np.unravel_index(int(np.argmin(change)), change.shape)
    if change[i, j] > -0.5:
        return False
    delta = add[i] - add[j]
    gap[h[i]] -= delta
    gap[h[j]] += delta
    fold[movable[i]], fold[movable[j]] = h[j], h[i]
    return True


def _reference(counts: np.ndarray, k: int, rng: Rng) -> np.ndarray | None:
    """scikit-learn's StratifiedGroupKFold greedy on these groups (most class-skewed group
    first, into the fold that least spreads each class's fraction across folds, ties to the
    smaller fold): the class balance foldrun must not fall below. Its result depends on the
    order of groups whose class counts are equally skewed (scikit-learn shuffles them), so
    the better of two such orders (by the seed) is taken. None past a few thousand groups, where the
    rounds balance classes far better anyway."""
    if len(counts) > _MAX_REFERENCE_GROUPS:
        return None
    skew = -counts.std(axis=1)
    first = np.arange(len(counts)) if rng is None else rng.permutation(len(counts))
    tries = [first, first[::-1]]
    folds = [_sklearn_greedy(counts, k, t[np.argsort(skew[t], kind="stable")]) for t in tries]
    return min(folds, key=lambda f: _Folds(counts, f, k).totals("size"))


def _sklearn_greedy(counts: np.ndarray, k: int, order: np.ndarray) -> np.ndarray:
    """scikit-learn's `_find_best_fold`, step for step: folds are scanned in order and one
    replaces the best so far if its spread is lower, or np.isclose to the best so far's
    (default tolerances) with fewer samples. The same rule gives the same folds: a rule
    that only looks close (global minimum, then smallest fold) drifts from scikit-learn's
    result after a near tie, and then the bound is not scikit-learn's."""
    per_class = counts.sum(axis=0)
    y = np.zeros((k, counts.shape[1]))
    eye = np.eye(k)[:, :, None]
    fold = np.empty(len(counts), dtype=np.int64)
    for g in order:
        spread = np.std((y[None] + eye * counts[g]) / per_class, axis=1).mean(axis=1)
        best = _first_best(spread.tolist(), y.sum(axis=1).tolist())
        fold[g] = best
        y[best] += counts[g]
    return fold


def _first_best(spread: list[float], sizes: list[float]) -> int:
    best, low, size = 0, np.inf, np.inf
    for i, (s, n) in enumerate(zip(spread, sizes, strict=True)):
        # np.isclose(s, low): |s - low| <= 1e-8 + 1e-5 * |low|, in plain floats (fast)
        if s < low or (abs(s - low) <= 1e-8 + 1e-5 * abs(low) and n < size):
            best, low, size = i, s, n
    return best


def _rounds(adds: np.ndarray, rest: np.ndarray, fold: np.ndarray, dev: np.ndarray) -> None:
    """Small groups in rounds: each round's 4k groups matched to folds at least cost, each
    fold taking up to 5 (one more than its share: room to correct)."""
    k, lsap = len(dev), linear_sum_assignment()
    per_round, per_fold = _ROUND_GROUPS_PER_FOLD * k, _ROUND_GROUPS_PER_FOLD + 1
    slot_fold, each = np.tile(np.arange(k), per_fold), np.arange(k)
    for start in range(0, len(rest), per_round):
        rows = adds[rest[start : start + per_round]]
        # the cost of each fold repeated per slot: np.tile's, without its Python overhead
        # (~5,000 rounds at 1e5 groups)
        picked, slots = lsap(np.concatenate([rows @ dev.T] * per_fold, axis=1))
        folds = slot_fold[slots]
        fold[rest[start + picked]] = folds
        dev += (folds[:, None] == each).T @ rows[picked]


@functools.cache
def linear_sum_assignment() -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """scipy's `linear_sum_assignment`, loaded at first use from its compiled module alone
    (`scipy.optimize._lsap`, the function `scipy.optimize` itself exports): importing
    `scipy.optimize` loads linalg, sparse and the array-API layers, ~0.4 s of CPU and
    40 MB of every `foldrun split` for this one function. Any surprise in that module's
    place or loading: the public import."""
    import sys

    loaded = sys.modules.get("scipy.optimize._lsap")
    if loaded is None:
        try:
            loaded = _load_lsap()
        except Exception:  # another scipy layout: the way scipy documents it
            from scipy.optimize import linear_sum_assignment as public

            return public
    return loaded.linear_sum_assignment


def _load_lsap() -> Any:
    import importlib.machinery
    import importlib.util
    import sys
    from pathlib import Path

    scipy = importlib.util.find_spec("scipy")  # finds the package, imports nothing
    assert scipy is not None and scipy.submodule_search_locations
    folder = Path(next(iter(scipy.submodule_search_locations))) / "optimize"
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = folder / f"_lsap{suffix}"
        if path.is_file():
            loader = importlib.machinery.ExtensionFileLoader("scipy.optimize._lsap", str(path))
            spec = importlib.util.spec_from_file_location(
                "scipy.optimize._lsap", path, loader=loader
            )
            assert spec is not None
            module = importlib.util.module_from_spec(spec)
            loader.exec_module(module)
            # not left in sys.modules without its package: a later `import scipy.optimize`
            # loads it again (the same function, from the interpreter's cache of loaded
            # extensions) and so sets scipy.optimize._lsap, which it would not find here
            sys.modules.pop("scipy.optimize._lsap", None)
            return module
    raise ImportError("scipy.optimize._lsap not found")


class _Folds:
    """Per-fold class counts and sizes, with the measures the local search lowers."""

    def __init__(self, counts: np.ndarray, fold: np.ndarray, k: int):
        self.c = np.zeros((k, counts.shape[1]))
        np.add.at(self.c, fold, counts)
        self.s = self.c.sum(axis=1)
        self.share = self.c.sum(axis=0) / self.s.sum()
        self.target = self.s.sum() / k
        self.worst, self.sq = _share_dev(self.c, self.s, self.share)

    def totals(self, phase: str) -> tuple[float, float]:
        return float(self.worst.max()), float(
            self._second(self.sq.sum(), self._size(self.s).sum(), phase)
        )

    def _size(self, s: np.ndarray) -> np.ndarray:
        return ((s - self.target) / self.target) ** 2

    @staticmethod
    def _second(sq: np.ndarray | float, size: np.ndarray | float, phase: str) -> np.ndarray:
        """The secondary measure: in phase "class" the summed squared share deviation, with
        a light size term so that the class search keeps sizes sane; else the sizes."""
        return sq + _SIZE_PENALTY * size if phase == "class" else size

    def after(
        self, a: np.ndarray, b: np.ndarray, delta: np.ndarray, phase: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """(worst deviation, secondary) if `delta` (counts) leaves fold a for fold b."""
        dm = delta.sum(axis=-1)
        sa, sb = self.s[a] - dm, self.s[b] + dm
        worst, sq = self._deviations(a, b, delta, sa, sb)
        size_now = self._size(self.s)
        size = size_now.sum() - size_now[a] - size_now[b] + self._size(sa) + self._size(sb)
        second = self._second(sq, size, phase)
        bad = (a == b) | (sa <= 0)
        return np.where(bad, np.inf, worst), np.where(bad, np.inf, second)

    def _deviations(
        self, a: np.ndarray, b: np.ndarray, delta: np.ndarray, sa: np.ndarray, sb: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | float]:
        """(worst, summed squared) class-share deviations after the move of `after`."""
        if self.c.shape[1] == 1:  # one class (GroupKFold): every share is 1, as the whole's
            return np.zeros(np.broadcast(a, b, sa, sb).shape), 0.0
        worst_a, sq_a = _share_dev(self.c[a] - delta, sa, self.share)
        worst_b, sq_b = _share_dev(self.c[b] + delta, sb, self.share)
        worst = np.maximum(np.maximum(worst_a, worst_b), self._worst_without(a, b))
        return worst, self.sq.sum() - self.sq[a] - self.sq[b] + sq_a + sq_b

    def _worst_without(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The worst deviation among the folds other than a and b (from the top three)."""
        top = np.argsort(-self.worst)[:3]
        out = np.zeros(np.broadcast(a, b).shape)
        for f in top[::-1]:
            out = np.where((a != f) & (b != f), self.worst[f], out)
        return out

    def spread(self) -> float:
        return float(self.s.max() - self.s.min())

    def move(self, a: int, b: int, delta: np.ndarray) -> None:
        self.c[a] -= delta
        self.c[b] += delta
        self.s = self.c.sum(axis=1)
        self.worst, self.sq = _share_dev(self.c, self.s, self.share)


def _share_dev(c: np.ndarray, s: np.ndarray, share: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Worst and summed squared |class share - share of the whole| of fold rows."""
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = c / s[..., None] - share
    return np.abs(dev).max(axis=-1), (dev**2).sum(axis=-1)


def _polish(counts: np.ndarray, groups: np.ndarray, fold: np.ndarray, k: int, ref: float) -> None:
    """Local search over `groups`: single moves, else pairwise swaps among the largest.

    Phase "class" lowers (worst class-share deviation, summed squared deviations plus a
    light size term) until the worst deviation is at most `ref` (scikit-learn's) or no step
    lowers it; phase "size" then evens the fold sizes, never raising the worst deviation."""
    state = _Folds(counts, fold, k)
    add = counts[groups]
    swap = slice(0, min(len(groups), _MAX_SWAP_GROUPS))  # groups are biggest first
    for _ in range(_MAX_MOVES):
        target = ref * _REFERENCE_MARGIN
        if state.totals("class")[0] <= target:
            break
        # a step that reaches the target with the evenest sizes, else the best class step
        reached = target > 0 and _step(state, add, groups, fold, target, swap, reach=True)
        if not reached and not _step(state, add, groups, fold, None, swap):
            break
    bound = state.totals("class")[0]
    for _ in range(_MAX_MOVES):
        if not _step(state, add, groups, fold, bound, swap):
            break


def _step(
    state: _Folds,
    add: np.ndarray,
    groups: np.ndarray,
    fold: np.ndarray,
    bound: float | None,
    swap: slice,
    reach: bool = False,
) -> bool:
    """Make the best improving move, else the best improving swap; False if none.
    bound None: improve (worst, secondary) lexicographically; else improve the sizes
    keeping the worst deviation <= bound."""
    phase = "class" if bound is None else "size"
    now = state.totals(phase)
    here = fold[groups]
    targets = np.arange(len(state.s))
    w, sec = state.after(here[:, None], targets[None, :], add[:, None, :], phase)
    best = _take(w, sec, now, bound, reach)
    if best is not None:
        i, b = best
        state.move(here[i], b, add[i])
        fold[groups[i]] = b
        return True
    h, sub = here[swap], add[swap]
    delta = sub[:, None, :] - sub[None, :, :]  # i leaves fold h[i], j comes in
    w, sec = state.after(h[:, None], h[None, :], delta, phase)
    best = _take(w, sec, now, bound, reach)
    if best is None:
        return False
    i, j = best
    state.move(h[i], h[j], delta[i, j])
    fold[groups[i]], fold[groups[j]] = h[j], h[i]
    return True


def _take(
    w: np.ndarray,
    sec: np.ndarray,
    now: tuple[float, float],
    bound: float | None,
    reach: bool = False,
) -> tuple[int, int] | None:
    """The best candidate if it improves on `now` = (worst, secondary), else None: by
    (worst, secondary) when bound is None, else by secondary among worst <= bound."""
    worst, second = now
    if bound is None:
        flat = int(np.lexsort((sec.ravel(), w.ravel()))[0])
        bw, bs = w.ravel()[flat], sec.ravel()[flat]
        ok = bw < worst - 1e-12 or (bw <= worst + 1e-12 and bs < second - 1e-12)
    else:
        flat = int(np.argmin(np.where(w <= bound, sec, np.inf)))
        # w <= bound: never above it; reach: any candidate within the bound will do
        ok = (reach and w.ravel()[flat] <= bound) or sec.ravel()[flat] < second - 1e-12
    if not ok:
        return None
    i, j = np.unravel_index(flat, w.shape)
    return int(i), int(j)


def _jitter(rng: Rng, n: int, k: int) -> np.ndarray:
    """Tiny noise that breaks exact ties between folds by the seed, not always to fold 0."""
    if rng is None:
        return np.zeros((n, k))
    return rng.random((n, k)) * 1e-9


def multilabel(y: np.ndarray, k: int, rng: Rng) -> np.ndarray:
    """Iterative stratification (Sechidis et al. 2011), vectorised per label.

    Labels are taken rarest first (by what is still unassigned). All unassigned samples
    carrying the label are dealt to the folds in proportion to how many of that label each
    fold still wants, interleaved along an order sorted by the samples' other labels, so
    the other labels spread evenly too. Samples without any label fill the fold sizes.
    """
    y = np.asarray(y, dtype=bool)
    n, n_labels = y.shape
    fold = np.full(n, -1, dtype=np.int64)
    wanted = np.tile(y.sum(axis=0) / k, (k, 1))
    wanted_size = np.full(k, n / k)
    tie = np.arange(n) if rng is None else rng.random(n)
    signature = _signatures(y)
    left = np.ones(n, dtype=bool)
    still = y.sum(axis=0)  # unassigned samples carrying each label
    for _ in range(n_labels):
        if not still.any():
            break
        label = int(np.argmin(np.where(still > 0, still, np.inf)))
        rows = np.flatnonzero(left & y[:, label])
        rows = rows[np.lexsort((tie[rows], signature[rows]))]
        sequence = _interleave(_quotas(wanted[:, label], len(rows)))
        fold[rows] = sequence
        picked = y[rows]
        for f in range(k):
            taken = picked[sequence == f]
            wanted[f] -= taken.sum(axis=0)
            wanted_size[f] -= len(taken)
        still -= picked.sum(axis=0)
        left[rows] = False
    rows = np.flatnonzero(left)
    rows = rows[np.argsort(tie[rows], kind="stable")]
    fold[rows] = _interleave(_quotas(wanted_size, len(rows)))
    return fold


def _signatures(y: np.ndarray) -> np.ndarray:
    """Each row's labels packed into an integer, rarest label most significant."""
    rare_first = np.argsort(y.sum(axis=0), kind="stable")[:62]
    weights = (1 << np.arange(len(rare_first))[::-1]).astype(np.int64)
    return y[:, rare_first].astype(np.int64) @ weights


def _quotas(wanted: np.ndarray, n: int) -> np.ndarray:
    """Split n items over folds in proportion to what each still wants (largest remainder)."""
    want = np.clip(wanted, 0, None)
    if want.sum() <= 0:
        want = np.ones(len(wanted))
    exact = want / want.sum() * n
    quota = np.floor(exact).astype(np.int64)
    short = n - int(quota.sum())
    quota[np.argsort(-(exact - quota), kind="stable")[:short]] += 1
    return quota


def _interleave(quotas: np.ndarray) -> np.ndarray:
    """A fold sequence holding fold f quotas[f] times, spread evenly along its length."""
    folds = np.repeat(np.arange(len(quotas)), quotas)
    position = np.concatenate([(np.arange(q) + 0.5) / q for q in quotas if q > 0] or [[]])
    return folds[np.argsort(position, kind="stable")]


def class_codes(values: np.ndarray) -> np.ndarray:
    """Integer codes of labels in order of first appearance (as scikit-learn's
    StratifiedKFold): renaming the labels keeps every code, so it keeps the folds. A hash
    table, not a sort; many Python strings are hashed as Arrow text (1e6 UUIDs: ~2x
    faster than hashing each object, ~4 s of a 10 s StratifiedGroupKFold at load 18)."""
    flat = np.asarray(values).ravel()
    if len(flat) >= _ARROW_TEXT_ROWS and (
        flat.dtype.kind == "U"
        or (flat.dtype == object and pd.api.types.infer_dtype(flat, skipna=False) == "string")
    ):  # text only (no None, no number): Arrow's dictionary numbers values in order of
        # first appearance too (the same codes; ~1.4x faster than through pandas' array)
        import pyarrow as pa
        import pyarrow.compute as pc

        text = pa.array(flat, type=pa.large_string())
        codes = _one_width_codes(text)
        if codes is None:
            codes = pc.dictionary_encode(text).indices.to_numpy()
        return codes.astype(np.int64, copy=False)
    codes, _ = pd.factorize(flat, use_na_sentinel=False)
    return codes.astype(np.int64, copy=False)


def _one_width_codes(text: Any) -> np.ndarray | None:
    """First-appearance codes of text of one byte length (UUIDs, zero-padded ids) from a
    64-bit hash of each value: an integer hash table, not one of text (1e6 UUID groups:
    ~0.25 s of CPU, 0.35-0.4 s through pandas' factorize, at load 20). Checked byte for
    byte: every value equals the first one of its code, else (two texts of one hash)
    None, and the text is hashed as text."""
    parts = _fixed_width(text)
    if parts is None or len(parts) != 1:
        return None
    rows = parts[0]
    codes, _ = pd.factorize(_row_hashes(rows))
    first = np.full(int(codes.max()) + 1, len(rows), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(rows)))
    step = 1 << 16
    for start in range(0, len(rows), step):
        block = rows[start : start + step]
        if not np.array_equal(block, rows[first[codes[start : start + step]]]):
            return None
    return codes


def text_codes(values: pd.Series) -> np.ndarray:
    """`class_codes` of a column's values as text (groups, strata: `1` and `1.0` are two):
    hashed in Arrow's string buffers, with no Python string per row (~10x faster on a
    million UUIDs than codes of `astype(str).to_numpy()`, the same codes)."""
    codes, _ = pd.factorize(values.astype(str), use_na_sentinel=False)
    return codes.astype(np.int64, copy=False)


def row_codes(parts: list[np.ndarray]) -> np.ndarray:
    """The code of each row's combination of `parts` (codes >= 0, one array per column),
    numbered in the sorted order of the combinations (as `np.unique(axis=0)` numbers them):
    one int64 key per row (mixed radix, first column most significant), so a sort of
    integers, not of rows (~10x faster on a million rows)."""
    radix = [int(p.max()) + 1 for p in parts]
    if len(parts) == 1 and n_distinct(parts[0]) == radix[0]:  # 0..k-1, all there: as is
        return parts[0].astype(np.int64, copy=False)
    if float(np.prod(radix, dtype=np.float64)) >= 2**62:  # key would overflow: rows
        stacked = np.column_stack(parts)
        return np.unique(stacked, axis=0, return_inverse=True)[1].astype(np.int64).ravel()
    key = np.zeros(len(parts[0]), dtype=np.int64)
    for part, base in zip(parts, radix, strict=True):
        key = key * base + part
    return np.unique(key, return_inverse=True)[1].astype(np.int64).ravel()


def n_distinct(codes: np.ndarray) -> int:
    """How many distinct values among integer codes >= 0 (no sort)."""
    return int(np.count_nonzero(np.bincount(codes))) if len(codes) else 0


def all_distinct(values: pd.Series) -> bool:
    """No value repeats. Arrow-backed text is sorted (an index per row) and neighbours are
    compared a slice at a time: no hash table holding a copy of every string (`is_unique`
    took ~130 MB more for 1e6 UUIDs, this ~10 MB, in about the same time)."""
    if not pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
        return bool(values.is_unique)
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(values)
    rows = _fixed_width(text)
    if rows is not None:
        return _rows_distinct(rows)
    order = pc.sort_indices(text)
    step = 1 << 16
    for start in range(0, len(order) - 1, step):
        run = text.take(order[start : start + step + 1])
        if pc.any(pc.equal(run[1:], run[:-1])).as_py():
            return False
    return True


def _fixed_width(text: Any) -> list[np.ndarray] | None:
    """The bytes of Arrow text whose values all have one length (UUIDs, zero-padded ids)
    as the rows of a (values, length) array per chunk, without a copy; None otherwise."""
    import pyarrow as pa

    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    parts = [_chunk_rows(chunk) for chunk in chunks if len(chunk)]
    if not parts or any(p is None for p in parts) or len({p.shape[1] for p in parts}) > 1:
        return None
    return parts


def _chunk_rows(text: Any) -> np.ndarray | None:
    import pyarrow as pa

    if text.null_count or text.buffers()[2] is None:
        return None
    width = np.int64 if pa.types.is_large_string(text.type) else np.int32
    offsets = np.frombuffer(text.buffers()[1], dtype=width)[text.offset :][: len(text) + 1]
    size = int(offsets[1] - offsets[0])
    if size == 0 or np.any(np.diff(offsets) != size):
        return None
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)[int(offsets[0]) :]
    return data[: size * len(text)].reshape(len(text), size)


def _rows_distinct(parts: list[np.ndarray]) -> bool:
    """No two rows of bytes are equal: a 64-bit hash of each row (8 bytes at a time),
    sorted as integers (~5x faster than sorting 1e6 UUID strings); rows whose hashes meet
    are compared byte for byte, so a collision of hashes never counts as a repeat."""
    hashes = [_row_hashes(rows) for rows in parts]
    ordered = np.sort(np.concatenate(hashes))
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(repeated):
        return True
    pairs = zip(parts, hashes, strict=True)
    met = np.concatenate([rows[np.isin(h, repeated)] for rows, h in pairs])
    return len(np.unique(met, axis=0)) == len(met)


def _row_hashes(rows: np.ndarray) -> np.ndarray:
    hashes = np.zeros(len(rows), dtype=np.uint64)
    for start in range(0, rows.shape[1], 8):
        word = np.zeros((len(rows), 8), dtype=np.uint8)
        part = rows[:, start : start + 8]
        word[:, : part.shape[1]] = part
        hashes ^= word.view(np.uint64).ravel()
        hashes *= np.uint64(_MIX)  # wraps: a bijection of the 64 bits
        hashes ^= hashes >> np.uint64(29)
    return hashes


_MIX = 0x9E3779B97F4A7C15  # odd: multiplying by it loses no bit
