"""Task fingerprints: sha256 of what a task's result depends on, known before it runs.

Hashed: the kind and stage, the command template (not its rendering, so the run folder may
move) or estimator/entry/preprocess, the params (model params + variant), the sha256 of
each input manifest's content, the data settings, the seed, foldrun's version, and the
fingerprints of the upstream tasks (so a changed train makes its predict stale).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from foldrun._version import __version__
from foldrun.core.files import file_sha256


class FileHashes:
    """sha256 of files, each read once per plan."""

    def __init__(self) -> None:
        self._cache: dict[Path, str] = {}

    def remember(self, path: Path, digest: str) -> None:
        """The hash of a file's content known before it is written (or without writing it)."""
        self._cache[path] = digest

    def __call__(self, path: Path | None) -> str | None:
        if path is None:
            return None
        if path not in self._cache:
            self._cache[path] = file_sha256(path)
        return self._cache[path]




def fingerprint(payload: dict[str, Any], upstream: list[str]) -> str:
    """sha256 of the canonical JSON of `payload`, the upstream fingerprints and the version."""
    canonical = json.dumps(
        {"task": payload, "upstream": upstream, "foldrun": __version__},
        sort_keys=True,
        separators=(",", ":"),
        default=_json_default,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _json_default(value: Any) -> Any:
    # TOML gives dates and times; anything else reaching here is named by its repr
    return f"{type(value).__name__}:{value!s}"
