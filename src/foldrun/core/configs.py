"""Config files rendered from a template: the task's values set into a JSON, YAML, TOML,
INI or `key=value` file, the rest of the template kept as it is.

A key may be dotted for a nested table (`optimizer.lr`; in an INI file `section.key`). A
`key=value` file keeps its comments, blank lines and order; a key it lacks is appended.
This is not a spec: the template is the user's program's own file (like Hydra's config).
"""

from __future__ import annotations

import configparser
import io
import json
import re
import tomllib
from collections.abc import Mapping
from typing import Any

from foldrun.core.templates import value_text
from foldrun.errors import SpecError

_LINE = re.compile(r"^(\s*)([^#;=\s][^=]*?)(\s*=\s*)(.*)$")


def top_keys(text: str, fmt: str) -> list[str]:
    """The keys a param may fill by name: a tree's top-level keys, an INI file's keys (of
    every section), a `key=value` file's keys."""
    if fmt == "keyvalue":
        return [m.group(2) for line in text.splitlines() if (m := _LINE.match(line))]
    if fmt == "ini":
        parser = _ini(text)
        return [key for section in parser.sections() for key in parser[section]]
    return list(parse(text, fmt))


def parse(text: str, fmt: str) -> dict[str, Any]:
    """A JSON, YAML or TOML template as a table (SpecError when it does not read)."""
    try:
        if fmt == "json":
            tree = json.loads(text)
        elif fmt == "toml":
            tree = tomllib.loads(text)
        else:
            import yaml

            tree = yaml.safe_load(text) or {}
    except ImportError:
        raise SpecError("a YAML config needs PyYAML; pip install pyyaml") from None
    except Exception as err:  # each parser has its own error class
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise SpecError(f"the template is not valid {fmt.upper()} ({first})") from None
    if not isinstance(tree, dict):
        raise SpecError(f"the template holds a {type(tree).__name__}, not a table of settings")
    return tree


def render(text: str, fmt: str, values: Mapping[str, Any]) -> str:
    """The template's text with `values` set (key, or dotted key -> value)."""
    if fmt == "keyvalue":
        return _key_values(text, values)
    if fmt == "ini":
        return _ini_text(text, values)
    tree = parse(text, fmt)
    for key, value in values.items():
        _set(tree, key.split("."), value)
    if fmt == "json":
        return json.dumps(tree, indent=2) + "\n"
    if fmt == "toml":
        return toml_text(tree)
    import yaml

    return str(yaml.safe_dump(tree, sort_keys=False))


def _set(tree: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        child = tree.setdefault(part, {})
        if not isinstance(child, dict):
            raise SpecError(f"{'.'.join(parts)}: {part!r} is a value in the template, not a "
                            "table; set it as a whole")  # fmt: skip
        tree = child
    tree[parts[-1]] = value


def _key_values(text: str, values: Mapping[str, Any]) -> str:
    """`key=value` lines: each key set in place (its spacing kept), new keys appended."""
    left = dict(values)
    lines = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match and match.group(2) in left:
            indent, key, sep = match.group(1), match.group(2), match.group(3)
            line = f"{indent}{key}{sep}{value_text(left.pop(key))}"
        lines.append(line)
    lines += [f"{key}={value_text(value)}" for key, value in left.items()]
    return "\n".join(lines) + "\n"


def _ini(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys as written
    try:
        parser.read_string(text)
    except configparser.Error as err:
        raise SpecError(f"the template is not valid INI ({str(err).splitlines()[0]})") from None
    return parser


def _ini_text(text: str, values: Mapping[str, Any]) -> str:
    """INI: `section.key` sets that key; a plain key sets it in every section holding it."""
    parser = _ini(text)
    for key, value in values.items():
        section, _, option = key.rpartition(".")
        sections = [section] if section else [s for s in parser.sections() if key in parser[s]]
        if not sections:
            raise SpecError(f"{key}: no section of the template has it; write section.{key}")
        for name in sections:
            if not parser.has_section(name):
                parser.add_section(name)
            parser[name][option] = value_text(value)
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


def toml_text(tree: Mapping[str, Any], prefix: str = "") -> str:
    """A table as TOML: its values, then each sub-table as `[a.b]`."""
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in tree.items()
             if not isinstance(v, dict)]  # fmt: skip
    parts = ["\n".join(lines) + "\n" if lines else ""]
    for key, value in tree.items():
        if isinstance(value, dict):
            name = f"{prefix}{_toml_key(key)}"
            parts.append(f"\n[{name}]\n" + toml_text(value, name + "."))
    return "".join(parts)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # Python writes inf, -inf and nan as TOML does
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }"
    if value is None:
        return '""'
    return json.dumps(str(value))
