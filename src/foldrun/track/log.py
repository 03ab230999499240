"""`foldrun.log` and `foldrun.log_params`: metric points and params from inside a task.

Points go to the task's `metrics.jsonl` (`$FOLDRUN_METRICS_FILE`, else
`$FOLDRUN_TASK_DIR/metrics.jsonl`), one JSON object per line:
`{"name", "value", "step", "time"}`. They are buffered in memory and written with one
O_APPEND write per flush: every `FLUSH_LINES` points, on the first call `FLUSH_S` seconds
after the last flush, at interpreter exit, and on `flush()`. A process killed with SIGKILL
loses at most the points of its last buffer. Params go to `$FOLDRUN_TASK_DIR/params_logged.json`
(merged, written atomically at once). Outside a task both are no-ops with one warning.

Only the standard library is imported: `foldrun log` from a shell script starts fast.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from foldrun.core.files import write_atomic

FLUSH_LINES = 1000
FLUSH_S = 2.0
PARAMS_FILE = "params_logged.json"

_lock = threading.Lock()
_buffer: list[str] = []
_buffer_path: str | None = None
_last_flush = time.monotonic()
_warned = False


def metrics_path() -> str | None:
    """The metrics.jsonl of the running task, or None outside a task."""
    path = os.environ.get("FOLDRUN_METRICS_FILE")
    if path:
        return path
    task_dir = os.environ.get("FOLDRUN_TASK_DIR")
    return os.path.join(task_dir, "metrics.jsonl") if task_dir else None


def _warn_outside() -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            "foldrun.log: not inside a foldrun task (FOLDRUN_TASK_DIR is not set); "
            "nothing is recorded",
            RuntimeWarning,
            stacklevel=3,
        )


def format_line(name: str, value: float, step: int | None, when: float) -> str:
    """One metrics.jsonl line (with its newline); bad arguments raise like scikit-learn."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"value must be a number, got {value!r}") from None
    if step is not None:
        if isinstance(step, bool) or int(step) != step:
            raise ValueError(f"step must be an integer or None, got {step!r}")
        step = int(step)
    return json.dumps({"name": name, "value": number, "step": step, "time": when}) + "\n"


def log(name: str, value: float, step: int | None = None) -> None:
    """Record one metric point of the running task (buffered; see the module doc)."""
    global _buffer_path
    path = metrics_path()
    if path is None:
        _warn_outside()
        return
    line = format_line(name, value, step, time.time())
    with _lock:
        if path != _buffer_path and _buffer:
            _flush_locked()  # another task in the same process: its points go to its own file
        _buffer_path = path
        _buffer.append(line)
        if len(_buffer) >= FLUSH_LINES or time.monotonic() - _last_flush > FLUSH_S:
            _flush_locked()


def append_lines(path: str, text: str) -> None:
    """One O_APPEND write: concurrent writers never interleave inside a line."""
    data = text.encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        while data:
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)


def _flush_locked() -> None:
    global _last_flush
    _last_flush = time.monotonic()
    if not _buffer or _buffer_path is None:
        return
    text = "".join(_buffer)
    _buffer.clear()
    try:
        append_lines(_buffer_path, text)
    except OSError as err:  # the task folder is gone: say so, never crash the task
        warnings.warn(f"foldrun.log: cannot write {_buffer_path}: {err}", RuntimeWarning, 2)


def flush() -> None:
    """Write the buffered points now (the worker calls it before committing a task)."""
    with _lock:
        _flush_locked()


def _forget_in_child() -> None:
    """A forked child must not write its parent's buffered points a second time."""
    global _lock
    _lock = threading.Lock()
    _buffer.clear()


atexit.register(flush)
os.register_at_fork(after_in_child=_forget_in_child)


def _plain(value: Any) -> Any:
    """A JSON-friendly value: numbers, strings, bools, None, lists and dicts; else str()."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    try:
        json.dumps(value, allow_nan=False)
        return value
    except (TypeError, ValueError):
        item = getattr(value, "item", None)  # numpy scalars
        return _plain(item()) if callable(item) else str(value)


def log_params(**params: Any) -> None:
    """Merge params into the task's params_logged.json (written atomically at once)."""
    task_dir = os.environ.get("FOLDRUN_TASK_DIR")
    if not task_dir:
        _warn_outside()
        return
    path = Path(task_dir) / PARAMS_FILE
    with _lock:
        try:
            current = json.loads(path.read_text())
        except (OSError, ValueError):
            current = {}
        if not isinstance(current, dict):
            current = {}
        current.update({str(k): _plain(v) for k, v in params.items()})
        write_atomic(path, json.dumps(current, indent=1, sort_keys=True) + "\n")
