"""A legend of many entries stays inside its panel's plot area: in columns, long labels cut
with "…" and kept whole as tooltips."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from foldrun.report import svg

NS = "{http://www.w3.org/2000/svg}"


def _legend_of(panel: svg.Panel) -> ET.Element:
    return ET.fromstring(f'<svg xmlns="http://www.w3.org/2000/svg">{panel.render(0, 0)}</svg>')


def test_twenty_entries_with_long_names_fit_the_plot_area() -> None:
    panel = svg.Panel("Scores per true class", "score", "rows", xlim=(0.0, 1.0),
                      ylim=(0.0, 1.0), legend_at="upper center")  # fmt: skip
    names = [f"class number {i} with a long name" for i in range(20)]
    for k, name in enumerate(names):
        panel.steps(np.array([0.0, 0.5, 1.0]), np.array([1.0, 2.0]), svg.COLOURS[k % 10])
        panel.legend.append((name, svg.COLOURS[k % 10]))
    root = _legend_of(panel)
    box = next(r for r in root.iter(f"{NS}rect") if r.get("stroke") == "#ccc")
    x, y = float(box.get("x")), float(box.get("y"))
    w, h = float(box.get("width")), float(box.get("height"))
    assert panel.left <= x and x + w <= svg.WIDTH - svg.RIGHT
    assert y >= svg.TOP and y + h <= svg.HEIGHT - svg.BOTTOM
    entries = [g for g in root.iter(f"{NS}g") if g.find(f"{NS}title") is not None]
    assert [g.find(f"{NS}title").text for g in entries] == names  # whole, in order
    shown = [g.find(f"{NS}text").text for g in entries]
    pairs = zip(shown, names, strict=True)
    assert all(s.endswith("…") and name.startswith(s[:-1]) for s, name in pairs)
    xs = sorted({float(g.find(f"{NS}text").get("x")) for g in entries})
    assert len(xs) == 2  # two columns of ten


def test_a_short_legend_is_one_column_of_whole_labels() -> None:
    panel = svg.Panel("ROC", "fpr", "tpr", xlim=(0.0, 1.0), ylim=(0.0, 1.0))
    panel.legend += [("AUC 0.912", svg.COLOURS[0]), ("chance", "grey")]
    texts = [t.text for t in _legend_of(panel).iter(f"{NS}text")]
    assert "AUC 0.912" in texts and "chance" in texts


def test_cell_values_of_a_crowded_matrix_fit_their_cells() -> None:
    panel = svg.Panel("Confusion", "", "", rotate_xticks=90)
    panel.cells(np.full((20, 20), 123), "Blues")
    texts = [t for t in _legend_of(panel).iter(f"{NS}text") if t.text == "123"]
    assert len(texts) == 400
    size = int(texts[0].get("font-size"))
    width = (svg.WIDTH - panel.left - svg.RIGHT) / 20
    assert 5 <= size < 10 and size * 0.62 * 3 <= width


def test_a_small_matrix_keeps_its_font() -> None:
    panel = svg.Panel("Confusion", "", "")
    panel.cells(np.array([[5, 1], [2, 7]]), "Blues")
    texts = _legend_of(panel).iter(f"{NS}text")
    sizes = {t.get("font-size") for t in texts if t.text in ("5", "1", "2", "7")}
    assert sizes == {"10"}
