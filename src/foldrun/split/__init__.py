"""Fold assignment: scikit-learn compatible splitters, `make_folds`, and the split folder."""

from foldrun.split.folds import Folds, make_folds
from foldrun.split.store import load_folds

__all__ = ["Folds", "load_folds", "make_folds"]
