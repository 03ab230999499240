"""Fold assignment: scikit-learn compatible splitters, `make_folds`, and the split folder.

The splitter classes load on first use (PEP 562): making a spec's folds needs none of them,
and they import scikit-learn, about a second of every `check` and dry run otherwise.
"""

from typing import Any

from foldrun.split.folds import Folds, load_folds, make_folds
from foldrun.split.names import SPLITTERS

__all__ = ["Folds", "load_folds", "make_folds", *SPLITTERS]


def __getattr__(name: str) -> Any:
    if name in SPLITTERS:
        # lazy: the splitters import scikit-learn (see above)
        from foldrun.split import splitters

        return getattr(splitters, name)
    raise AttributeError(f"module 'foldrun.split' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
