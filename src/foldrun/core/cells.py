"""Cells written to a CSV file that a spreadsheet may open.

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read by
spreadsheets as a formula (CSV injection). Such cells get a leading single quote, the
usual neutralisation (OWASP); numbers are left as they are.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` with a leading `'` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells and column names are safe to open as CSV."""
    out = frame.rename(columns=lambda c: safe_cell(str(c)))
    for column in out.columns:
        values = out[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            out[column] = values.map(safe_cell, na_action="ignore")
    return out
