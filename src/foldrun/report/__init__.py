"""The report: aggregates a run's results into report/ (CSV, JSON, PNG plots, index.html)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from foldrun.report.build import Report, build_report

__all__ = ["Report", "build_report"]


def __getattr__(name: str) -> Any:
    """`Report` and `build_report`, imported at first use: the summary `foldrun run` prints
    (report/terminal.py) imports this package, and build's figures load matplotlib (~0.6 s
    of CPU a run; issue 26)."""
    if name in __all__:
        from foldrun.report import build  # lazy: matplotlib, scipy (see above)

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
