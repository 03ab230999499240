"""The self-contained index.html: inline CSS, images as base64 data URIs, no scripts, no
network. Every string that comes from the user (model names, variants, params, paths,
metric names, ids) goes through `html.escape`."""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1150px; color: #222; padding: 0 1em; background: #fff; }
h1 { border-bottom: 2px solid #3465a4; padding-bottom: .2em; }
h2 { margin-top: 1.8em; color: #3465a4; }
table { border-collapse: collapse; margin: .6em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #eef2f8; } td.t, th.t { text-align: left; }
.warn { background: #fff4d6; border-left: 4px solid #e0a800; padding: .5em 1em; }
.bad { background: #fde8e8; border-left: 4px solid #c0392b; padding: .5em 1em; }
.note { color: #555; font-size: 13px; }
img { max-width: 100%; border: 1px solid #eee; margin: .5em 0; }
.scroll { overflow-x: auto; }
code, pre { background: #f5f5f5; padding: 1px 4px; font-size: 12px; }
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: object, digits: int = 4) -> str:
    """A cell's text: numbers rounded, NaN and None shown as an en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) >= 1e4 else f"{value:.{digits}f}"
    try:
        if pd.isna(value):  # type: ignore[arg-type]
            return "–"
    except (TypeError, ValueError):
        pass
    return str(value)


def table(df: pd.DataFrame, columns: Sequence[str] | None = None, max_rows: int = 500) -> str:
    """An HTML table of `df` (every cell escaped); text columns left-aligned."""
    if df.empty:
        return '<p class="note">none</p>'
    cols = list(columns or df.columns)
    text = {c for c in cols if not pd.api.types.is_numeric_dtype(df[c])}
    head = "".join(f'<th class="{"t" if c in text else ""}">{esc(c)}</th>' for c in cols)
    body = []
    for row in df[cols].head(max_rows).itertuples(index=False):
        cells = "".join(
            f'<td class="{"t" if c in text else ""}">{esc(fmt(v))}</td>'
            for c, v in zip(cols, row, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    more = (
        f'<p class="note">{len(df) - max_rows} more rows in the CSV files</p>'
        if len(df) > max_rows
        else ""
    )
    rows = "".join(body)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>{more}'  # noqa: E501


def image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{esc(alt)}" src="data:image/png;base64,{data}"></figure>'


def items(lines: Iterable[str], limit: int = 60) -> str:
    lines = list(lines)
    shown = "".join(f"<li><code>{esc(x)}</code></li>" for x in lines[:limit])
    more = f"<li>… and {len(lines) - limit} more</li>" if len(lines) > limit else ""
    return f"<ul>{shown}{more}</ul>"


def section(title: str, *parts: str) -> str:
    return f"<section><h2>{esc(title)}</h2>{''.join(parts)}</section>"


def para(text: str, cls: str = "") -> str:
    return f'<p class="{cls}">{esc(text)}</p>' if cls else f"<p>{esc(text)}</p>"


def json_block(obj: object) -> str:
    return f"<pre>{esc(json.dumps(obj, indent=2, default=str))}</pre>"


def page(title: str, sections: Sequence[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body><h1>{esc(title)}</h1>{''.join(sections)}</body></html>\n"
    )
