"""Planning: variants (grids), the task graph, fingerprints, the user's code, `check`.

Imported lazily so that importing one module of the package stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_API = {
    "Plan": "foldrun.plan.graph",
    "build_plan": "foldrun.plan.graph",
    "ensure_split": "foldrun.plan.split",
    "scan_split": "foldrun.plan.split",
    "fingerprint": "foldrun.plan.fingerprint",
    "expand": "foldrun.plan.variants",
    "Variant": "foldrun.plan.variants",
}

__all__ = list(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'foldrun.plan' has no attribute {name!r}")
