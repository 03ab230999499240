"""foldrun: reproducible k-fold cross-validation experiments.

The public API is imported lazily so that `import foldrun` (and the CLI) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from foldrun._version import __version__

# public name -> module that defines it (the splitter names repeat foldrun.split.SPLITTERS,
# which cannot be read without importing pandas; a test keeps the two equal)
_API = {
    "KFold": "foldrun.split",
    "StratifiedKFold": "foldrun.split",
    "GroupKFold": "foldrun.split",
    "StratifiedGroupKFold": "foldrun.split",
    "ContinuousStratifiedKFold": "foldrun.split",
    "ContinuousStratifiedGroupKFold": "foldrun.split",
    "MultilabelStratifiedKFold": "foldrun.split",
    "PredefinedSplit": "foldrun.split",
    "RepeatedKFold": "foldrun.split",
    "RepeatedStratifiedKFold": "foldrun.split",
    "RepeatedGroupKFold": "foldrun.split",
    "RepeatedStratifiedGroupKFold": "foldrun.split",
    "RepeatedContinuousStratifiedKFold": "foldrun.split",
    "RepeatedContinuousStratifiedGroupKFold": "foldrun.split",
    "RepeatedMultilabelStratifiedKFold": "foldrun.split",
    "make_folds": "foldrun.split",
    "load_folds": "foldrun.split",
    "Folds": "foldrun.split",
    "load_results": "foldrun.results",
    "Project": "foldrun.api",
    "log": "foldrun.track.log",
    "log_params": "foldrun.track.log",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'foldrun' has no attribute {name!r}")
