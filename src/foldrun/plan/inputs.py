"""The inputs a model's program gets in its own shape (spec/inputs.py), as the plan records
them: the model's `features` over `[data] features`, the manifest columns a command model
keeps and renames, whether it reads the split's `{fold_table}` / `{assignments}`.

Only a model that declares one of these gets anything here, so the recipes and fingerprints
of every other model stay exactly as they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from foldrun.core.templates import placeholders
from foldrun.errors import PlanError
from foldrun.plan.fingerprint import FileHashes
from foldrun.spec.inputs import ConfigSpec
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
    # lazy: foldrun.split loads pandas and pyarrow; planning a model without features
    # (and `import foldrun.plan`) need not
    from foldrun.split.assign import composite_name, group_columns

    targets = data.get("target")
    targets = targets if isinstance(targets, list) else [targets]
    group = data.get("group")
    keys = [data.get("id") or "id", *targets, *group_columns(group), composite_name(group)]
    return list(dict.fromkeys(str(c) for c in [*keys, *model.features] if c))


def program_inputs(
    model: ModelSpec, data: dict[str, Any], stage: str, spec_dir: Path, hashes: FileHashes
) -> dict[str, Any] | None:
    """What the run adapters need to shape the manifests and write the config file (None:
    the manifests as they are, no config)."""
    found: dict[str, Any] = {}
    columns = kept_columns(model, data)
    if columns is not None:
        found["columns"] = columns
    if model.manifests is not None and model.manifests.rename:
        found["rename"] = dict(model.manifests.rename)
    config = model.config_for(stage)
    if config is not None:
        found["config"] = config_recipe(config, spec_dir, hashes)
    return found or None


def config_recipe(config: ConfigSpec, spec_dir: Path, hashes: FileHashes) -> dict[str, Any]:
    """The config's settings and its template's sha256: both in the fingerprint, so an
    edited template makes the tasks that use it stale (the path stays relative)."""
    path = spec_dir / config.template
    try:
        digest = hashes(path)
    except OSError:
        raise PlanError(
            f"config template {config.template!r} not found (relative to the spec's folder); "
            "fix template", key="config.template",
        ) from None
    recipe = config.model_dump(exclude_none=True)
    return {**recipe, "format": config.config_format(), "sha256": digest}


def reads_split(model: ModelSpec) -> bool:
    """Whether a template of the model names `{fold_table}` or `{assignments}`."""
    templates = [model.template(stage) for stage in model.stage_names()]
    return any(SPLIT_PLACEHOLDERS & placeholders(t) for t in templates if t)
