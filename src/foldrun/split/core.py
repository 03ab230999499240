"""Fold assignment algorithms on plain numpy arrays, shared by `make_folds` and the splitter
classes. Each returns `fold`: an int64 array giving every sample's test fold (0..k-1).

`rng` is a numpy Generator, or None for the deterministic, unshuffled order that
scikit-learn gives with `shuffle=False`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

Rng = np.random.Generator | None

# groups at least this large (in samples, relative to a fold) are placed one by one
_BIG_GROUP_SHARE = 1 / 50
_MIN_GREEDY_GROUPS = 1000
_MAX_REFINE_GROUPS = 3000
_MAX_MOVES = 200
_MAX_SWAP_GROUPS = 400
_ROUND_GROUPS_PER_FOLD = 4  # small groups are matched to folds in rounds of 4 per fold


def kfold(n: int, k: int, rng: Rng) -> np.ndarray:
    """Sizes within one; contiguous blocks when unshuffled (as scikit-learn's KFold)."""
    if rng is None:
        return (np.arange(n) * k // n).astype(np.int64)
    fold = np.empty(n, dtype=np.int64)
    fold[rng.permutation(n)] = np.arange(n) % k
    return fold


def stratified(codes: np.ndarray, k: int, rng: Rng) -> np.ndarray:
    """Deal each class round-robin, continuing across classes: every class count and every
    fold size within one of even."""
    n = len(codes)
    keys = (np.arange(n), codes) if rng is None else (rng.random(n), codes)
    order = np.lexsort(keys)
    fold = np.empty(n, dtype=np.int64)
    fold[order] = np.arange(n) % k
    return fold


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
    """Groups kept whole, class shares and fold sizes both balanced.

    Works at group level on a (groups x classes) count matrix. Large groups are placed
    one by one, biggest first, in the fold where they reduce the squared deviation of
    class counts and fold size from their targets the most. The many small groups that
    remain go in rounds of 4k groups of similar size, each fold taking 3 to 5 of them,
    each round's groups matched to folds by an optimal assignment on the same cost.
    """
    g_codes, g_index = np.unique(groups, return_inverse=True)
    n_groups = len(g_codes)
    c_codes = np.zeros(len(groups), dtype=np.int64) if codes is None else codes
    n_classes = int(c_codes.max()) + 1 if len(c_codes) else 1
    counts = np.bincount(g_index * n_classes + c_codes, minlength=n_groups * n_classes).reshape(
        n_groups, n_classes
    )
    group_fold = _place_groups(counts.astype(np.float64), k, rng)
    return group_fold[g_index]


def _place_groups(counts: np.ndarray, k: int, rng: Rng) -> np.ndarray:
    sizes = counts.sum(axis=1)
    n_groups = len(sizes)
    if rng is None:
        order = np.argsort(-sizes, kind="stable")
    else:
        perm = rng.permutation(n_groups)
        order = perm[np.argsort(-sizes[perm], kind="stable")]
    total = sizes.sum()
    # deviation of each fold from its target, class counts and size in one matrix:
    # dev[f, j] = counts[f, j] - target[j] + (size[f] - total / k)
    dev = np.tile(-counts.sum(axis=0) / k - total / k, (k, 1))
    fold = np.empty(n_groups, dtype=np.int64)
    big = int(np.sum(sizes > total / k * _BIG_GROUP_SHARE))
    n_greedy = min(n_groups, max(big, _MIN_GREEDY_GROUPS))
    jitter = _jitter(rng, n_greedy, k)
    for pos in range(n_greedy):
        g = order[pos]
        row = counts[g]
        f = int(np.argmin(dev @ row + jitter[pos]))
        fold[g] = f
        dev[f] += row + sizes[g]
    _improve(counts + sizes[:, None], order[:n_greedy], fold, dev)
    rest = order[n_greedy:]
    # rows + size: what a group adds to its fold's deviations
    adds = counts[rest] + sizes[rest][:, None]
    per_round, per_fold = _ROUND_GROUPS_PER_FOLD * k, _ROUND_GROUPS_PER_FOLD + 1
    slot_fold = np.tile(np.arange(k), per_fold)
    for start in range(0, len(rest), per_round):
        rows = counts[rest[start : start + per_round]]
        # each fold may take one group more than its share of the round: room to correct
        picked, slots = linear_sum_assignment(np.tile(rows @ dev.T, (1, per_fold)))
        folds = slot_fold[slots]
        fold[rest[start + picked]] = folds
        onehot = folds[:, None] == np.arange(k)
        dev += onehot.T @ adds[start + picked]
    return fold


def _improve(adds: np.ndarray, groups: np.ndarray, fold: np.ndarray, dev: np.ndarray) -> None:
    """Move single large groups to another fold while that lowers the squared deviation
    (greedy placement alone can leave a fold a large group too heavy)."""
    if len(groups) > _MAX_REFINE_GROUPS:
        return
    add = adds[groups]  # (g, c)
    for _ in range(_MAX_MOVES):
        here = fold[groups]
        # gain of moving group i from its fold a to fold b (vectorised over i and b)
        out_of = ((dev[here] - add) ** 2).sum(axis=1) - (dev[here] ** 2).sum(axis=1)
        into = ((dev[None, :, :] + add[:, None, :]) ** 2).sum(axis=2) - (dev**2).sum(axis=1)
        change = out_of[:, None] + into
        change[np.arange(len(groups)), here] = 0.0
        i, b = np.unravel_index(np.argmin(change), change.shape)
        if change[i, b] < -1e-9:
            dev[here[i]] -= add[i]
            dev[b] += add[i]
            fold[groups[i]] = b
        elif not _swap(add, groups, fold, dev):
            return


def _swap(add: np.ndarray, groups: np.ndarray, fold: np.ndarray, dev: np.ndarray) -> bool:
    """The best exchange of two groups between folds, if it lowers the squared deviation."""
    if len(groups) > _MAX_SWAP_GROUPS:
        return False
    here = fold[groups]
    d = add[None, :, :] - add[:, None, :]  # d[i, j] = add_j - add_i (i gives, j takes)
    gap = dev[here][:, None, :] - dev[here][None, :, :]  # dev_a - dev_b
    change = 2 * (d * gap).sum(axis=2) + 2 * (d**2).sum(axis=2)
    change[here[:, None] == here[None, :]] = 0.0
    i, j = np.unravel_index(np.argmin(change), change.shape)
    if change[i, j] >= -1e-9:
        return False
    a, b = here[i], here[j]
    dev[a] += add[j] - add[i]
    dev[b] += add[i] - add[j]
    fold[groups[i]], fold[groups[j]] = b, a
    return True


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
    """Integer codes of labels, in sorted label order (so relabelling keeps the split)."""
    return np.unique(values, return_inverse=True)[1].astype(np.int64).ravel()
