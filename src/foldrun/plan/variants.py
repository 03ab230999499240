"""Variants: the combinations of a grid, each with a short, readable, stable name.

Naming rule (documented in the README):
- no grid: `default`;
- else, keys sorted, each `<abbreviation><value>` joined by `-`: `max_depth=8,
  n_estimators=300` -> `md8-ne300`. A key with several `_`-separated words is abbreviated
  to their initials, a one-word key is kept whole up to 6 letters (`threshold` -> `thresh`);
  if two keys of one grid share an abbreviation, the full keys are used. A value that does
  not start with a digit gets a `_` before it (`kernel_rbf`).
- a value that is a table (settings that go together: `bench = [{ seq_len = 0.4, hop =
  0.05 }, ...]`) reads as its keys that vary across the list and their values
  (`bench_seq_len0.4`), a list as its items joined by `_` (`hidden64_128`); characters
  other than letters, digits, `.`, `_`, `+` and `-` become `_`.
- a name over 80 characters (over 60 written the old way), or two combinations that would
  get the same name: the name gets a `-` and 6 hex digits of the sha256 of the combination
  (`kernel_a-b-3f2a9c`), after a readable prefix. Every name the old rule (hash past 60
  characters or at any other character) left readable is unchanged.
- a name that could leave or hide its folder (empty, starting with `.`, holding `..`:
  `grid = { "." = ["."] }` would give `..`) is `v` and those 6 hex digits (`v3f2a9c`).
- a stage grid fans out from the variant before it: `<model variant>+<stage variant>`
  (`md8-ne300+thresh0.3`, `default+thresh0.5`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

DEFAULT = "default"
MAX_NAME = 60  # the old rule: names past it (or with other characters) were hashed
MAX_READABLE = 80  # names up to this long are readable whatever their values hold
_SAFE = re.compile(r"^[A-Za-z0-9._+-]+$")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._+-]+")


@dataclass(frozen=True)
class Variant:
    name: str
    values: dict[str, Any] = field(default_factory=dict, hash=False)


def expand(grid: dict[str, list[Any]]) -> list[Variant]:
    """Every combination of the grid (keys sorted), named; one `default` without a grid."""
    if not grid:
        return [Variant(DEFAULT, {})]
    keys = sorted(grid)
    combos = [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*(grid[k] for k in keys))
    ]
    abbrevs = _abbreviations(keys)
    shown = _shown_keys(grid)
    named = [_named(combo, abbrevs, shown) for combo in combos]
    names = _unique(named, combos)
    return [Variant(n, c) for n, c in zip(names, combos, strict=True)]


def _unique(named: list[tuple[str, bool]], combos: list[dict[str, Any]]) -> list[str]:
    """Names that two combinations share get their hash, except the one the old rule
    gave (`exact`) when only one of them is: a readable name never takes an old one."""
    exact = Counter(name for name, old in named if old)
    counts = Counter(name for name, _ in named)
    out = []
    for (name, old), combo in zip(named, combos, strict=True):
        keeps = counts[name] == 1 or (old and exact[name] == 1)
        clash = not keeps or name == DEFAULT
        out.append(_with_hash(name[: MAX_READABLE - 7], combo) if clash else name)
    return out


def _shown_keys(grid: dict[str, list[Any]]) -> dict[str, list[str]]:
    """Per grid key whose values are tables: their keys that vary across the list (all
    of them when none varies)."""
    shown = {}
    for key, values in grid.items():
        tables = [v for v in values if isinstance(v, dict)]
        inner = sorted({k for table in tables for k in table})
        varying = [k for k in inner if len({_value_text(t.get(k)) for t in tables}) > 1]
        shown[key] = varying or inner
    return shown


def chain(parent: Variant, stage_grid: dict[str, list[Any]]) -> list[Variant]:
    """The variants a stage grid fans out into from `parent` (itself when no grid)."""
    if not stage_grid:
        return [parent]
    return [
        Variant(f"{parent.name}+{child.name}", {**parent.values, **child.values})
        for child in expand(stage_grid)
    ]


def abbreviate(key: str) -> str:
    words = [w for w in key.split("_") if w]
    if len(words) > 1:
        return "".join(w[0] for w in words)
    return key[:6]


def _abbreviations(keys: list[str]) -> dict[str, str]:
    short = {k: abbreviate(k) for k in keys}
    if len(set(short.values())) < len(keys):
        return {k: k for k in keys}
    return short


def _named(
    combo: dict[str, Any], abbrevs: dict[str, str], shown: dict[str, list[str]]
) -> tuple[str, bool]:
    """The combination's name, and whether the old rule gave it (an existing run's
    folders keep their names)."""
    old = "-".join(_part(abbrevs[key], _value_text(combo[key])) for key in sorted(combo))
    if _SAFE.match(old) and len(old) <= MAX_NAME and _folder_safe(old):
        return old, True
    readable = "-".join(
        _part(abbrevs[key], _readable(combo[key], shown[key])) for key in sorted(combo)
    )
    readable = _UNSAFE_CHARS.sub("_", readable)
    if len(readable) <= MAX_READABLE and _folder_safe(readable):
        return readable, False
    return _name(old, combo), False


def _part(abbrev: str, text: str) -> str:
    sep = "" if text[:1].isdigit() or text[:1] in "-." else "_"
    return f"{abbrev}{sep}{text}"


def _readable(value: Any, shown: list[str]) -> str:
    """A value as a name reads it: a table as its shown keys and values, a list as its
    items, joined by `_`."""
    if isinstance(value, dict):
        return "_".join(_part(k, _readable(value.get(k), [])) for k in shown)
    if isinstance(value, list):
        return "_".join(_readable(item, []) for item in value)
    return _value_text(value)


def _folder_safe(name: str) -> bool:
    # a folder name: never `.`, `..`, hidden (foldrun's temporary folders start with `.`)
    return bool(name) and not name.startswith(".") and ".." not in name


def _name(name: str, combo: dict[str, Any]) -> str:
    """The old rule past its limits: a readable prefix and the hash, or `v` and the hash."""
    if not _SAFE.match(name) or len(name) > MAX_NAME:
        name = _with_hash(_UNSAFE_CHARS.sub("_", name)[: MAX_NAME - 7].strip("_"), combo)
    if not _folder_safe(name):
        return "v" + _with_hash("", combo)
    return name


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def _with_hash(name: str, combo: dict[str, Any]) -> str:
    canonical = json.dumps(
        {k: [type(v).__name__, v] for k, v in combo.items()}, sort_keys=True, default=str
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:6]
    return f"{name}-{digest}" if name else digest
