"""THE rule for a spec's `module:Name` reference (an estimator, preprocess step, entry
function or scorer): the spec's folder goes first on `sys.path` (a module lying beside
foldrun.toml imports), then `module` is imported and `Name` (or `a.b`) is looked up in it.

`foldrun check` (plan/imports.py), the `[report] scorers` (spec/report.py) and the worker
(run/adapters/common.py) all resolve through `resolve`, each saying what is wrong in its
own words; the errors below tell them which part failed.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from pathlib import Path
from typing import Any


class BadRef(ValueError):
    """The reference is not `module:Name` (either side empty)."""


class MissingName(AttributeError):
    """The module imported but `part` of the name is not there; `owner` is the object
    that lacks it (the module, or the class of `a` in `a.b`). The message is Python's."""

    def __init__(self, message: str, module: str, attr: str, part: str, owner: Any) -> None:
        super().__init__(message)
        self.module, self.attr, self.part, self.owner = module, attr, part, owner


class ModuleExited(ImportError):
    """The module ended the process as it was imported (sys.exit, or a script's argparse
    finding its arguments missing): an import that failed, not foldrun's own exit."""


class NameFailed(Exception):
    """Getting a part of the name raised something else than AttributeError (a module
    `__getattr__` or a descriptor failing); the error is `__cause__`."""


def split_ref(ref: str) -> tuple[str, str]:
    """`module:a.b` -> ("module", "a.b"); BadRef when either side is empty."""
    module, _, attr = ref.partition(":")
    if not module or not attr:
        raise BadRef(ref)
    return module, attr


def resolve(ref: str, folder: Path | None = None, *, keep: bool = False) -> Any:
    """The object `module:a.b` names. `folder` (the spec's) goes first on `sys.path` when
    the module lies there, unless it is on it already; it is taken off again after the
    import unless `keep` (a worker keeps it: unpickling a model of a module beside the
    spec needs it later too).

    Raises BadRef, whatever importing the module raises (ImportError, or any error of the
    module's own code; ModuleExited for its sys.exit), MissingName or NameFailed.
    """
    module_name, attr = split_ref(ref)
    entry = str(folder) if folder is not None and _lies_in(module_name, folder) else None
    added = entry is not None and entry not in sys.path
    if added:
        sys.path.insert(0, str(entry))
    try:
        obj: Any = importlib.import_module(module_name)
    except SystemExit as err:
        raise ModuleExited(
            f"importing {module_name!r} called sys.exit({err.code!r}) (a script that reads its "
            "command line as it is imported? put that under `if __name__ == '__main__':`)"
        ) from None
    finally:
        if added and not keep and entry in sys.path:
            sys.path.remove(str(entry))
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as err:
            raise MissingName(str(err), module_name, attr, part, obj) from None
        except Exception as err:
            raise NameFailed(
                f"cannot get {attr!r} from {module_name!r}: {type(err).__name__}: {err}"
            ) from err
    return obj


def _lies_in(module_name: str, folder: Path) -> bool:
    """Whether the module's top package is in `folder`: only then does the folder go on
    the path (first, and kept by a worker, it would serve every module imported later:
    a random.py there replaced the standard library's for sklearn)."""
    top = module_name.partition(".")[0]
    try:
        return importlib.machinery.PathFinder.find_spec(top, [str(folder)]) is not None
    except (ImportError, ValueError, OSError):
        return False
