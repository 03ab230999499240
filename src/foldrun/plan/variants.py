"""Variants: the combinations of a grid, each with a short, readable, stable name.

Naming rule (documented in the README):
- no grid: `default`;
- else, keys sorted, each `<abbreviation><value>` joined by `-`: `max_depth=8,
  n_estimators=300` -> `md8-ne300`. A key with several `_`-separated words is abbreviated
  to their initials, a one-word key is kept whole up to 6 letters (`threshold` -> `thresh`);
  if two keys of one grid share an abbreviation, the full keys are used. A value that does
  not start with a digit gets a `_` before it (`kernel_rbf`).
- characters other than letters, digits, `.`, `_`, `+` and `-`, a name over 60
  characters, or two combinations that would get the same name: the name gets a `-` and
  6 hex digits of the sha256 of the combination (`kernel_a-b-3f2a9c`).
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
MAX_NAME = 60
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
    names = [_name(combo, abbrevs) for combo in combos]
    counts = Counter(names)
    names = [
        _with_hash(name, combo) if counts[name] > 1 or name == DEFAULT else name
        for name, combo in zip(names, combos, strict=True)
    ]
    return [Variant(n, c) for n, c in zip(names, combos, strict=True)]


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


def _name(combo: dict[str, Any], abbrevs: dict[str, str]) -> str:
    parts = []
    for key in sorted(combo):
        text = _value_text(combo[key])
        sep = "" if text[:1].isdigit() or text[:1] in "-." else "_"
        parts.append(f"{abbrevs[key]}{sep}{text}")
    name = "-".join(parts)
    if not _SAFE.match(name) or len(name) > MAX_NAME:
        name = _with_hash(_UNSAFE_CHARS.sub("_", name)[: MAX_NAME - 7].strip("_"), combo)
    if not name or name.startswith(".") or ".." in name:
        # a folder name: never `.`, `..`, hidden (foldrun's temporary folders start with `.`)
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
