"""Training curves of a task folder: THE reader of epoch logs, for the report and the
MLflow export.

Sources: the task's `metrics.jsonl` (foldrun.log's points, or the program's own lines), and
the file a model declares with `curves = { file = ..., format = ... }` (the worker records
where it is in the task folder's `curves.json`). Three forms, JSONL or CSV:
- foldrun's own: `{"name": "val_loss", "value": 0.5, "step": 3, "time": ...}`;
- long: `step` or `epoch`, `phase`, `metric`, `value` per line (seed 003's epoch logs) ->
  the curve `<phase>/<metric>` (`train/loss` and `val/loss` overlaid in one panel);
- wide: a step (or epoch) column and a column per metric.
A line that is none of them (cut by a kill, text where a number should be) is counted as
unreadable and never drawn; the callers say how many were left out.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foldrun.layout import TaskFiles

LOG_FILE = TaskFiles.POINTS  # foldrun.log's points (and a program's own lines)
POINTER = "curves.json"  # where the model's declared curves file is, written by the worker
FORMATS = ("long", "wide")
STEP_KEYS = ("step", "epoch")
NOT_METRICS = frozenset({"step", "epoch", "time", "timestamp", "phase", "run_id", "fold"})


@dataclass
class Curves:
    """The points of one task: (name, step, value, time or None), and the unreadable lines."""

    points: list[tuple[str, float, float, float | None]] = field(default_factory=list)
    unreadable: int = 0

    def add(self, other: Curves) -> None:
        self.points += other.points
        self.unreadable += other.unreadable


def has_curves(folder: str | Path) -> bool:
    """Whether the task folder holds a curve file (read nothing)."""
    folder = Path(folder)
    return (folder / LOG_FILE).is_file() or (folder / POINTER).is_file()


def declared(folder: Path) -> tuple[Path, str | None] | None:
    """(the declared curves file, its format) from the task's curves.json, else None."""
    try:
        found = json.loads((folder / POINTER).read_text())
        path = folder / str(found["file"])  # relative to the task folder, or absolute
    except (OSError, ValueError, KeyError, TypeError):
        return None
    fmt = found.get("format")
    return path, fmt if fmt in FORMATS else None


def task_curves(folder: str | Path) -> Curves:
    """Every curve point of a task folder: its metrics.jsonl, and the declared file when it
    is another one."""
    folder = Path(folder)
    found, pointer = Curves(), declared(folder)
    log = folder / LOG_FILE
    if pointer is None or pointer[0].resolve() != log.resolve():
        found.add(read_file(log))
    if pointer is not None:
        found.add(read_file(*pointer))
    return found


def read_file(path: Path, fmt: str | None = None) -> Curves:
    """The points of one curve file (JSONL, or CSV/TSV by extension); no file, no points."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return Curves()
    if path.suffix.lower() in (".csv", ".tsv"):
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        records: list[Any] = list(csv.DictReader(io.StringIO(text), delimiter=sep))
    else:
        records = [_json(line) for line in text.splitlines() if line.strip()]
    found, seen = Curves(), defaultdict(int)
    for record in records:
        points = _points(record, fmt)
        if not points:
            found.unreadable += 1
        for name, step, value, when in points:
            found.points.append((name, seen[name] if step is None else step, value, when))
            seen[name] += 1
    return found


def _json(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None  # a line cut by a kill: unreadable


Point = tuple[str, float | None, float, float | None]  # name, step (None: its count), value, time


def _points(record: Any, fmt: str | None) -> list[Point]:
    """The points of one line ([] when it cannot be read)."""
    if not isinstance(record, dict):
        return []
    when = _number(record.get("time"))
    if fmt == "long" or (fmt is None and "metric" in record and "value" in record):
        return _long(record, when)
    if fmt is None and "name" in record and "value" in record:  # foldrun.log's own
        value = _number(record.get("value"))
        name = record.get("name")
        if value is None or not isinstance(name, str) or not name:
            return []
        return [(name, _step(record), value, when)]
    step = _step(record)
    wide = [(str(k), _number(v)) for k, v in record.items() if k not in NOT_METRICS]
    return [(k, step, v, when) for k, v in wide if v is not None]


def _long(record: dict[str, Any], when: float | None) -> list[Point]:
    value, metric = _number(record.get("value")), record.get("metric")
    if value is None or not isinstance(metric, str) or not metric.strip():
        return []
    phase = record.get("phase")
    name = f"{phase}/{metric}" if isinstance(phase, str) and phase.strip() else metric
    return [(name, _step(record), value, when)]


def _step(record: dict[str, Any]) -> float | None:
    for key in STEP_KEYS:
        step = _number(record.get(key))
        if step is not None and math.isfinite(step):  # a NaN step: its count in the curve
            return step
    return None


def _number(value: Any) -> float | None:
    """A finite-or-NaN float from a JSON number or a CSV cell; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.strip():
        try:
            number = float(value)
        except ValueError:
            return None
        return number if not math.isinf(number) else None
    return None
