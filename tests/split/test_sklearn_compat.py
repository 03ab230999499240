"""scikit-learn's own splitter tests, run against foldrun's classes.

The installed scikit-learn's `model_selection/tests/test_split.py` is loaded as a fresh
module with one line added after its imports: `from foldrun.split import KFold, ...`, so
every test (and every `parametrize` list) that names one of those classes gets foldrun's.
All of its tests that use a swapped class run here, except the few listed in `PINNED`,
which check scikit-learn's exact random indices or its per-fold shares in its fold order
(a different, equally valid or better assignment fails them). Unshuffled StratifiedKFold
gives scikit-learn's exact indices, so the tests that pin those run.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from pathlib import Path

import pytest
import sklearn

SWAPPED = (
    "GroupKFold", "KFold", "PredefinedSplit", "RepeatedKFold", "RepeatedStratifiedKFold",
    "StratifiedGroupKFold", "StratifiedKFold",
)  # fmt: skip
PINNED = {
    "test_stratified_group_kfold_approximate": "pins scikit-learn's (imperfect) per-fold "
    "shares, in its fold order; foldrun balances these groups better",
    "test_repeated_kfold_deterministic_split": "pins scikit-learn's exact random indices",
    "test_repeated_stratified_kfold_deterministic_split": "pins scikit-learn's exact "
    "random indices",
}
_SOURCE = Path(sklearn.__file__).parent / "model_selection" / "tests" / "test_split.py"


def _load() -> object:
    text = _SOURCE.read_text()
    swap = f"from foldrun.split import {', '.join(SWAPPED)}\n"
    # the swap goes right after the imports, before the module-level splitter lists
    text, n = re.subn(r"^(NO_GROUP_SPLITTERS = \[)", swap + r"\1", text, count=1, flags=re.M)
    assert n == 1, "scikit-learn's test_split.py changed shape; update the swap"
    name = "_foldrun_sklearn_test_split"
    spec = importlib.util.spec_from_loader(name, loader=None, origin=str(_SOURCE))
    module = importlib.util.module_from_spec(spec)
    module.__file__ = str(_SOURCE)
    sys.modules[name] = module
    exec(compile(text, str(_SOURCE), "exec"), module.__dict__)
    return module


_SK = _load()


def _uses_swapped(fn: object) -> bool:
    words = set(re.findall(r"\w+", inspect.getsource(fn)))
    return bool(words & set(SWAPPED))


@pytest.fixture(params=[0, 1, 42])
def global_random_seed(request: pytest.FixtureRequest) -> int:
    """scikit-learn's conftest fixture, on three seeds."""
    return request.param


for _name, _fn in vars(_SK).copy().items():
    if _name.startswith("test_") and callable(_fn) and _uses_swapped(_fn):
        if _name in PINNED:
            _fn = pytest.mark.skip(reason=PINNED[_name])(_fn)
        globals()[_name] = _fn
