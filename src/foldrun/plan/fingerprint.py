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
    canonical = _canonical({"task": payload, "upstream": upstream, "foldrun": __version__})
    return hashlib.sha256(canonical.encode()).hexdigest()


def _json_default(value: Any) -> Any:
    # TOML gives dates and times; anything else reaching here is named by its repr
    return f"{type(value).__name__}:{value!s}"


# json.dumps(sort_keys=True, separators=(",", ":"), default=_json_default), one encoder
_canonical = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), default=_json_default
).encode
_HOLES = ("\0foldrun:inputs\0", "\0foldrun:upstream\0")  # never a value of a spec's


class Fingerprints:
    """`fingerprint` of one payload for many `inputs` and upstream fingerprints (the tasks
    of a variant's stage differ in nothing else): the rest of the canonical JSON is made
    once, and each task's is spliced from it. JSON text composes (a value's text never
    depends on where it sits), so the digest is `fingerprint`'s to the byte
    (tests/plan/test_fingerprints_pinned.py); a payload holding a hole's text is
    fingerprinted whole."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self._payload = payload
        whole = _canonical({"task": {**payload, "inputs": _HOLES[0]}, "upstream": _HOLES[1],
                            "foldrun": __version__})  # fmt: skip
        holes = [_canonical(h) for h in _HOLES]
        self._parts: list[str] | None = None
        if all(whole.count(h) == 1 for h in holes) and whole.index(holes[0]) < whole.index(
            holes[1]
        ):
            head, rest = whole.split(holes[0])
            self._parts = [head, *rest.split(holes[1])]

    def __call__(self, inputs: Canonical, upstream: list[str]) -> str:
        if self._parts is None:
            return fingerprint({**self._payload, "inputs": inputs.value}, upstream)
        head, middle, tail = self._parts
        text = head + inputs.text + middle + _canonical(upstream) + tail
        return hashlib.sha256(text.encode()).hexdigest()


class Canonical:
    """A value with its canonical JSON text, made once (the inputs many tasks share)."""

    __slots__ = ("text", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.text = _canonical(value)
