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

# No table may be wider than the page: at most MAX_COLUMNS columns (wider frames are split
# into several tables), long words break anywhere, and every box is capped at 100%.
MAX_COLUMNS = 10
CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 1.5em auto;
       max-width: 1250px; color: #222; padding: 0 1em; background: #fff; }
h1 { border-bottom: 2px solid #3465a4; padding-bottom: .2em; overflow-wrap: anywhere; }
h2 { margin-top: 1.6em; color: #3465a4; }
section, div, p, li, figure, details { max-width: 100%; overflow-wrap: anywhere; }
.tbl { max-width: 100%; }
table { border-collapse: collapse; margin: .6em 0; font-size: 13px; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right;
         overflow-wrap: anywhere; word-break: break-word; }
th { background: #eef2f8; } td.t, th.t { text-align: left; }
tr.partial td { background: #fde8e8; }
.warn { background: #fff4d6; border-left: 4px solid #e0a800; padding: .5em 1em; }
.bad { background: #fde8e8; border-left: 4px solid #c0392b; padding: .5em 1em; }
.good { background: #e6f4ea; border-left: 4px solid #2e7d32; padding: .5em 1em; }
.headline { font-size: 16px; }
.note { color: #555; font-size: 13px; }
img { max-width: 100%; box-sizing: border-box; border: 1px solid #eee; margin: .5em 0; }
figure { margin: .5em 0; } figcaption { font-size: 12px; color: #555; }
.thumbs figure { display: inline-block; vertical-align: top; width: 32%; margin-right: 1%; }
.half figure { display: inline-block; vertical-align: top; width: 49%; margin-right: 1%; }
details { border: 1px solid #dde; border-radius: 4px; margin: .4em 0; padding: .3em .8em; }
summary { cursor: pointer; font-weight: 600; }
code, pre { background: #f5f5f5; padding: 1px 4px; font-size: 12px; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 100%; }
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


def table(
    df: pd.DataFrame,
    columns: Sequence[str] | None = None,
    max_rows: int = 500,
    keys: int = 2,
    marked: Sequence[bool] | None = None,
) -> str:
    """HTML tables of `df` (every cell escaped); text columns left-aligned, columns with no
    value left out. More than MAX_COLUMNS columns are split into several tables, each
    repeating the first `keys` columns. `marked` rows get class "partial"."""
    if df.empty:
        return '<p class="note">none</p>'
    cols = [c for c in (columns or df.columns) if df[c].notna().any()]
    keys = min(keys, len(cols), MAX_COLUMNS - 1)
    step = MAX_COLUMNS - keys
    chunks = [cols[:keys] + cols[i : i + step] for i in range(keys, len(cols), step)]
    more = (
        f'<p class="note">{len(df) - max_rows} more rows in the CSV and JSON files</p>'
        if len(df) > max_rows
        else ""
    )
    return "".join(_table(df.head(max_rows), c, marked) for c in chunks or [cols]) + more


def _table(df: pd.DataFrame, cols: list[str], marked: Sequence[bool] | None) -> str:
    text = {c for c in cols if not pd.api.types.is_numeric_dtype(df[c])}
    head = "".join(f'<th class="{"t" if c in text else ""}">{esc(c)}</th>' for c in cols)
    body = []
    for i, row in enumerate(df[cols].itertuples(index=False)):
        cells = "".join(
            f'<td class="{"t" if c in text else ""}">{esc(fmt(v))}</td>'
            for c, v in zip(cols, row, strict=True)
        )
        mark = ' class="partial"' if marked is not None and marked[i] else ""
        body.append(f"<tr{mark}>{cells}</tr>")
    rows = "".join(body)
    return (
        f'<div class="tbl"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'
    )


def image(path: Path | bytes, alt: str, caption: str = "") -> str:
    """A PNG or SVG (file or bytes) as a data URI: the page needs no other file. An SVG in
    an <img> runs no script and loads nothing (the browser's rule for images)."""
    raw = path if isinstance(path, bytes) else path.read_bytes()
    mime = "image/svg+xml" if raw.startswith(b"<svg") else "image/png"
    data = base64.b64encode(raw).decode("ascii")
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{esc(alt)}" src="data:{mime};base64,{data}">{cap}</figure>'


def details(summary: str, *parts: str, open_: bool = False, anchor: str = "") -> str:
    """A collapsible block; `summary` is escaped, `parts` are markup."""
    attrs = (f' id="{esc(anchor)}"' if anchor else "") + (" open" if open_ else "")
    return f"<details{attrs}><summary>{esc(summary)}</summary>{''.join(parts)}</details>"


def pre(text: str) -> str:
    return f"<pre>{esc(text)}</pre>"


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
