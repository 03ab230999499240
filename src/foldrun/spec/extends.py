"""Model templates: `extends = "<name>"` on a model (or a `[templates.<name>]` table).

A model that extends another model or a template gets its keys; its own keys win, and tables
(params, grid, resources, stages, ...) merge key by key. Templates may extend models or
templates in turn; a cycle is refused. Resolution works on the TOML as read, before the
schema: the spec, its check and its fingerprints only ever see the resolved models.
"""

from __future__ import annotations

from typing import Any

from foldrun.spec.problems import Problem, did_you_mean, key_path


def resolve_extends(raw: dict[str, Any], file: str) -> tuple[dict[str, Any], list[Problem]]:
    """`raw` with every model (and template) written out in full, and the problems found;
    a model whose `extends` cannot be resolved is left as written (minus `extends`)."""
    models, templates = raw.get("models"), raw.get("templates")
    if not isinstance(models, dict):
        return raw, []
    if templates is not None and not isinstance(templates, dict):
        problem = "must be a table of [templates.<name>] tables, like [models.<name>]"
        return raw, [Problem(problem, file=file, key="templates")]
    spaces = {"models": models, "templates": templates or {}}
    resolved: dict[str, dict[str, Any]] = {space: {} for space in spaces}
    problems: list[Problem] = []
    for space, tables in spaces.items():
        for name in tables:
            _resolve(spaces, resolved, (space, name), [], problems, file)
    out = {**raw, "models": resolved["models"]}
    if templates is not None:
        out["templates"] = resolved["templates"]
    return out, problems


def _resolve(
    spaces: dict[str, dict[str, Any]],
    resolved: dict[str, dict[str, Any]],
    at: tuple[str, str],
    chain: list[tuple[str, str]],
    problems: list[Problem],
    file: str,
) -> dict[str, Any]:
    """The table at (space, name) written out in full (memoised in `resolved`)."""
    space, name = at
    if name in resolved[space]:
        return resolved[space][name]
    table = spaces[space][name]
    if not isinstance(table, dict) or "extends" not in table:
        resolved[space][name] = table
        return table
    own = {k: v for k, v in table.items() if k != "extends"}
    parent, problem = _parent(spaces, table["extends"], [*chain, at])
    if problem:
        problems.append(Problem(problem, file=file, key=f"{key_path([space, name])}.extends"))
        base: dict[str, Any] = {}
    else:
        assert parent is not None
        base = _resolve(spaces, resolved, parent, [*chain, at], problems, file)
    resolved[space][name] = merged(base, own) if isinstance(base, dict) else own
    return resolved[space][name]


def _parent(
    spaces: dict[str, dict[str, Any]], target: Any, chain: list[tuple[str, str]]
) -> tuple[tuple[str, str] | None, str]:
    """Where `extends = target` points, or why it cannot be followed."""
    if not isinstance(target, str):
        return None, f"must be the name of a model or a template (got {target!r})"
    found = [(space, target) for space in ("models", "templates") if target in spaces[space]]
    if not found:
        names = [*spaces["models"], *spaces["templates"]]
        hint = did_you_mean(target, names, "models and templates")
        return None, f"no model or template named {target!r}{hint}"
    if len(found) > 1:
        return None, f"{target!r} is both a model and a template; rename one of them"
    if found[0] in chain:
        loop = [name for _, name in chain[chain.index(found[0]):]] + [target]
        return None, f"extends makes a cycle ({' -> '.join(loop)}); remove one extends"
    return found[0], ""


def merged(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """`base` overridden by `own`: tables merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def written_at(raw: dict[str, Any], loc: list[Any]) -> list[Any]:
    """Where the key at `loc` (["models", name, key, ...] of the resolved spec) is written
    in `raw`, the TOML as read: the model's own table, else the first model or template up
    its `extends` chain that writes it (a typo in [templates.t] is `templates.t.<key>`,
    said once, not under each model that extends it); `loc` itself otherwise."""
    if len(loc) < 3 or loc[0] != "models":
        return loc
    spaces = {space: raw.get(space) for space in ("models", "templates")}
    at, seen = ("models", loc[1]), set()
    while at not in seen and isinstance(spaces[at[0]], dict):
        seen.add(at)
        table = spaces[at[0]].get(at[1])
        if not isinstance(table, dict):
            return loc
        if _writes(table, loc[2:]):
            return [*at, *loc[2:]]
        target = table.get("extends")
        found = [(s, target) for s in spaces if isinstance(spaces[s], dict) and target in spaces[s]]
        if not isinstance(target, str) or len(found) != 1:
            return loc
        at = found[0]
    return loc


def _writes(table: dict[str, Any], keys: list[Any]) -> bool:
    """Whether `table` itself holds the key path `keys`."""
    node: Any = table
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True
