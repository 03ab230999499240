"""foldrun's splitters stand on scikit-learn's public API only, and the move off its private
bases changed nothing: the folds of every splitter (digests recorded before the change),
the reprs, the groups warning and the metadata routing of `groups`."""

from __future__ import annotations

import ast
import hashlib
import importlib
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

import foldrun.split as split
from foldrun.split import splitters

_RNG = np.random.default_rng(0)
N = 120
X = _RNG.normal(size=(N, 2))
Y = _RNG.choice(["a", "b", "c"], size=N, p=[0.5, 0.3, 0.2])
G = _RNG.integers(0, 30, size=N)
YC = _RNG.normal(size=N)
YM = (_RNG.random((N, 3)) < 0.3).astype(int)
TARGETS = {
    "KFold": Y, "StratifiedKFold": Y, "GroupKFold": Y, "StratifiedGroupKFold": Y,
    "ContinuousStratifiedKFold": YC, "ContinuousStratifiedGroupKFold": YC,
    "MultilabelStratifiedKFold": YM,
}  # fmt: skip

# sha256 (first 16 hex) of every split's test then train indices, as foldrun gave them on
# scikit-learn's private bases (before foldrun owned them)
FOLD_DIGESTS = {
    "ContinuousStratifiedGroupKFold()": "5515fc21d8153c16",
    "ContinuousStratifiedGroupKFold(RandomState(3))": "1e90731b504a67f5",
    "ContinuousStratifiedGroupKFold(seed=0)": "f2230343b7ded39a",
    "ContinuousStratifiedGroupKFold(seed=7)": "c5ae4b4b5842b543",
    "ContinuousStratifiedKFold()": "7cf6170e4107973d",
    "ContinuousStratifiedKFold(RandomState(3))": "0831b1ecd13edb08",
    "ContinuousStratifiedKFold(n_bins=5, seed=1)": "cb5fe6ee0c91fe45",
    "ContinuousStratifiedKFold(seed=0)": "782f0ac9373d8e02",
    "ContinuousStratifiedKFold(seed=7)": "454f0bb7ac8fbe10",
    "GroupKFold()": "df001695f2e7c760",
    "GroupKFold(RandomState(3))": "9cee7b46329e5b6e",
    "GroupKFold(seed=0)": "abc83780ae1f29d2",
    "GroupKFold(seed=7)": "43688e74fd01c450",
    "KFold()": "fbb5488e816a3c57",
    "KFold(RandomState(3))": "a40378de26a9ad9a",
    "KFold(seed=0)": "dbc03f3a0899d06d",
    "KFold(seed=7)": "41cd58233debf2d3",
    "MultilabelStratifiedKFold()": "ca6ae28d1e684cc0",
    "MultilabelStratifiedKFold(RandomState(3))": "58df009114620e3e",
    "MultilabelStratifiedKFold(seed=0)": "f2b765f249fa180c",
    "MultilabelStratifiedKFold(seed=7)": "eb4eabf2b4a6e1ba",
    "PredefinedSplit": "a868b87c0fd0863c",
    "RepeatedContinuousStratifiedGroupKFold(RandomState(3))": "1b2eadfde3a287c3",
    "RepeatedContinuousStratifiedGroupKFold(seed=0)": "3986079c979fc2f2",
    "RepeatedContinuousStratifiedGroupKFold(seed=7)": "aebc90efee806129",
    "RepeatedContinuousStratifiedKFold(RandomState(3))": "88d1eed4cd018a9c",
    "RepeatedContinuousStratifiedKFold(seed=0)": "3fe74642d5699a33",
    "RepeatedContinuousStratifiedKFold(seed=7)": "bdd324115226a9ff",
    "RepeatedGroupKFold(RandomState(3))": "c861ba85e92abfbd",
    "RepeatedGroupKFold(seed=0)": "94697e6a1a72d67d",
    "RepeatedGroupKFold(seed=7)": "64f3696c251db287",
    "RepeatedKFold(RandomState(3))": "b8ff9d2bd6d30cae",
    "RepeatedKFold(seed=0)": "c3229884741e72fa",
    "RepeatedKFold(seed=7)": "d869d0671a397558",
    "RepeatedMultilabelStratifiedKFold(RandomState(3))": "e2e6b2de0f29b69d",
    "RepeatedMultilabelStratifiedKFold(seed=0)": "b14995d63ec61830",
    "RepeatedMultilabelStratifiedKFold(seed=7)": "63d92c3ce3bf8264",
    "RepeatedStratifiedGroupKFold(RandomState(3))": "9b256275e6f5a77a",
    "RepeatedStratifiedGroupKFold(seed=0)": "14dc3ac25b43dc6e",
    "RepeatedStratifiedGroupKFold(seed=7)": "4b4995dea39040ee",
    "RepeatedStratifiedKFold(RandomState(3))": "68eeef38e293853f",
    "RepeatedStratifiedKFold(seed=0)": "f0039b73ba5ee701",
    "RepeatedStratifiedKFold(seed=7)": "ee6ff3cbeed4ca32",
    "StratifiedGroupKFold()": "dedcc23079cdaecf",
    "StratifiedGroupKFold(RandomState(3))": "d166fc9eb15b6c00",
    "StratifiedGroupKFold(seed=0)": "9d6bf9542aa9cdb2",
    "StratifiedGroupKFold(seed=7)": "919b3d2ec1e8eb38",
    "StratifiedKFold()": "0ca3f895f9a0dbc7",
    "StratifiedKFold(RandomState(3))": "ad4e04aeac2bf23a",
    "StratifiedKFold(seed=0)": "d8e47b9ea194b299",
    "StratifiedKFold(seed=7)": "83ea6a7208e6a2d6",
}
# repr(Class()): the parameters inside Class(...)
REPRS = {
    "ContinuousStratifiedGroupKFold": "n_bins=10, n_splits=5, random_state=None, shuffle=False",
    "ContinuousStratifiedKFold": "n_bins=None, n_splits=5, random_state=None, shuffle=False",
    "GroupKFold": "n_splits=5, random_state=None, shuffle=False",
    "KFold": "n_splits=5, random_state=None, shuffle=False",
    "MultilabelStratifiedKFold": "n_splits=5, random_state=None, shuffle=False",
    "RepeatedContinuousStratifiedGroupKFold": "n_bins=10, n_repeats=10, n_splits=5, "
    "random_state=None",
    "RepeatedContinuousStratifiedKFold": "n_bins=None, n_repeats=10, n_splits=5, random_state=None",
    "RepeatedGroupKFold": "n_repeats=10, n_splits=5, random_state=None",
    "RepeatedKFold": "n_repeats=10, n_splits=5, random_state=None",
    "RepeatedMultilabelStratifiedKFold": "n_repeats=10, n_splits=5, random_state=None",
    "RepeatedStratifiedGroupKFold": "n_repeats=10, n_splits=5, random_state=None",
    "RepeatedStratifiedKFold": "n_repeats=10, n_splits=5, random_state=None",
    "StratifiedGroupKFold": "n_splits=5, random_state=None, shuffle=False",
    "StratifiedKFold": "n_splits=5, random_state=None, shuffle=False",
}


def _digest(cv: Any, y: Any) -> str:
    h = hashlib.sha256()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for train, test in cv.split(X, y, G):
            h.update(np.asarray(test, dtype=np.int64).tobytes() + b"|")
            h.update(np.asarray(train, dtype=np.int64).tobytes() + b";")
    return h.hexdigest()[:16]


def _build(key: str) -> tuple[Any, Any]:
    name, _, arg = key.partition("(")
    arg = arg.removesuffix(")")
    base = name.removeprefix("Repeated")
    y = TARGETS[base]
    if arg == "RandomState(3)":
        state: Any = np.random.RandomState(3)
    elif arg.startswith("seed="):
        state = int(arg.removeprefix("seed="))
    else:
        return getattr(split, name)(4), y
    if name.startswith("Repeated"):
        return getattr(split, name)(n_splits=4, n_repeats=3, random_state=state), y
    return getattr(split, name)(4, shuffle=True, random_state=state), y


@pytest.mark.parametrize("key", [k for k in FOLD_DIGESTS if k.endswith(")") and "n_bins" not in k])
def test_folds_are_the_recorded_ones(key: str) -> None:
    cv, y = _build(key)
    assert _digest(cv, y) == FOLD_DIGESTS[key]


def test_binned_and_predefined_folds_are_the_recorded_ones() -> None:
    cv = split.ContinuousStratifiedKFold(4, n_bins=5, shuffle=True, random_state=1)
    assert _digest(cv, YC) == FOLD_DIGESTS["ContinuousStratifiedKFold(n_bins=5, seed=1)"]
    assert _digest(split.PredefinedSplit(G % 4 - (G == 5)), Y) == FOLD_DIGESTS["PredefinedSplit"]


@pytest.mark.parametrize("name", REPRS)
def test_repr_and_default_n_splits(name: str) -> None:
    cv = getattr(split, name)()
    # the words of scikit-learn's repr; where it wraps a long one is its printer's business
    assert " ".join(repr(cv).split()) == f"{name}({REPRS[name]})"
    assert cv.get_n_splits() == (50 if name.startswith("Repeated") else 5)


@pytest.mark.parametrize(
    "cv", [split.GroupKFold(3), split.StratifiedGroupKFold(3), split.RepeatedGroupKFold(
        n_splits=3, n_repeats=2, random_state=0)], ids=repr,
)  # fmt: skip
def test_grid_search_routes_groups(cv: Any) -> None:
    y = np.where(Y == "a", 0, 1)
    search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=cv)
    # a group splitter given no groups refuses: a fit that passes got them
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(X, y, groups=G)
        with pytest.raises(ValueError, match="'groups' parameter should not be None"):
            GridSearchCV(LogisticRegression(), {"C": [1.0]}, cv=cv).fit(X, y)
    search.fit(X, y, groups=G)  # and without routing, as ever
    assert cv.get_metadata_routing().consumes("split", ["groups"]) == {"groups"}


@pytest.mark.parametrize("cv", [split.KFold(3), split.RepeatedKFold(n_splits=3, n_repeats=2)],
                         ids=repr)  # fmt: skip
def test_non_group_splitters_request_no_groups_and_warn(cv: Any) -> None:
    assert cv.get_metadata_routing().consumes("split", ["groups"]) == set()
    assert not hasattr(cv, "set_split_request")
    name = type(cv).__name__
    with pytest.warns(UserWarning, match=f"The groups parameter is ignored by {name}"):
        cv.split(X, Y, G)


def test_importing_foldrun_split_does_not_import_sklearn() -> None:
    code = "import sys, foldrun.split; print('sklearn' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def _sklearn_imports() -> dict[str, str]:
    """What splitters.py imports from scikit-learn: name -> the module it comes from."""
    found = {}
    for node in ast.walk(ast.parse(Path(splitters.__file__).read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sklearn":
            found.update({alias.name: str(node.module) for alias in node.names})
        elif isinstance(node, ast.Import):
            found.update({a.name: a.name for a in node.names if a.name.split(".")[0] == "sklearn"})
    return found


def test_splitters_import_scikit_learn_by_public_paths_only() -> None:
    imports = _sklearn_imports()
    assert "BaseCrossValidator" in imports  # the parse found them
    for name, module in imports.items():
        private = [part for part in [*module.split("."), name] if part.startswith("_")]
        assert not private, f"{module}.{name} is private scikit-learn API"


def _splitter_classes() -> list[type]:
    return [
        obj
        for obj in vars(splitters).values()
        if isinstance(obj, type) and obj.__module__ == splitters.__name__
    ]


def test_no_splitter_stands_on_a_private_sklearn_class() -> None:
    public = {
        getattr(importlib.import_module(module), name)
        for name, module in _sklearn_imports().items()
        if not any(part.startswith("_") for part in [*module.split("."), name])
    }
    public = {obj for obj in public if isinstance(obj, type)}
    # a public class's own bases (say BaseCrossValidator's) come with it
    allowed = {base for cls in public for base in cls.__mro__}
    assert len(_splitter_classes()) > 15
    for cls in _splitter_classes():
        for own in cls.__mro__:
            if own.__module__.split(".")[0] == "sklearn":
                assert own in allowed, f"{cls.__name__} stands on {own.__module__}.{own.__name__}"
            elif own.__module__ == splitters.__name__:
                for base in own.__bases__:
                    if base.__module__.split(".")[0] == "sklearn":
                        assert base in public, f"{own.__name__} subclasses {base!r}"


def test_one_list_of_splitter_names() -> None:
    public = sorted(c.__name__ for c in _splitter_classes() if not c.__name__.startswith("_"))
    assert sorted(split.SPLITTERS) == public
    assert splitters.__all__ == list(split.SPLITTERS)
    assert set(split.__all__) == {*split.SPLITTERS, "Folds", "load_folds", "make_folds"}
    assert all(getattr(split, name) is getattr(splitters, name) for name in split.SPLITTERS)
