"""The inputs a model's program gets in its own shape (spec/inputs.py), as the plan records
them: the model's `features` over `[data] features`, the manifest columns a command model
keeps and renames, whether it reads the split's `{fold_table}` / `{assignments}`.

Only a model that declares one of these gets anything here, so the recipes and fingerprints
of every other model stay exactly as they were."""

from __future__ import annotations

from typing import Any

from foldrun.core.templates import placeholders
from foldrun.spec.model import ModelSpec

SPLIT_PLACEHOLDERS = frozenset({"fold_table", "assignments"})


def model_data(model: ModelSpec, data: dict[str, Any]) -> dict[str, Any]:
    """The data settings of the model's tasks: `[data]`'s, with the model's own features."""
    if model.features is None:
        return data
    return {**data, "features": list(model.features)}


def kept_columns(model: ModelSpec, data: dict[str, Any]) -> list[str] | None:
    """The manifest columns a model with its own features reads: id, target(s), group(s)
    and those features; None when it reads every column."""
    if model.features is None:
        return None
    from foldrun.split.folds import composite_name, group_columns

    targets = data.get("target")
    targets = targets if isinstance(targets, list) else [targets]
    group = data.get("group")
    keys = [data.get("id") or "id", *targets, *group_columns(group), composite_name(group)]
    return list(dict.fromkeys(str(c) for c in [*keys, *model.features] if c))


def program_inputs(model: ModelSpec, data: dict[str, Any]) -> dict[str, Any] | None:
    """What the run adapters need to shape the manifests (None: as they are)."""
    found: dict[str, Any] = {}
    columns = kept_columns(model, data)
    if columns is not None:
        found["columns"] = columns
    if model.manifests is not None and model.manifests.rename:
        found["rename"] = dict(model.manifests.rename)
    return found or None


def reads_split(model: ModelSpec) -> bool:
    """Whether a template of the model names `{fold_table}` or `{assignments}`."""
    templates = [model.template(stage) for stage in model.stage_names()]
    return any(SPLIT_PLACEHOLDERS & placeholders(t) for t in templates if t)
