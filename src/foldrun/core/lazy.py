"""A module imported at its first use (`np = module("numpy")`): numpy, pandas and pyarrow
take ~0.3 s of CPU to import, and the modules of the result tables (results/collect.py,
refresh.py, ...) are imported by `foldrun query` and `status`, which use them only to
rebuild tables that changed (an unchanged run's query reads none: issue 26 item 2).

Written here because the standard library's `importlib.util.LazyLoader` puts a half-made
module in `sys.modules` under the real name (every later `import pandas` gets it, and
pandas' own submodules import it mid-way); this one imports the module the ordinary way
when an attribute is first read, and touches nothing else.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for the module `name` in a module's globals; the first attribute read imports
    it (`pd.DataFrame`, `pa.ArrowException` in an `except`), every later one is a lookup."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def module(name: str) -> Any:
    """The module `name`, imported when an attribute of it is first read."""
    return LazyModule(name)
