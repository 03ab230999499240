"""The report's layout on a 21-model run: read in a minute, nothing wider than the page,
no script or network, user text escaped, partial variants marked, the Holm count true."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

from foldrun.report import build_report
from foldrun.report import html as h
from tests.fixtures.synthetic_run import RunShape, write_run
from tests.report.test_chromium import FLAGS, _chromium

WIDTH = 1400


class Tables(HTMLParser):
    """Each <table>: its header cells, its first row's cells, and the class of its parent."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str]] = []
        self.tables: list[dict[str, object]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        cls = dict(attrs).get("class") or ""
        if tag == "table":
            parent = self.stack[-1][1] if self.stack else ""
            self.tables.append({"parent": parent, "head": [], "rows": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append({"class": cls, "cells": []})  # type: ignore[union-attr]
        elif tag in ("th", "td"):
            self.cell = []
        if tag not in ("img", "br", "meta"):
            self.stack.append((tag, cls))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self.cell is not None and self.tables:
            text = "".join(self.cell)
            self.tables[-1]["rows"][-1]["cells"].append(text)  # type: ignore[index]
            self.cell = None
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _tables(html: str) -> list[dict[str, object]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def test_every_table_fits_the_page(wide_report: Path) -> None:
    """At most MAX_COLUMNS columns, inside a capped box, and no column without a value
    (the ranking had 16 columns and scrolled sideways; empty repeat_* columns were shown)."""
    html = wide_report.read_text()
    tables = _tables(html)
    assert len(tables) >= 6
    for table in tables:
        rows = table["rows"]
        width = max(len(r["cells"]) for r in rows)  # type: ignore[union-attr]
        head = rows[0]["cells"]  # type: ignore[index]
        assert width <= h.MAX_COLUMNS, head
        assert table["parent"] == "tbl", head
        assert not [c for c in head if c.startswith("repeat_")], head
        for j, name in enumerate(head):
            values = {r["cells"][j] for r in rows[1:]}  # type: ignore[index]
            assert values != {"–"}, f"column {name} has no value"
    # the comparison is a matrix, not a table of 210 rows
    assert max(len(t["rows"]) for t in tables) < 100


def test_chromium_shows_no_horizontal_overflow(wide_report: Path, tmp_path: Path) -> None:
    """Rendered at 1,400 px: the page is no wider than the window, no element pokes out of
    the body and none scrolls sideways inside (the ranking table did: its p-values hidden).
    The measuring script goes into a copy made by this test, never into the report."""
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        _chromium()  # skips (or fails with FOLDRUN_REQUIRE_CHROMIUM=1)
    probe = tmp_path / "probe.html"
    # an element is too wide when it pokes out of the body's box (even where a scrolling
    # box hides the rest: the reader must scroll sideways to see it)
    measure = """<script>
    const w = window.innerWidth; const bad = [];
    const edge = document.body.getBoundingClientRect().right;
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right > edge + 1 || el.scrollWidth > el.clientWidth + 1 && el.tagName !== 'PRE')
        bad.push(el.tagName + '.' + el.className + ':' + Math.round(r.right));
    }
    const out = document.createElement('pre'); out.id = 'probe';
    out.textContent = JSON.stringify({inner: w, scroll: document.documentElement.scrollWidth,
                                      bad: bad.slice(0, 20)});
    document.body.appendChild(out);
    </script></body>"""
    probe.write_text(wide_report.read_text().replace("</body>", measure))
    # every section open: the widest content counts too
    probe.write_text(probe.read_text().replace("<details", "<details open"))
    cmd = [_chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
           f"--window-size={WIDTH},3000", "--dump-dom", probe.as_uri()]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stderr[-2000:]
    import json

    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert result["inner"] == WIDTH
    assert result["scroll"] <= WIDTH, result
    assert result["bad"] == [], result


def test_screenshot_at_1400_px(wide_report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    cmd = [_chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
           f"--screenshot={shot}", f"--window-size={WIDTH},3000", wide_report.as_uri()]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert shot.is_file(), done.stderr[-2000:]
    from matplotlib import image

    pixels = image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (3000, WIDTH)
    # the right quarter of the page is the body's white margin: nothing spilled into it
    margin = pixels[:, int(WIDTH * 0.96) :]
    assert margin.min() > 0.97


def test_no_script_no_network(wide_report: Path) -> None:
    html = wide_report.read_text()
    assert "<script" not in html.lower()
    assert not re.search(r"<link|@import|url\(|https?://|//fonts", html, re.I)
    sources = re.findall(r'src="([^"]*)"', html)
    images = ("data:image/png;base64,", "data:image/svg+xml;base64,")
    assert sources and all(s.startswith(images) for s in sources)
    # an embedded SVG (the per-model figures) has no script, link or remote reference either
    for source in sources:
        if source.startswith(images[1]):
            text = base64.b64decode(source.split(",", 1)[1]).decode("utf-8")
            assert not re.search(r"<script|<a |href|url\((?!#)|<image|<foreignObject", text)
    assert not re.search(r'href="(?!#)', html)  # no link leaves the page


def test_headline_says_best_interval_next_and_completeness(wide_report: Path) -> None:
    html = wide_report.read_text()
    head = html[html.index("<h2>Headline</h2>") : html.index("<h2>Inventory")]
    assert re.search(r"Best: gbm — roc_auc 0\.\d{4}, 95% interval \[0\.\d{4}, \d\.\d{4}\] "
                     r"over 4/5 folds", head)  # fmt: skip
    assert "first-ranked model has 4/5 folds" in head and "best complete model is" in head
    assert "significantly worse than the best" in head
    assert "#2 " in head and "#3 " in head
    assert "Run incomplete" in head and "(1 failed)" in head


def test_partial_variant_marked_in_tables(wide_report: Path) -> None:
    html = wide_report.read_text()
    results = html[html.index("<h2>Results</h2>") : html.index("<h2>Comparison")]
    ranking = _tables(results)[0]
    gbm = next(r for r in ranking["rows"] if "gbm" in r["cells"])  # type: ignore[union-attr]
    assert gbm["class"] == "partial" and "4/5" in gbm["cells"] and "PARTIAL" in gbm["cells"][-1]
    others = [r for r in ranking["rows"][1:] if r is not gbm]  # type: ignore[index]
    assert all(r["class"] == "" and "5/5" in r["cells"] for r in others)
    for table in _tables(results):  # every table with a gbm row marks it
        for row in table["rows"]:  # type: ignore[union-attr]
            if "gbm" in row["cells"]:
                assert row["class"] == "partial", row
    assert "Partial (red rows): gbm" in results
    assert "4/5 folds — PARTIAL" in html  # the model's own section says it too


def test_inventory_lists_failures_first_with_log_tail(wide_report: Path) -> None:
    html = wide_report.read_text()
    part = html[html.index("<h2>Inventory") : html.index("<h2>Results")]
    rows = _tables(part)[0]["rows"]
    assert rows[1]["cells"][:2] == ["model_knn", "failed"]  # type: ignore[index]
    assert rows[2]["cells"][:2] == ["gbm", "partial"]  # type: ignore[index]
    assert {r["cells"][1] for r in rows[3:]} == {"complete"}  # type: ignore[index]
    assert "model_knn/default/fold_03/train.failed/train.log" in part
    assert "MemoryError: &lt;CUDA&gt; out of memory" in part  # the log tail, escaped
    assert "<CUDA>" not in html


def test_time_and_memory_per_model(wide_report: Path) -> None:
    html = wide_report.read_text()
    part = html[html.index("<h2>Time and memory") :]
    table = _tables(part)[0]
    assert table["rows"][0]["cells"][:3] == ["model", "tasks", "wall total"]  # type: ignore[index]
    assert len(table["rows"]) == 22  # a row per model
    assert "wall per fold (median)" in table["rows"][0]["cells"]  # type: ignore[index]


def test_task_images_embedded_and_capped(wide_report: Path) -> None:
    html = wide_report.read_text()
    sections = re.findall(r'<details[^>]*id="model-\d+"[^>]*>.*?</details>', html, re.S)
    rf = next(s for s in sections if re.search(r"<summary>#\d+ rf —", s))
    assert rf.count("<figcaption>") == 6  # 9 written, 6 shown
    assert "3 more images in" in rf
    mlp = next(s for s in sections if "mlp/" in s[:200])
    assert mlp.count("<figcaption>") == 2


def test_holm_caption_counts_the_pairs_it_tested(tmp_path: Path) -> None:
    """A model with one fold has no test against the others: Holm runs over the rest, and
    the caption says so (it said 3 pairs where Holm ran over 1)."""
    one_fold = tuple(f"solo/default/fold_0{f}/{s}" for f in range(1, 5)
                     for s in ("train", "predict", "evaluate"))  # fmt: skip
    run = write_run(tmp_path / "run", RunShape(models={"logreg": 0.8, "rf": 0.5, "solo": 0.6},
                                               grid={}, missing=one_fold))  # fmt: skip
    report = build_report(run)
    pairs = report.summary["comparison"]["pairs"]  # type: ignore[index]
    tested = sum(p["p"] is not None for p in pairs)
    assert (len(pairs), tested) == (3, 1)
    html = report.index.read_text()
    assert "Holm-corrected over 1 pair (2 of the 3 pairs have too few common folds" in html


def test_user_text_is_escaped_in_every_new_section(run_dir: Path) -> None:
    """A model named like markup stays text in the headline, inventory, time table and its
    own section (summary, figure alt, failure block)."""
    from tests.report.conftest import HOSTILE

    html = build_report(run_dir).index.read_text()
    assert HOSTILE not in html and "<img src=x" not in html
    escaped = h.esc(HOSTILE)
    for title in ("Inventory", "Time and memory", "Models"):
        part = html[html.index(f"<h2>{title}") :]
        assert escaped in part[: part.index("</section>")], title
    assert re.search(r"<summary>#\d+ " + re.escape(escaped), html)
