"""The live display of a local run: done/running/failed/cancelled/pending counts, ETA,
running tasks.

Off when stdout is not a terminal (logs and CI stay clean); the runner's final summary
is printed either way.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

MAX_SHOWN = 8


class LiveProgress:
    """A listener for the local backend: called with (event, key) on each task event."""

    def __init__(self, keys: Sequence[str], console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.total = len(keys)
        self.running: dict[str, float] = {}
        self.done = self.failed = self.cancelled = 0  # cancelled: a variant the race stopped
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
        )
        self.bar = self.progress.add_task("tasks", total=self.total)
        self.live = Live(
            self._render(),
            console=self.console,
            refresh_per_second=4,
            transient=True,
            get_renderable=self._render,
        )

    def _counts(self) -> str:
        ended = self.done + self.failed + self.cancelled
        pending = self.total - ended - len(self.running)
        cancelled = f"  cancelled {self.cancelled}" if self.cancelled else ""
        return (
            f"done {self.done}  running {len(self.running)}  "
            f"failed {self.failed}{cancelled}  pending {pending}"
        )

    def _render(self) -> RenderableType:
        now = time.monotonic()
        lines = [Text(self._counts())]
        for key, since in list(self.running.items())[:MAX_SHOWN]:
            lines.append(Text(f"  {key}  {now - since:5.0f}s", style="dim"))
        if len(self.running) > MAX_SHOWN:
            lines.append(Text(f"  ... and {len(self.running) - MAX_SHOWN} more", style="dim"))
        return Group(self.progress, *lines)

    def __call__(self, event: str, key: str) -> None:
        if event == "started":
            self.running[key] = time.monotonic()
            return
        self.running.pop(key, None)
        if event == "done":
            self.done += 1
        elif event == "failed":
            self.failed += 1
        elif event == "cancelled":
            self.cancelled += 1
        if event in ("done", "failed", "cancelled"):
            self.progress.update(self.bar, completed=self.done + self.failed + self.cancelled)

    def start(self) -> None:
        self.live.start()

    def stop(self) -> None:
        self.live.stop()


def live_progress_factory(enabled: bool | None = None):  # returns a listener factory or None
    """A factory for the runner when stderr is a terminal (or `enabled` forces it)."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    return lambda tasks, keys: LiveProgress(keys)
