"""Results of a run: metrics (evaluate stage), result tables, statistics, comparisons.

`load_results(run_dir_or_spec)` refreshes results/*.parquet and returns a `Results`.
"""

from __future__ import annotations

from foldrun.results.load import Results, load_results

__all__ = ["Results", "load_results"]
