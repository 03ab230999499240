"""SIGINT and SIGTERM sent to the runner: stop the run cleanly, not half-way. (The report
uses the same, with SIGHUP: its workers end and its temporary folder goes.)

While tasks execute, both signals raise `Interrupted` in the runner's main thread; the
backend stops the running tasks (their process groups), leaves their state true, the lock
is released on the way out, and the CLI prints one line and exits 128 + the signal number
(130 for SIGINT, 143 for SIGTERM).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM)
# a report stops on SIGTERM and SIGHUP (its terminal closed; `nohup`, which ignores SIGHUP,
# is obeyed); Ctrl-C stays Python's KeyboardInterrupt there ('foldrun: aborted')
REPORT = (signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else []))


class Interrupted(BaseException):
    """The runner got SIGINT or SIGTERM. A BaseException, so `except Exception` in the
    code it passes through never swallows it."""

    def __init__(self, signum: int, what: str | None = None) -> None:
        super().__init__(signum)
        self.signum = signum
        self.what = what  # what the command left (None: a run's stopped tasks)
        self.stopped = 0  # running tasks stopped, set by the backend

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def one_line(self) -> str:
        name = signal.Signals(self.signum).name
        if self.what is not None:
            return f"interrupted by {name}: {self.what}"
        return (
            f"interrupted by {name}: stopped {self.stopped} running task(s), which stay "
            "pending; run 'foldrun run' again to finish"
        )


@contextmanager
def stopping_on_signals(
    signals: tuple[int, ...] = HANDLED, what: str | None = None
) -> Iterator[None]:
    """Turn `signals` (SIGINT/SIGTERM) into `Interrupted` for the time of the block (main
    thread only: a run driven from another thread keeps the default behaviour). A SIGHUP
    that is ignored (`nohup`) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        for sig in signals:  # the stop runs once: a second Ctrl-C does not cut it short
            signal.signal(sig, signal.SIG_IGN)
        raise Interrupted(signum, what)

    ours = [s for s in signals if s in HANDLED or signal.getsignal(s) is not signal.SIG_IGN]
    previous = {sig: signal.signal(sig, stop) for sig in ours}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
