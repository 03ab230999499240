"""The terminal summary of `run`, `demo` and `report`: per model, the selected variant's
mean ± std over the test folds, its interval, "optimistic" where the variant was chosen on
the folds that score it, and the nested estimate where there is one.

The numbers are those of the report's cv_summary.json `models` (results/compare.py through
`Results.comparison`, results/nested.py through `selection.attach_nested`), never a second
computation: a newcomer must not read a bare mean as the result.

A run that ran nothing (a resume of a finished run) prints the summary it kept the last
time (`.foldrun/summary.json`) when nothing it was made from changed: the state walk's
digest of every planned task folder (run/runner.py `walk`: key, fingerprint, state, the
stamp of the files a refresh reads), the stamp of every result table file, the audit log,
the race record, the spec as written and foldrun's code. The refresh decides on the same
stamps, so a kept summary is the one a refresh and a second computation would print; at
100,000 tasks it spares the second walk of the task folders and the read of every table.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foldrun.core.files import write_json
from foldrun.core.state import pruned_keys
from foldrun.layout import RunLayout
from foldrun.plan.cache import stat_stamp
from foldrun.results.source import RunSource, resolve, views

if TYPE_CHECKING:
    from foldrun.results import Results

SHOWN = 10  # models listed; the report lists them all
KEPT = "summary.json"  # in the run's .foldrun/: the last no-op run's summary and its key
VERSION = 1
_SOURCES = Path(__file__).resolve().parents[1]  # foldrun's package: its code is in the key
_LIBRARIES = ("numpy", "pandas", "scipy", "pyarrow")  # what computes the numbers


def run_lines(spec: str | Path | RunSource, walked: str | None = None) -> list[str]:
    """The summary of a finished run (each dataset's in turn), from its results tables;
    with `walked` (runner.walk's digest, a run that ran nothing) the one kept with the
    same key, else computed and kept."""
    source = resolve(spec)
    if walked is None:
        return _computed(source)
    path = RunLayout(source.run_dir).state_dir / KEPT
    kept = _kept(path, _guarded(_key, source, walked))
    if kept is not None:
        return kept
    lines = _computed(source)
    key = _guarded(_key, source, walked)  # the tables as the refresh left them
    if key is not None and path.parent.is_dir():
        with contextlib.suppress(OSError):  # a read-only run folder: computed next time too
            write_json(path, {"version": VERSION, "key": key, "lines": lines})
    return lines


def _kept(path: Path, key: str | None) -> list[str] | None:
    """The kept lines when their key is `key` (None: absent, damaged or another key)."""
    if key is None:
        return None
    try:
        body = json.loads(path.read_text())
        if body["version"] != VERSION or body["key"] != key:
            return None
        lines = body["lines"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    ok = isinstance(lines, list) and all(isinstance(x, str) for x in lines)
    return lines if ok else None


def _key(source: RunSource, walked: str) -> str:
    """What the summary is made from (see the module's docstring), as one SHA-256."""
    h = hashlib.sha256(f"{VERSION}\0{walked}\0{source.run_dir}\0{sys.version}".encode())
    h.update(json.dumps(source.raw, sort_keys=True, default=str).encode())
    h.update(_code())
    run = RunLayout(source.run_dir)
    h.update(json.dumps(stat_stamp(str(run.audit_log))).encode())
    for view in views(source):
        layout = view.layout
        tables = sorted(os.scandir(layout.results_dir), key=lambda e: e.name)
        stamps = {e.name: stat_stamp(e.path) for e in tables if e.is_file()}
        h.update(json.dumps([view.dataset, stamps, pruned_keys(layout.state_dir)]).encode())
    return h.hexdigest()


def _code() -> bytes:
    """foldrun's sources (their stamps) and the versions of what computes the numbers."""
    stamps = [(str(p), stat_stamp(str(p))) for p in sorted(_SOURCES.rglob("*.py"))]
    versions = []
    for name in _LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{name}={metadata.version(name)}")
    return json.dumps([stamps, versions]).encode()


def _guarded(step: Any, *args: Any) -> Any:
    """`step(*args)`, or None when it fails: a summary that cannot be keyed is computed."""
    try:
        return step(*args)
    except Exception:  # any failure of the key means: compute it, keep nothing
        return None


def _computed(source: RunSource) -> list[str]:
    """The summary computed from the result tables (refreshed first)."""
    # lazy: pandas and the tables, only when no kept summary holds
    from foldrun.results.load import load_results

    parts = views(source)
    if parts[0].dataset is None:
        return summary_lines(summary_of(load_results(parts[0])))
    lines = []
    for view in parts:
        lines += [f"dataset {view.dataset}:", *summary_lines(summary_of(load_results(view)))]
    return lines


def summary_of(results: Results) -> dict[str, Any]:
    """What `summary_lines` reads, as cv_summary.json holds it: the same ranking (selected
    variants, t-intervals, optimistic flag) and the same nested estimates."""
    # lazy: scipy for the numbers; `foldrun report` of a report kept as it was prints
    # cv_summary.json's (summary_lines) without it
    from foldrun.report import analysis, selection
    from foldrun.results import nested

    summary = results.summary("test")
    if summary.empty or results.primary not in set(summary["metric"]):
        models: list[dict[str, object]] = []
    else:
        models = analysis.records(results.comparison()[1])
        selection.attach_nested(models, nested.for_results(results))
    return {"primary_metric": results.primary, "confidence": results.confidence,
            "models": models, "unscored": results.unscored()}  # fmt: skip


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """A heading, then one line per model (the first ten), from a cv_summary dict."""
    models = summary.get("models") or []
    if not models:
        return _unranked(summary)
    level = _percent(summary.get("confidence"))
    lines = [f"{summary.get('primary_metric')} on the test folds: mean ± std "
             f"[{level} interval], best first"]  # fmt: skip
    lines += [model_line(row) for row in models[:SHOWN]]
    if len(models) > SHOWN:
        lines.append(f"  ... {len(models) - SHOWN} more in the report")
    metric = summary.get("primary_metric")
    return lines + [f"  {_label(u)}: not ranked: {metric} is undefined (NaN) on every done "
                    f"test fold: {u.get('why')}" for u in summary.get("unscored") or []]


def _unranked(summary: dict[str, Any]) -> list[str]:
    """No model ranked: no test score yet, or (every task may be done) the primary metric
    is NaN on every fold of every variant (e.g. roc_auc with one class in each test part)."""
    metric, unscored = summary.get("primary_metric"), summary.get("unscored") or []
    if not unscored:
        return [f"no test scores of {metric} yet"]
    head = f"no model ranked: {metric} is undefined (NaN) on every done test fold of"
    return [head, *(f"  {_label(u)}: {u.get('why')}" for u in unscored)]


def _label(unscored: dict[str, Any]) -> str:
    return f"{unscored.get('model')}/{unscored.get('variant')}"


def model_line(row: dict[str, Any]) -> str:
    """`  1. trees/md4-ne50: 0.9912 ± 0.0061 [0.9836, 0.9988] over 5 folds (optimistic)`."""
    text = f"  {row.get('rank')}. {row.get('model')}/{row.get('variant')}: "
    text += f"{_number(row.get('mean'))} ± {_number(row.get('std'))}"
    text += f" {_interval(row.get('ci_low'), row.get('ci_high'))} over {row.get('n')} folds"
    if row.get("undefined"):  # done folds whose score is NaN: said, with why when known
        why = "; ".join(row.get("undefined_folds") or [])
        text += f" (undefined on {row['undefined']} more done fold(s){': ' + why if why else ''})"
    if row.get("optimistic"):
        text += " (optimistic: chosen on these folds)"
    found = row.get("nested")
    if isinstance(found, dict) and isinstance(found.get("mean"), float):
        text += (f"; nested {_number(found['mean'])} "
                 f"{_interval(found.get('ci_low'), found.get('ci_high'))} "
                 f"({found.get('n')}/{found.get('outer_folds')} folds)")  # fmt: skip
    return text


def _number(value: object) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        return "n/a"
    return f"{value:.4f}"


def _interval(low: object, high: object) -> str:
    """`[0.9836, 0.9988]`; `[n/a]` with too few folds for one."""
    if _number(low) == "n/a" or _number(high) == "n/a":
        return "[n/a]"
    return f"[{_number(low)}, {_number(high)}]"


def _percent(confidence: object) -> str:
    return f"{confidence * 100:g}%" if isinstance(confidence, float) else "95%"
