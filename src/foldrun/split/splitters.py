"""scikit-learn compatible splitters: `split(X, y=None, groups=None)` yields
`(train_idx, test_idx)`, `get_n_splits()`, arguments checked in `__init__` with
scikit-learn's messages. They run the same algorithms as `make_folds`: an int
`random_state` here gives the folds that `make_folds(seed=random_state)` gives.
"""

from __future__ import annotations

import inspect
import itertools
import numbers
import warnings
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.model_selection import PredefinedSplit as _SkPredefinedSplit
from sklearn.utils import check_random_state, indexable

from foldrun.split import core
from foldrun.split.assign import DEFAULT_GROUP_BINS, rng_for
from foldrun.split.names import SPLITTERS

__all__ = list(SPLITTERS)


def _n_samples(X: Any) -> int:
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None and len(shape) else len(X)


class _IgnoresGroups:
    """For a splitter that does not use `groups`: says so when given them (scikit-learn's
    warning, word for word)."""

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[Any, Any]]:
        if groups is not None:
            warnings.warn(
                f"The groups parameter is ignored by {self.__class__.__name__}",
                UserWarning,
                stacklevel=2,
            )
        return super().split(X, y, groups=groups)


class _UsesGroups:
    """For a splitter that needs `groups`: with metadata routing on, it asks for them by
    default (scikit-learn reads every `__metadata_request__split` along the MRO)."""

    __metadata_request__split: ClassVar[dict[str, bool]] = {"groups": True}


class _FoldrunKFold(BaseCrossValidator):
    """Computes one fold number per sample, then yields the test indices fold by fold.

    `__init__` checks its arguments as scikit-learn's k-fold splitters do, with their messages.
    """

    _repeat = 0  # set by the Repeated* forms: which repeat's random stream to use

    def __init__(self, n_splits: int, *, shuffle: bool, random_state: Any):
        if not isinstance(n_splits, numbers.Integral):
            raise ValueError(
                "The number of folds must be of Integral type. "
                f"{n_splits} of type {type(n_splits)} was passed."
            )
        n_splits = int(n_splits)
        if n_splits <= 1:
            raise ValueError(
                "k-fold cross-validation requires at least one train/test split by setting "
                f"n_splits=2 or more, got n_splits={n_splits}."
            )
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle must be True or False; got {shuffle}")
        if not shuffle and random_state is not None:
            raise ValueError(
                "Setting a random_state has no effect since shuffle is False. You should leave "
                "random_state to its default (None), or set shuffle=True."
            )
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[Any, Any]]:
        X, y, groups = indexable(X, y, groups)
        n_samples = _n_samples(X)
        if self.n_splits > n_samples:
            raise ValueError(
                f"Cannot have number of splits n_splits={self.n_splits} greater than the "
                f"number of samples: n_samples={n_samples}."
            )
        yield from self._train_test(X, y, groups, n_samples)

    def _train_test(
        self, X: Any, y: Any, groups: Any, n: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """What scikit-learn's `BaseCrossValidator.split` yields from `_iter_test_indices`
        (train and test rows, ascending), from the fold numbers in two passes a fold: no
        test mask scattered and no row index taken through it."""
        fold = self._fold_of(y, groups, n)
        if self.n_splits < 128 and fold.dtype != np.int8:  # a byte per row: 8x less to read
            fold = fold.astype(np.int8)
        for f in range(self.n_splits):
            test = fold == f
            yield np.flatnonzero(~test), np.flatnonzero(test)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return self.n_splits

    def _rng(self) -> np.random.Generator | None:
        if not self.shuffle:
            return None
        state = self.random_state
        if isinstance(state, numbers.Integral):
            return rng_for(int(state), self._repeat)
        # None or a RandomState: draw a seed from it (new folds on every call, as sklearn)
        return rng_for(int(check_random_state(state).randint(np.iinfo(np.int32).max)))

    def _fold_of(self, y: Any, groups: Any, n: int) -> np.ndarray:
        raise NotImplementedError

    def _iter_test_indices(
        self, X: Any = None, y: Any = None, groups: Any = None
    ) -> Iterator[np.ndarray]:
        fold = self._fold_of(y, groups, _n_samples(X))
        for f in range(self.n_splits):
            yield np.flatnonzero(fold == f)


def _need_groups(groups: Any, n_splits: int) -> np.ndarray:
    if groups is None:
        raise ValueError("The 'groups' parameter should not be None.")
    codes = core.class_codes(np.asarray(groups))
    n_groups = int(codes.max()) + 1
    if n_splits > n_groups:
        raise ValueError(
            f"Cannot have number of splits n_splits={n_splits} greater than the number of "
            f"groups: {n_groups}."
        )
    return codes


def _need_classes(y: Any, n_splits: int) -> np.ndarray:
    if y is None:
        raise ValueError("The 'y' parameter should not be None.")
    y = np.asarray(y)
    if y.ndim != 1 and not (y.ndim == 2 and y.shape[1] == 1):
        kind = "multilabel-indicator" if np.isin(y, (0, 1)).all() else "multiclass-multioutput"
        raise ValueError(
            f"Supported target types are: ('binary', 'multiclass'). Got {kind!r} (y of shape "
            f"{y.shape}); use MultilabelStratifiedKFold for a 0/1 label matrix."
        )
    codes = core.class_codes(y.ravel())
    counts = np.bincount(codes)
    if np.all(n_splits > counts):
        raise ValueError(
            f"n_splits={n_splits} cannot be greater than the number of members in each class."
        )
    if n_splits > counts.min():
        warnings.warn(
            f"The least populated class in y has only {counts.min()} members, which is less "
            f"than n_splits={n_splits}.",
            UserWarning,
            stacklevel=4,
        )
    return codes


def _need_numbers(y: Any) -> np.ndarray:
    if y is None:
        raise ValueError("The 'y' parameter should not be None.")
    values = np.asarray(y, dtype=np.float64).ravel()
    if np.isnan(values).any():
        raise ValueError("Input y contains NaN; drop or fill those samples.")
    return values


def _check_bins(n_bins: Any, default: int | None) -> int | None:
    if n_bins is None:
        return default
    if not isinstance(n_bins, numbers.Integral) or n_bins < 2:
        raise ValueError(f"n_bins must be an integer >= 2 or None, got n_bins={n_bins!r}.")
    return int(n_bins)


class KFold(_IgnoresGroups, _FoldrunKFold):
    """K folds of sizes within one; contiguous when `shuffle=False` (as scikit-learn)."""

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state: Any = None):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)

    def _fold_of(self, y: Any, groups: Any, n: int) -> np.ndarray:
        small = np.int8 if self.n_splits < 128 else np.int64  # the same folds, a byte a row
        return core.kfold(n, self.n_splits, self._rng(), small)

    def _train_test(
        self, X: Any, y: Any, groups: Any, n: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if self.shuffle:
            yield from super()._train_test(X, y, groups, n)
            return
        # unshuffled, fold f is the block core.kfold gives: rows i with i * k // n == f
        ends = [-(-f * n // self.n_splits) for f in range(self.n_splits + 1)]
        for lo, hi in itertools.pairwise(ends):
            yield np.concatenate([np.arange(lo), np.arange(hi, n)]), np.arange(lo, hi)


class StratifiedKFold(_FoldrunKFold):
    """Every class dealt round-robin: class counts and fold sizes within one of even."""

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state: Any = None):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)

    def split(self, X: Any, y: Any, groups: Any = None) -> Iterator[tuple[Any, Any]]:
        return super().split(X, y, groups)

    def _fold_of(self, y: Any, groups: Any, n: int) -> np.ndarray:
        return core.stratified(_need_classes(y, self.n_splits), self.n_splits, self._rng())


class GroupKFold(_UsesGroups, _FoldrunKFold):
    """Groups kept whole; fold sizes as even as the groups allow."""

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state: Any = None):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)

    def _fold_of(self, y: Any, groups: Any, n: int) -> np.ndarray:
        codes = _need_groups(groups, self.n_splits)
        return core.stratified_grouped(codes, None, self.n_splits, self._rng())


class StratifiedGroupKFold(_UsesGroups, _FoldrunKFold):
    """Groups kept whole, class shares and fold sizes balanced together (drop-in for
    scikit-learn's, which balances classes only)."""

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state: Any = None):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)

    def _fold_of(self, y: Any, groups: Any, n: int) -> np.ndarray:
        codes = _need_classes(y, self.n_splits)
        group_codes = _need_groups(groups, self.n_splits)
        return core.stratified_grouped(group_codes, codes, self.n_splits, self._rng())


class ContinuousStratifiedKFold(_FoldrunKFold):
    """Stratified on a continuous target's rank order (each block of n_splits consecutive
    samples spread over the folds); `n_bins=B` stratifies on B quantile bins instead."""

    def __init__(
        self,
        n_splits: int = 5,
        *,
        n_bins: int | None = None,
        shuffle: bool = False,
        random_state: Any = None,
    ):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)
        self.n_bins = _check_bins(n_bins, None)

    def _fold_of(self, y: Any, groups: Any, n: int) -> np.ndarray:
        values = _need_numbers(y)
        if self.n_bins is None:
            return core.continuous(values, self.n_splits, self._rng())
        codes = core.quantile_codes(values, self.n_bins)
        return core.stratified(codes, self.n_splits, self._rng())


class ContinuousStratifiedGroupKFold(_UsesGroups, _FoldrunKFold):
    """Groups kept whole; stratified on `n_bins` quantile bins of a continuous target."""

    def __init__(
        self,
        n_splits: int = 5,
        *,
        n_bins: int = DEFAULT_GROUP_BINS,
        shuffle: bool = False,
        random_state: Any = None,
    ):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)
        self.n_bins = _check_bins(n_bins, DEFAULT_GROUP_BINS)

    def _fold_of(self, y: Any, groups: Any, n: int) -> np.ndarray:
        codes = core.quantile_codes(_need_numbers(y), self.n_bins)
        group_codes = _need_groups(groups, self.n_splits)
        return core.stratified_grouped(group_codes, codes, self.n_splits, self._rng())


class MultilabelStratifiedKFold(_FoldrunKFold):
    """Iterative stratification (Sechidis et al. 2011) of a 0/1 label matrix y."""

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state: Any = None):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)

    def split(self, X: Any, y: Any, groups: Any = None) -> Iterator[tuple[Any, Any]]:
        return super().split(X, y, groups)

    def _fold_of(self, y: Any, groups: Any, n: int) -> np.ndarray:
        if y is None:
            raise ValueError("The 'y' parameter should not be None.")
        labels = np.asarray(y)
        if labels.ndim != 2 or not np.isin(labels, (0, 1)).all():
            raise ValueError(
                "Supported target types are: ('multilabel-indicator',): y must be a 2d 0/1 "
                f"matrix, got shape {labels.shape}."
            )
        return core.multilabel(labels.astype(bool), self.n_splits, self._rng())


class PredefinedSplit(_SkPredefinedSplit):
    """scikit-learn's PredefinedSplit (test_fold = -1: never in a test set) that refuses a
    group spanning two test folds when `groups` is given."""

    def split(self, X: Any = None, y: Any = None, groups: Any = None) -> Iterator[tuple[Any, Any]]:
        if groups is not None:
            pairs = np.unique(
                np.column_stack([core.class_codes(np.asarray(groups)), self.test_fold]), axis=0
            )
            if np.any(np.diff(pairs[:, 0]) == 0):
                raise ValueError(
                    "A group spans two folds of test_fold, which leaks between folds. Give "
                    "every sample of a group the same test_fold value."
                )
        return super().split(X, y, groups)


class _Repeated(BaseCrossValidator):
    """Repeat r uses the random stream (random_state, r): the repeats of `make_folds`.

    `cv` is the splitter class repeated, `cvargs` its other arguments (n_splits, n_bins).
    """

    def __init__(self, cv: type[_FoldrunKFold], *, n_repeats: int, random_state: Any, **cvargs):
        if not isinstance(n_repeats, numbers.Integral):
            raise ValueError("Number of repetitions must be of Integral type.")
        if n_repeats <= 0:
            raise ValueError("Number of repetitions must be greater than 0.")
        self.cv = cv
        self.n_repeats = n_repeats
        self.random_state = random_state
        self.cvargs = cvargs

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return self.cv(shuffle=True, **self.cvargs).get_n_splits() * self.n_repeats

    def __repr__(self) -> str:
        # scikit-learn's form: the __init__ arguments, sorted by name
        names = sorted(inspect.signature(type(self).__init__).parameters)
        values = {"n_repeats": self.n_repeats, "random_state": self.random_state, **self.cvargs}
        args = ", ".join(f"{k}={values[k]!r}" for k in names if k in values)
        return f"{type(self).__name__}({args})"

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[Any, Any]]:
        state = self.random_state
        if not isinstance(state, numbers.Integral):
            state = int(check_random_state(state).randint(np.iinfo(np.int32).max))
        for r in range(self.n_repeats):
            cv = self.cv(random_state=int(state), shuffle=True, **self.cvargs)
            cv._repeat = r
            yield from cv.split(X, y, groups)


class RepeatedKFold(_IgnoresGroups, _Repeated):
    """KFold repeated n_repeats times with different randomization."""

    def __init__(self, *, n_splits: int = 5, n_repeats: int = 10, random_state: Any = None):
        super().__init__(KFold, n_repeats=n_repeats, random_state=random_state, n_splits=n_splits)


class RepeatedStratifiedKFold(_IgnoresGroups, _Repeated):
    """StratifiedKFold repeated n_repeats times with different randomization."""

    def __init__(self, *, n_splits: int = 5, n_repeats: int = 10, random_state: Any = None):
        super().__init__(
            StratifiedKFold, n_repeats=n_repeats, random_state=random_state, n_splits=n_splits
        )


class RepeatedGroupKFold(_UsesGroups, _Repeated):
    """GroupKFold repeated n_repeats times with different randomization."""

    def __init__(self, *, n_splits: int = 5, n_repeats: int = 10, random_state: Any = None):
        super().__init__(
            GroupKFold, n_repeats=n_repeats, random_state=random_state, n_splits=n_splits
        )


class RepeatedStratifiedGroupKFold(_UsesGroups, _Repeated):
    """StratifiedGroupKFold repeated n_repeats times with different randomization."""

    def __init__(self, *, n_splits: int = 5, n_repeats: int = 10, random_state: Any = None):
        super().__init__(
            StratifiedGroupKFold, n_repeats=n_repeats, random_state=random_state,
            n_splits=n_splits,
        )  # fmt: skip


class RepeatedContinuousStratifiedKFold(_IgnoresGroups, _Repeated):
    """ContinuousStratifiedKFold repeated n_repeats times with different randomization."""

    def __init__(
        self,
        *,
        n_splits: int = 5,
        n_repeats: int = 10,
        n_bins: int | None = None,
        random_state: Any = None,
    ):
        super().__init__(
            ContinuousStratifiedKFold, n_repeats=n_repeats, random_state=random_state,
            n_splits=n_splits, n_bins=n_bins,
        )  # fmt: skip


class RepeatedContinuousStratifiedGroupKFold(_UsesGroups, _Repeated):
    """ContinuousStratifiedGroupKFold repeated n_repeats times with different randomization."""

    def __init__(
        self,
        *,
        n_splits: int = 5,
        n_repeats: int = 10,
        n_bins: int = DEFAULT_GROUP_BINS,
        random_state: Any = None,
    ):
        super().__init__(
            ContinuousStratifiedGroupKFold, n_repeats=n_repeats, random_state=random_state,
            n_splits=n_splits, n_bins=n_bins,
        )  # fmt: skip


class RepeatedMultilabelStratifiedKFold(_IgnoresGroups, _Repeated):
    """MultilabelStratifiedKFold repeated n_repeats times with different randomization."""

    def __init__(self, *, n_splits: int = 5, n_repeats: int = 10, random_state: Any = None):
        super().__init__(
            MultilabelStratifiedKFold, n_repeats=n_repeats, random_state=random_state,
            n_splits=n_splits,
        )  # fmt: skip
