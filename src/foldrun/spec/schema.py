"""The JSON Schema (draft 2020-12) of `foldrun.toml`, made from the spec's pydantic models
(spec/model.py and the tables it holds), so editors that read JSON Schema (Taplo / Even
Better TOML, VS Code, PyCharm) validate and complete a spec, and the user guide's spec
reference lists exactly the keys the loader accepts. Never written by hand:
`docs/foldrun.schema.json` is this module's output (`foldrun schema`), kept equal by a test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from foldrun.spec.model import Spec

DRAFT = "https://json-schema.org/draft/2020-12/schema"
TITLE = "foldrun.toml"
DESCRIPTION = (
    "The spec of a foldrun experiment: the data table, how it is split into folds, the "
    "models and their grids, and where and how their tasks run (`foldrun check` validates "
    "it further: columns, placeholders, imports)."
)


def spec_schema() -> dict[str, Any]:
    """The schema as a dict: the keys as the TOML spells them (`from`, not `from_`)."""
    schema = Spec.model_json_schema(by_alias=True, mode="validation")
    schema.pop("title", None)
    return {"$schema": DRAFT, "title": TITLE, "description": DESCRIPTION, **schema}


def schema_text() -> str:
    """What `foldrun schema` prints and docs/foldrun.schema.json holds."""
    return json.dumps(spec_schema(), indent=2, ensure_ascii=False) + "\n"


def keys(schema: dict[str, Any] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every key of the spec as a dotted path and its property schema, each table before
    its keys: `models.<name>.grid` (`<name>`: a key the user chooses), `models.<name>.
    metrics[].file` (a key of the tables of a list)."""
    schema = schema or spec_schema()
    yield from _walk(schema, schema, "")


def _walk(node: dict[str, Any], root: dict[str, Any],
          prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:  # fmt: skip
    for name, prop in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        yield path, prop
        for table, joiner in _tables(prop, root):
            yield from _walk(table, root, f"{path}{joiner}")


def _tables(prop: dict[str, Any], root: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """The tables a key holds, each with what joins their keys to it: "." (a table),
    ".<name>." (a map of named tables), "[]." (a list of tables)."""
    for option in _options(prop):
        target = _deref(option, root)
        for inner, joiner in ((target, "."), (target.get("additionalProperties"), ".<name>."),
                              (target.get("items"), "[].")):  # fmt: skip
            table = _deref(inner, root) if isinstance(inner, dict) else {}
            if "properties" in table:
                yield table, joiner


def _options(prop: dict[str, Any]) -> list[dict[str, Any]]:
    return [prop, *prop.get("anyOf", []), *prop.get("allOf", [])]


def _deref(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    return root["$defs"][ref.rsplit("/", 1)[-1]]


def undocumented(schema: dict[str, Any] | None = None) -> list[str]:
    """The keys without a description (each key of the spec must say what it does)."""
    return [path for path, prop in keys(schema) if not _description(prop)]


def _description(prop: dict[str, Any]) -> str:
    return str(prop.get("description") or "")


TYPE_WORDS = {"string": "text", "integer": "integer", "number": "number", "boolean": "true/false",
              "null": "none"}  # fmt: skip


def reference_markdown() -> str:
    """The spec reference page of the user guide: a table per TOML table, each key with its
    type, default and description, all read from the schema (never written by hand)."""
    schema = spec_schema()
    sections: dict[str, list[str]] = {}
    for path, prop in keys(schema):
        parent, _, key = path.rpartition(".")
        required = key in _table_at(parent, schema).get("required", [])
        sections.setdefault(parent, []).append(_row(key, prop, schema, required))
    out = [f"{schema['description']}\n"]
    for parent, rows in sections.items():
        title = f"`[{parent}]`" if parent else "Top level"
        out += [f"## {title}\n", _described(parent, schema),
                "| key | type | default | what it does |", "| --- | --- | --- | --- |", *rows, ""]
    return "\n".join(out)


def _table_at(parent: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The schema of the table whose keys are `parent.<key>`."""
    if not parent:
        return schema
    for path, prop in keys(schema):
        for table, joiner in _tables(prop, schema):
            if f"{path}{joiner}".rstrip(".") == parent:
                return table
    return {}


def _described(parent: str, schema: dict[str, Any]) -> str:
    text = _table_at(parent, schema).get("description", "") if parent else ""
    return f"{' '.join(text.split())}\n" if text else ""


def _row(key: str, prop: dict[str, Any], schema: dict[str, Any], required: bool) -> str:
    default = "required" if required else _default(prop)
    cells = [f"`{key}`", _kind(prop, schema), default, _description(prop)]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _cell(text: str) -> str:
    """Table-safe Markdown: no pipe, no newline, `<name>` shown rather than taken as HTML."""
    text = text.replace("|", "\\|").replace("\n", " ")
    return text.replace("<", "&lt;").replace(">", "&gt;") if "`" not in text else text


def _default(prop: dict[str, Any]) -> str:
    if "default" not in prop or prop["default"] is None:
        return ""
    return f"`{json.dumps(prop['default'], ensure_ascii=False)}`"


def _kind(prop: dict[str, Any], schema: dict[str, Any]) -> str:
    """`text`, `integer or table`, `list of text`, `table of text`, `"a", "b"`."""
    if "$ref" in prop:
        return "table"
    if "anyOf" in prop:
        kinds = [_kind(o, schema) for o in prop["anyOf"] if o.get("type") != "null"]
        return " or ".join(dict.fromkeys(kinds))
    if "enum" in prop or "const" in prop:
        return ", ".join(json.dumps(v) for v in prop.get("enum", [prop.get("const")]))
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_kind(prop.get('items', {}), schema)}"
    if kind == "object":
        extra = prop.get("additionalProperties")
        if isinstance(extra, dict) and "$ref" in extra:
            return "tables by name"
        return f"table of {_kind(extra, schema)}" if isinstance(extra, dict) and extra else "table"
    return TYPE_WORDS.get(str(kind), "any")
