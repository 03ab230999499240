from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from foldrun.plan.variants import DEFAULT, abbreviate, chain, expand

SAFE = re.compile(r"^[A-Za-z0-9._+-]+$")


def names(grid: dict) -> list[str]:
    return [v.name for v in expand(grid)]


def test_no_grid_is_default() -> None:
    assert names({}) == [DEFAULT]


def test_readable_names_sorted_keys() -> None:
    assert names({"n_estimators": [100, 300], "max_depth": [4, 8]}) == [
        "md4-ne100",
        "md4-ne300",
        "md8-ne100",
        "md8-ne300",
    ]
    assert names({"threshold": [0.3, 0.5]}) == ["thresh0.3", "thresh0.5"]
    assert names({"kernel": ["rbf", "linear"]}) == ["kernel_rbf", "kernel_linear"]
    assert names({"lr": [3e-4]}) == ["lr0.0003"]


def test_values_carry_through() -> None:
    variants = expand({"a": [1, 2], "b": ["x"]})
    assert [v.values for v in variants] == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]


def test_stable_whatever_the_key_order() -> None:
    assert names({"b": [1, 2], "a": [3]}) == names({"a": [3], "b": [1, 2]})


def test_colliding_abbreviations_use_full_keys() -> None:
    assert abbreviate("max_depth") == abbreviate("min_df") == "md"
    assert names({"max_depth": [3], "min_df": [2]}) == ["max_depth3-min_df2"]


def test_unsafe_values_and_collisions_get_a_hash() -> None:
    odd = names({"path": ["a/b", "a b"]})
    assert all(SAFE.match(n) for n in odd)
    assert len(set(odd)) == 2
    same_text = names({"x": [0.1, "0.1"]})
    assert len(set(same_text)) == 2
    assert all(n.startswith("x0.1-") for n in same_text)
    long = names({"k": ["v" * 200]})[0]
    assert len(long) <= 60 and SAFE.match(long)


def test_chain_fans_out_from_parent() -> None:
    parent = expand({"max_depth": [8]})[0]
    children = chain(parent, {"threshold": [0.3, 0.5]})
    assert [c.name for c in children] == ["md8+thresh0.3", "md8+thresh0.5"]
    assert children[0].values == {"max_depth": 8, "threshold": 0.3}
    assert chain(parent, {}) == [parent]


values = st.one_of(
    st.integers(-1000, 1000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.booleans(),
    st.none(),
)


@given(
    st.dictionaries(
        st.text("abcdefghij_", min_size=1, max_size=10),
        st.lists(values, min_size=1, max_size=4, unique_by=lambda v: (type(v), repr(v))),
        min_size=1,
        max_size=3,
    )
)
def test_names_are_unique_safe_and_stable(grid: dict) -> None:
    first = names(grid)
    assert len(set(first)) == len(first)
    assert all(SAFE.match(n) and n not in (".", "..", DEFAULT) for n in first)
    assert names(dict(reversed(list(grid.items())))) == first
