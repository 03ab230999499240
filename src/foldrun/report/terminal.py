"""The terminal summary of `run`, `demo` and `report`: per model, the selected variant's
mean ± std over the test folds, its interval, "optimistic" where the variant was chosen on
the folds that score it, and the nested estimate where there is one.

The numbers are those of the report's cv_summary.json `models` (results/compare.py through
`Results.comparison`, results/nested.py through `selection.attach_nested`), never a second
computation: a newcomer must not read a bare mean as the result.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foldrun.results.load import load_results
from foldrun.results.source import resolve, views

if TYPE_CHECKING:
    from foldrun.results import Results

SHOWN = 10  # models listed; the report lists them all


def run_lines(spec: str | Path) -> list[str]:
    """The summary of a finished run (each dataset's in turn), from its results tables."""
    parts = views(resolve(spec))
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
            "models": models}  # fmt: skip


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """A heading, then one line per model (the first ten), from a cv_summary dict."""
    models = summary.get("models") or []
    if not models:
        return [f"no test scores of {summary.get('primary_metric')} yet"]
    level = _percent(summary.get("confidence"))
    lines = [f"{summary.get('primary_metric')} on the test folds: mean ± std "
             f"[{level} interval], best first"]  # fmt: skip
    lines += [model_line(row) for row in models[:SHOWN]]
    if len(models) > SHOWN:
        lines.append(f"  ... {len(models) - SHOWN} more in the report")
    return lines


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
