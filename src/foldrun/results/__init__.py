"""Results of a run: metrics (evaluate stage), result tables, statistics, comparisons.

`load_results(run_dir_or_spec)` refreshes results/*.parquet and returns a `Results`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Results", "load_results"]


def __getattr__(name: str) -> Any:
    """Results and load_results, imported when asked for: load.py imports scipy's
    statistics (~1 s), which `foldrun query` and `status` never use."""
    if name in __all__:
        # lazy: scipy (~1 s), which query and status never use
        from foldrun.results import load

        return getattr(load, name)
    raise AttributeError(f"module 'foldrun.results' has no attribute {name!r}")
