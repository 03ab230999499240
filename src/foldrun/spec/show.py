"""The spec as foldrun resolved it, written back as TOML (`foldrun check --show`): every
model with what it took from `extends`, [datasets] and the rest as they load, every key
with its value (defaults included; only unset optional keys are left out)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from foldrun.spec.model import Spec

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def resolved(spec: Spec) -> dict[str, Any]:
    """The spec's settings as plain data (what `--format json` shows)."""
    return spec.model_dump(mode="json", by_alias=True, exclude_none=True)


def resolved_toml(spec: Spec) -> str:
    """`resolved(spec)` as TOML text that loads back to the same spec."""
    text = "\n".join(_table(resolved(spec), [])).strip()
    return re.sub(r"\n{3,}", "\n\n", text) + "\n"


def _table(values: dict[str, Any], path: list[str]) -> list[str]:
    """`[path]` then its plain keys (small tables inline), then its sub-tables, each under
    its own header."""
    plain = {k: v for k, v in values.items() if not isinstance(v, dict) or _inline(v)}
    lines = [f"[{'.'.join(map(_key, path))}]"] if path and plain else []
    lines += [f"{_key(k)} = {_value(v)}" for k, v in plain.items()]
    for key, value in values.items():
        if key not in plain and value:
            lines += ["", *_table(value, [*path, key])]
    return lines


def _inline(table: dict[str, Any]) -> bool:
    """A table of plain values short enough for one line (`params = { lr = 0.1 }`)."""
    flat = not any(isinstance(v, dict) for v in table.values())
    return flat and len(_value(table)) <= 60


def _key(key: str) -> str:
    return key if _BARE.match(key) else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value, ensure_ascii=False)
