"""CSV cells a spreadsheet would run as formulas get a leading quote; numbers never do."""

from __future__ import annotations

import numpy as np
import pandas as pd

from foldrun.core.cells import safe_cell, spreadsheet_safe


def test_text_starting_like_a_formula_is_quoted() -> None:
    for text in ("=1+2", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(text) == "'" + text
    for value in ("toy", "k0", "", "a=b", -1.5, 3, None):
        assert safe_cell(value) == value


def test_frame_names_and_text_cells_are_quoted_numbers_kept() -> None:
    frame = pd.DataFrame(
        {
            "=evil": [-0.5, 1.0],
            "model": ["=HYPERLINK(1)", "toy"],
            "variant": pd.array(["@x", None], dtype="string"),
        }
    )
    out = spreadsheet_safe(frame)
    assert list(out.columns) == ["'=evil", "model", "variant"]
    assert list(out["'=evil"]) == [-0.5, 1.0]
    assert list(out["model"]) == ["'=HYPERLINK(1)", "toy"]
    assert out["variant"][0] == "'@x" and pd.isna(out["variant"][1])
    assert list(frame.columns) == ["=evil", "model", "variant"]  # the input is untouched
    assert np.isnan(spreadsheet_safe(pd.DataFrame({"v": [np.nan]}))["v"][0])
