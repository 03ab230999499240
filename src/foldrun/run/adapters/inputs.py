"""A program's inputs in its own shape, written into the task folder before it runs.

- manifests with the model's own `features` (id, target, group and those columns kept) and
  `[models.X.manifests] rename` applied: `{train}` `{val}` `{test}` `{holdout}` name the
  copies in `<task>/inputs/`;
- `{fold_table}`: one CSV of every fold of the task's repeat, the manifests' columns plus
  `fold` and `subset` (train/val/test), as a program that loops over folds itself reads;
- `{assignments}`: a flat JSON map {group (else id): test fold} of the task's repeat.

The plan records what a model asks for (plan/inputs.py); a model that asks for nothing gets
the split's manifests as they are.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foldrun.core import configs
from foldrun.core.task import PlannedTask
from foldrun.core.templates import fill
from foldrun.errors import SpecError
from foldrun.layout import SplitLayout

if TYPE_CHECKING:
    import pandas as pd

MANIFEST_NAMES = ("train", "val", "test", "holdout")


def paths(task: PlannedTask, tmp: Path, values: Mapping[str, Any]) -> dict[str, str]:
    """{placeholder: path} of the inputs this task gets in its program's shape ("" for
    those it does not); `values`: the template's other placeholders."""
    inputs = task.recipe.inputs
    found = {"fold_table": "", "assignments": "", "config": ""}
    config = (task.recipe.program_inputs or {}).get("config")
    if config is not None:
        found["config"] = str(config_path(config, tmp, values))
    if reshaped(task):
        for name in MANIFEST_NAMES:
            source = inputs.get(name)
            if source:
                found[name] = str(_copy_path(tmp, name, source))
        found["test"] = found.get("test") or found.get("holdout") or ""
    if inputs.get("split"):
        found["fold_table"] = str(tmp / "fold_table.csv")
        found["assignments"] = str(tmp / "assignments.json")
    return found


def write(task: PlannedTask, tmp: Path, values: Mapping[str, Any]) -> list[str]:
    """Write the files `paths` names (before the program runs); lines for the audit log."""
    # lazy: pandas (adapters/common), only for a reshaped manifest
    from foldrun.run.adapters.common import read_manifest

    if not task.recipe.command:
        return []  # foldrun's own evaluate: no program to feed
    config = (task.recipe.program_inputs or {}).get("config")
    written = [write_config(task, config, values, tmp)] if config is not None else []

    inputs = task.recipe.inputs
    if reshaped(task):
        for name in MANIFEST_NAMES:
            source = inputs.get(name)
            if source:
                frame = shaped(read_manifest(Path(source), task), task)
                _write_frame(frame, _copy_path(tmp, name, source))
    root = inputs.get("split")
    if root:
        _write_frame(fold_table(task, Path(root)), tmp / "fold_table.csv")
        (tmp / "assignments.json").write_text(json.dumps(assignments(task, Path(root)), indent=1))
    return written


def config_path(config: Mapping[str, Any], tmp: Path, values: Mapping[str, Any]) -> Path:
    """Where the task's config goes: `file` (placeholders filled, relative to the task
    folder), else the task folder + the template's name."""
    file = config.get("file")
    if not file:
        return tmp / Path(str(config["template"])).name
    return tmp / str(fill(str(file), values))


def write_config(
    task: PlannedTask, config: Mapping[str, Any], values: Mapping[str, Any], tmp: Path
) -> str:
    """The template with the task's settings, written where `{config}` says (in the task
    folder); the audit line saying what was written."""
    base = Path(task.recipe.spec_path or ".").parent
    text = (base / str(config["template"])).read_text()
    fmt = str(config["format"])
    settings = config.get("set")
    if settings is None:  # every param named like a key of the template
        keys = configs.top_keys(text, fmt)
        settings = {k: task.recipe.params[k] for k in keys if k in task.recipe.params}
    filled = {k: fill(v, values) if isinstance(v, str) else v for k, v in settings.items()}
    rendered = configs.render(text, fmt, filled)
    target = Path(str(values["config"]))
    if not target.resolve().is_relative_to(tmp.resolve()):  # a value holding `..` or `/`
        raise SpecError(f"the config file {target} is outside the task folder; foldrun "
                        "writes it only there (fix file)", key="config.file")  # fmt: skip
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(rendered)
    digest = hashlib.sha256(rendered.encode()).hexdigest()[:12]
    shown = json.dumps(filled, sort_keys=True, default=str)
    return f"config {target} sha256 {digest} | set {shown}"


def shaped(frame: pd.DataFrame, task: PlannedTask, rename: bool = True) -> pd.DataFrame:
    """The columns the model reads (its own features: id, target, group and those), in the
    program's names."""
    shape: dict[str, Any] = task.recipe.program_inputs or {}
    columns = shape.get("columns")
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    if rename and shape.get("rename"):
        frame = frame.rename(columns=shape["rename"])
    return frame


def fold_table(task: PlannedTask, root: Path) -> pd.DataFrame:
    """Every row of every fold of the task's repeat, with `fold` and `subset` columns."""
    # lazy: pydantic (plan/split), only for {fold_table} or {assignments}
    import pandas as pd

    from foldrun.plan.split import scan_split
    from foldrun.run.adapters.common import read_manifest

    repeat = max(task.repeat, 0)
    parts = []
    for fold in scan_split(root).folds:
        if fold.repeat != repeat:
            continue
        for subset in ("train", "val", "test"):
            path = fold.manifests.get(subset)
            if path is not None:
                rows = shaped(read_manifest(path, task), task)
                parts.append(rows.assign(fold=fold.fold, subset=subset))
    return pd.concat(parts, ignore_index=True)


def assignments(task: PlannedTask, root: Path) -> dict[str, int]:
    """{group (else id) as text: test fold} of the task's repeat (from assignments.json)."""
    nested = json.loads(SplitLayout(root).assignments_json.read_text())
    return dict(nested["repeats"][max(task.repeat, 0)])


def reshaped(task: PlannedTask) -> bool:
    shape = task.recipe.program_inputs or {}
    return bool(shape.get("columns") is not None or shape.get("rename"))


def _copy_path(tmp: Path, name: str, source: str) -> Path:
    suffix = ".parquet" if source.endswith(".parquet") else ".csv"
    return tmp / "inputs" / f"{name}{suffix}"


def _write_frame(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
