"""The report: aggregates a run's results into report/ (CSV, JSON, PNG plots, index.html)."""

from __future__ import annotations

from foldrun.report.build import Report, build_report

__all__ = ["Report", "build_report"]
