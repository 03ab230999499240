"""The metrics files a command's program writes in its own format, read into foldrun's
metric keys after the program exits (`metrics = [{file = ...}]`, spec/outputs.py).

JSON, YAML and TOML: every numeric leaf, its nested path joined by "/" (`{"test": {"auc":
0.9}}` -> `test/auc`), or `keys` (foldrun key -> dotted path). CSV/TSV long: a row per
metric (`metric`, `value`, optionally a `split` column: val, test, external:<name>); wide:
one row, a column per metric. A file missing, unreadable, or holding text where a metric
should be fails the task with one line (MetricsFileError). Standard library only: a command
task never pays for pandas here.
"""

from __future__ import annotations

import csv
import json
import math
import shlex
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from foldrun.core.templates import render

Number = float | int | None
TREES = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}


class MetricsFileError(ValueError):
    """A declared metrics file that is missing, unreadable or not numbers (one line)."""


def file_path(template: str, values: Mapping[str, Any], base: Path) -> Path:
    """A declared file's path: the template rendered as a command's (the same placeholders
    and forms), unquoted, relative to the spec's folder (the program's working folder)."""
    text = " ".join(shlex.split(render(template, values)))
    return base / Path(text).expanduser()


def read_sources(
    sources: tuple[dict[str, Any], ...], values: Mapping[str, Any], base: Path
) -> dict[str, Number]:
    """Every declared file's metrics, in the order declared (a later file's key wins)."""
    found: dict[str, Number] = {}
    for i, source in enumerate(sources):
        path = file_path(source["file"], values, base)
        try:
            found.update(read_source(source, path))
        except MetricsFileError as err:
            raise MetricsFileError(f"metrics file {path} (metrics[{i}]): {err}") from None
    return found


def read_source(source: Mapping[str, Any], path: Path) -> dict[str, Number]:
    """The metrics of one declared file, keys with the source's prefix."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MetricsFileError("the program wrote no such file; it must write it") from None
    except (OSError, UnicodeDecodeError) as err:
        raise MetricsFileError(f"cannot be read ({type(err).__name__}: {err})") from None
    kind = source.get("format") or TREES.get(path.suffix.lower(), "table")
    if kind in ("json", "yaml", "toml"):
        found = _from_tree(_tree(text, kind), source.get("keys"))
    else:
        found = _from_table(text, path, source, kind)
    if not found:
        raise MetricsFileError("holds no numbers; the program must write its metrics there")
    prefix = source.get("prefix", "")
    return {f"{prefix}{key}": value for key, value in found.items()}


def _tree(text: str, kind: str) -> Any:
    try:
        if kind == "json":
            return json.loads(text)
        if kind == "toml":
            return tomllib.loads(text)
        import yaml

        return yaml.safe_load(text)
    except Exception as err:  # each parser has its own error class
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise MetricsFileError(f"is not valid {kind.upper()} ({first})") from None


def _from_tree(tree: Any, keys: Mapping[str, str] | None) -> dict[str, Number]:
    if keys is None:
        if not isinstance(tree, dict):
            raise MetricsFileError(f"holds a {type(tree).__name__}, not a table of metrics")
        return dict(_leaves(tree, ""))
    found = {}
    for key, dotted in keys.items():
        value = _lookup(tree, dotted.split("."))
        if value is _MISSING:
            raise MetricsFileError(f"has no {dotted!r}; fix the path in keys")
        found[key] = _number(value, f"{dotted!r}")
    return found


def _leaves(tree: Mapping[Any, Any], prefix: str) -> list[tuple[str, Number]]:
    """The numeric leaves (null too) below `tree`, their paths joined by "/"; text,
    booleans and lists are not metrics."""
    found: list[tuple[str, Number]] = []
    for name, value in tree.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            found += _leaves(value, key + "/")
        elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            found.append((key, value))
    return found


def _lookup(tree: Any, parts: list[str]) -> Any:
    """The value at a dotted path (a list index is a number); a key holding dots matches
    as a whole first."""
    if not parts:
        return tree
    for n in range(len(parts), 0, -1):
        head = ".".join(parts[:n])
        if isinstance(tree, dict) and head in tree:
            return _lookup(tree[head], parts[n:])
        if isinstance(tree, list) and n == 1 and head.isdigit() and int(head) < len(tree):
            return _lookup(tree[int(head)], parts[1:])
    return _MISSING


_MISSING = object()  # no value at a dotted path


def _number(value: Any, where: str) -> Number:
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        number = _cell(value)
        if number is not _TEXT:
            return number
    raise MetricsFileError(f"holds {value!r} at {where}, not a number")


_TEXT = object()  # a CSV cell that is not a number


def _cell(text: str) -> Any:
    """A CSV cell as a number: empty is null, `nan` is NaN; anything else is _TEXT."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return _TEXT
    return value if math.isnan(value) or not value.is_integer() else int(value)


def _from_table(
    text: str, path: Path, source: Mapping[str, Any], kind: str
) -> dict[str, Number]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
    if not rows:
        raise MetricsFileError("is empty; the program must write its metrics there")
    header, body = [h.strip() for h in rows[0]], [r for r in rows[1:] if any(c.strip() for c in r)]
    metric, value = source.get("metric", "metric"), source.get("value", "value")
    if kind == "long" or (kind == "table" and metric in header and value in header):
        return _long(header, body, metric, value, source.get("split"))
    return _wide(header, body, source.get("keys"))


def _column(header: list[str], name: str) -> int:
    if name not in header:
        raise MetricsFileError(f"has no column {name!r} (columns: {', '.join(header)})")
    return header.index(name)


def _long(
    header: list[str], body: list[list[str]], metric: str, value: str, split: str | None
) -> dict[str, Number]:
    """A row per metric: `<split>/<metric>` (plain `<metric>` where the split is empty)."""
    at = [_column(header, metric), _column(header, value)]
    at += [_column(header, split)] if split else []
    found: dict[str, Number] = {}
    for line, row in enumerate(body, start=2):
        cells = [row[i].strip() if i < len(row) else "" for i in at]
        name = f"{cells[2]}/{cells[0]}" if len(cells) > 2 and cells[2] else cells[0]
        if not cells[0]:
            raise MetricsFileError(f"line {line} names no metric in column {metric!r}")
        if name in found:
            raise MetricsFileError(f"lists {name!r} twice (line {line}); keep one row per metric")
        found[name] = _number(cells[1], f"line {line}, column {value!r}")
    return found


def _wide(
    header: list[str], body: list[list[str]], keys: Mapping[str, str] | None
) -> dict[str, Number]:
    """One row, a column per metric (text columns are not metrics), or `keys`' columns."""
    if len(body) != 1:
        raise MetricsFileError(f"has {len(body)} rows; a wide file holds one row (a column "
                               "per metric), a long one a row per metric")  # fmt: skip
    row = dict(zip(header, [*body[0], *[""] * len(header)], strict=False))
    if keys is not None:
        return {k: _number(row[_check(header, c)], f"column {c!r}") for k, c in keys.items()}
    cells = {name: _cell(text) for name, text in row.items() if name}
    return {name: value for name, value in cells.items() if value is not _TEXT}


def _check(header: list[str], name: str) -> str:
    _column(header, name)
    return name
