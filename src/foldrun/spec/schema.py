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
