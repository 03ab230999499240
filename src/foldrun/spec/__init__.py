"""The spec file (`foldrun.toml`): typed objects and loading (`check` is in plan/check.py).

Imported lazily so that importing one module of the package stays light: a task server
that reads a model's declared predictions table (`foldrun.spec.outputs`) loads no spec
model (~0.4 s of CPU a run; issue 26).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from foldrun.spec.load import load_spec, parse_spec
    from foldrun.spec.model import DataSpec, ModelSpec, Spec, SplitSpec, StageSpec
    from foldrun.spec.problems import Problem
    from foldrun.spec.resources import ResourcesSpec, merge_resources, parse_mem, parse_time

_API = {
    "DataSpec": "foldrun.spec.model",
    "ModelSpec": "foldrun.spec.model",
    "Problem": "foldrun.spec.problems",
    "ResourcesSpec": "foldrun.spec.resources",
    "Spec": "foldrun.spec.model",
    "SplitSpec": "foldrun.spec.model",
    "StageSpec": "foldrun.spec.model",
    "load_spec": "foldrun.spec.load",
    "merge_resources": "foldrun.spec.resources",
    "parse_mem": "foldrun.spec.resources",
    "parse_spec": "foldrun.spec.load",
    "parse_time": "foldrun.spec.resources",
}

__all__ = [
    "DataSpec",
    "ModelSpec",
    "Problem",
    "ResourcesSpec",
    "Spec",
    "SplitSpec",
    "StageSpec",
    "load_spec",
    "merge_resources",
    "parse_mem",
    "parse_spec",
    "parse_time",
]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'foldrun.spec' has no attribute {name!r}")
