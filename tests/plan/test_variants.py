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


# ---------------------------------------------------------------- readable names (issue 25)

BENCH = [
    {"seq_len": 0.4, "hop": 0.05, "threshold": 0.3},
    {"seq_len": 0.4, "hop": 0.05, "threshold": 0.5},
    {"seq_len": 0.8, "hop": 0.05, "threshold": 0.3},
]


def test_a_stage_grid_of_settings_reads_as_the_settings_that_vary() -> None:
    # seed 004: was default+bench__hop_0.05_seq_len_0.4_threshold_0.3-bfcb71
    children = [c.name for c in chain(expand({})[0], {"bench": BENCH})]
    assert children == [
        "default+bench_seq_len0.4_threshold0.3",
        "default+bench_seq_len0.4_threshold0.5",
        "default+bench_seq_len0.8_threshold0.3",
    ]
    assert names({"bench": BENCH[:1]}) == ["bench_hop0.05_seq_len0.4_threshold0.3"]
    assert names({"hidden": [[64, 128], [32]]}) == ["hidden64_128", "hidden32"]


def test_names_are_hashed_only_past_80_characters() -> None:
    (seventy,) = names({"k": ["v" * 70]})
    assert seventy == "k_" + "v" * 70  # 72 characters: was hashed past 60
    (long,) = names({"k": ["v" * 200]})
    assert long.startswith("k_vvv") and len(long) <= 60 and re.search(r"-[0-9a-f]{6}$", long)
    spaced = names({"model": ["adamw with cosine warmup", "sgd with momentum"]})
    assert spaced == ["model_adamw_with_cosine_warmup", "model_sgd_with_momentum"]


def test_a_readable_name_never_takes_a_name_the_old_rule_gave() -> None:
    found = names({"path": ["a_b", "a b", "a/b"]})
    assert found[0] == "path_a_b"  # the old name stays, the two that now read alike hash
    assert all(re.fullmatch(r"path_a_b-[0-9a-f]{6}", n) for n in found[1:])
    assert len(set(found)) == 3


def _old_name(combo: dict, abbrevs: dict) -> str | None:
    """The rule before issue 25, where it gave a name without a hash (None otherwise)."""
    parts = []
    for key in sorted(combo):
        value = combo[key]
        text = (
            ("true" if value else "false") if isinstance(value, bool)
            else "none" if value is None
            else repr(value) if isinstance(value, float)
            else str(value)
        )  # fmt: skip
        sep = "" if text[:1].isdigit() or text[:1] in "-." else "_"
        parts.append(f"{abbrevs[key]}{sep}{text}")
    name = "-".join(parts)
    safe = SAFE.match(name) and len(name) <= 60
    return name if safe and not name.startswith(".") and ".." not in name else None


@given(
    st.dictionaries(
        st.text("abcdefghij_", min_size=1, max_size=10),
        st.lists(values, min_size=1, max_size=4, unique_by=lambda v: (type(v), repr(v))),
        min_size=1,
        max_size=3,
    )
)
def test_every_name_the_old_rule_left_readable_is_unchanged(grid: dict) -> None:
    from foldrun.plan.variants import _abbreviations

    variants = expand(grid)
    abbrevs = _abbreviations(sorted(grid))
    old = [_old_name(v.values, abbrevs) for v in variants]
    clashes = {n for n in old if n is not None and old.count(n) > 1}
    for variant, name in zip(variants, old, strict=True):
        if name is not None and name not in clashes and name != DEFAULT:
            assert variant.name == name
