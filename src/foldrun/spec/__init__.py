"""The spec file (`foldrun.toml`): typed objects and loading (`check` is in plan/check.py)."""

from __future__ import annotations

from foldrun.spec.load import load_spec, parse_spec
from foldrun.spec.model import DataSpec, ModelSpec, Spec, SplitSpec, StageSpec
from foldrun.spec.problems import Problem
from foldrun.spec.resources import ResourcesSpec, merge_resources, parse_mem, parse_time

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
