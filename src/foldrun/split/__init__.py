"""Fold assignment: scikit-learn compatible splitters, `make_folds`, and the split folder."""

from foldrun.split.folds import Folds, make_folds
from foldrun.split.splitters import (
    ContinuousStratifiedGroupKFold,
    ContinuousStratifiedKFold,
    GroupKFold,
    KFold,
    MultilabelStratifiedKFold,
    PredefinedSplit,
    RepeatedContinuousStratifiedGroupKFold,
    RepeatedContinuousStratifiedKFold,
    RepeatedGroupKFold,
    RepeatedKFold,
    RepeatedMultilabelStratifiedKFold,
    RepeatedStratifiedGroupKFold,
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
    StratifiedKFold,
)
from foldrun.split.store import load_folds

__all__ = [
    "ContinuousStratifiedGroupKFold",
    "ContinuousStratifiedKFold",
    "Folds",
    "GroupKFold",
    "KFold",
    "MultilabelStratifiedKFold",
    "PredefinedSplit",
    "RepeatedContinuousStratifiedGroupKFold",
    "RepeatedContinuousStratifiedKFold",
    "RepeatedGroupKFold",
    "RepeatedKFold",
    "RepeatedMultilabelStratifiedKFold",
    "RepeatedStratifiedGroupKFold",
    "RepeatedStratifiedKFold",
    "StratifiedGroupKFold",
    "StratifiedKFold",
    "load_folds",
    "make_folds",
]
