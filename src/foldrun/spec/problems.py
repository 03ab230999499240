"""A problem found in a spec: where (file, key, column) and what to do, as one line."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from foldrun.errors import DataError, FoldrunError, SpecError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Problem:
    message: str
    file: str | None = None
    key: str | None = None
    column: str | None = None
    data: bool = False  # a problem of the data table rather than of the spec

    def line(self) -> str:
        """`<file>: <key>: <message>` (or `column '<c>'`), always one line."""
        parts = [p for p in (self.file, self.key) if p]
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        parts.append(" ".join(self.message.split()))
        return ": ".join(parts)

    def error(self) -> FoldrunError:
        cls = DataError if self.data else SpecError
        return cls(self.message, file=self.file, key=self.key, column=self.column)


def key_path(parts: Iterable[object]) -> str:
    """TOML dotted key: `models.rf.grid`, quoting parts that are not bare keys."""
    out = []
    for part in parts:
        text = str(part)
        out.append(text if _BARE_KEY.match(text) else f'"{text}"')
    return ".".join(out)


def did_you_mean(word: str, choices: Sequence[str], listing: str = "valid keys") -> str:
    """The closest choice as "; did you mean 'x'?", or the list of valid ones."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if choices:
        return f"; {listing}: {', '.join(sorted(choices))}"
    return ""
