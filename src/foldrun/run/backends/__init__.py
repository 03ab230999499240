"""Execution engines. Each is one module implementing `Backend` (base.py)."""

from __future__ import annotations

import importlib

from foldrun.errors import RunError
from foldrun.run.backends.base import Backend

BACKENDS = {
    "local": "foldrun.run.backends.local:LocalBackend",
    "slurm": "foldrun.run.backends.slurm:SlurmBackend",
}


def backend_class(name: str) -> type[Backend]:
    """The backend registered under `name`."""
    if name not in BACKENDS:
        raise RunError(
            f"unknown backend {name!r}; use one of: {', '.join(BACKENDS)}", key="--backend"
        )
    module_name, class_name = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def get_backend(name: str, **options: object) -> Backend:
    """The backend registered under `name`, built with its options."""
    return backend_class(name)(**options)
