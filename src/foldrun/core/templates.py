"""Command templates: `python train.py --train {train} --lr {lr}`.

A placeholder is `{identifier}`; `{{` and `}}` are literal braces; any other brace is left
alone (so `awk '{print $1}'` needs no escaping). Every value is inserted shell-quoted, so a
value holding `'; touch x #` or a newline reaches the program as one argument.

Two forms fit real command lines: `{name*}` expands a list into separate arguments
(`--feat {feat*}` -> `--feat a b`), and `{name?--flag}` writes `--flag` when the value is
true and nothing when it is false (switch flags such as `--amp`).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

from foldrun.errors import SpecError

# the placeholders every command template may use, besides the keys of params and grids
BUILTIN_PLACEHOLDERS = frozenset(
    {
        "train",
        "val",
        "test",
        "holdout",
        "out",
        "predictions",
        "fold",
        "fold1",
        "repeat",
        "model",
        "variant",
        "seed",
        "dataset",  # the `[datasets.<name>]` the task runs on, else empty
        "external",  # the external set's name while predict runs on one, else empty
    }
)
# `{name}`, `{name*}` (list -> arguments), `{name?--flag}` (switch); `{{`/`}}` literal
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)(\*|\?[^{}\s'\"]+)?\}")


def placeholders(template: str) -> set[str]:
    """The placeholder names used in `template`."""
    return {m.group(1) for m in _TOKEN.finditer(template) if m.group(1)}


def switches(template: str) -> set[str]:
    """The names used as `{name?--flag}` switches in `template`."""
    return {m.group(1) for m in _TOKEN.finditer(template) if (m.group(2) or "")[:1] == "?"}


def render(template: str, values: Mapping[str, Any]) -> str:
    """The command with every placeholder replaced by its shell-quoted value."""
    missing = sorted(placeholders(template) - values.keys())
    if missing:
        raise SpecError(
            f"unknown placeholder {{{missing[0]}}} in command {template!r}; use one of "
            f"{', '.join('{' + k + '}' for k in sorted(values))}, or write {{{{ }}}} for a "
            "literal brace"
        )

    def replace(match: re.Match[str]) -> str:
        name, form = match.group(1), match.group(2)
        if name is None:
            return match.group(0)[0]  # "{{" -> "{", "}}" -> "}"
        if form == "*":
            return _arguments(name, values[name])
        if form:
            return _switch(name, values[name], form[1:])
        return shlex.quote(value_text(values[name]))

    return _TOKEN.sub(replace, template)


def _arguments(name: str, value: Any) -> str:
    """`{name*}`: each item of a list as its own shell-quoted argument."""
    items = value if isinstance(value, list | tuple) else [value]
    return " ".join(shlex.quote(value_text(item)) for item in items)


def _switch(name: str, value: Any, flag: str) -> str:
    """`{name?--flag}`: the flag when the value is true, nothing when false."""
    if not isinstance(value, bool):
        raise SpecError(
            f"{{{name}?{flag}}} needs true or false, got {value!r}; set {name} to a boolean",
            key=name,
        )
    return flag if value else ""


def value_text(value: Any) -> str:
    """How a value reads on a command line: TOML-like booleans, JSON for lists and tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def program(command: str) -> str | None:
    """The program a rendered or unrendered command runs (its first shell word)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    # skip leading VAR=value assignments (`CUDA_LAUNCH_BLOCKING=1 python train.py`)
    for word in words:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word):
            return word
    return None
