"""The SVG figures against hostile input: names XML does not allow, NaN and infinite
scores, values near the float maximum, 100,000 predictions, grid points without a score.
Every figure must parse as XML, never crash the report, and show the right numbers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from foldrun.report import svg
from foldrun.report.figure_drawing import PARTIAL
from foldrun.report.figures_grids import grid_2d
from foldrun.report.figures_models import model_figure
from foldrun.report.figures_training import read_jsonl

NS = "{http://www.w3.org/2000/svg}"


def _svg(data: bytes | None) -> ET.Element:
    assert data is not None and data.startswith(b"<svg")
    return ET.fromstring(data)


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}text")]


def _binary(n: int = 80, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.choice(["a", "b"], n)
    p = np.clip((y == "b") * 0.5 + rng.random(n) * 0.5, 0, 1)
    return pd.DataFrame({"y_true": y, "proba_a": 1 - p, "proba_b": p,
                         "pred": np.where(p > 0.5, "b", "a")})  # fmt: skip


def _coordinates(data: bytes) -> list[str]:
    return re.findall(r' (?:x|y|cx|cy|x1|x2|y1|y2|width|height)="([^"]*)"', data.decode())


@pytest.mark.parametrize("bad", ["\x01", "\x0b", "\x1b", "\ufffe"])
def test_a_name_with_a_character_xml_forbids_still_gives_a_figure(bad: str) -> None:
    """A control character (an ANSI colour code in a model name, a class label read from a
    binary file) made the whole figure unreadable XML: the browser shows a broken image."""
    oof = _binary()
    oof["y_true"] = oof["y_true"].map({"a": "a", "b": f"b{bad}"})
    oof["pred"] = oof["pred"].map({"a": "a", "b": f"b{bad}"})
    oof = oof.rename(columns={"proba_b": f"proba_b{bad}"})
    curves = pd.DataFrame({"label": "", "fold": 0, "name": [f"loss{bad}"] * 3,
                           "value": [3.0, 2.0, 1.0], "step": [0, 1, 2]})  # fmt: skip
    root = _svg(model_figure(f"m{bad} <&>", "classification", oof, curves))
    texts = _texts(root)
    assert "m\ufffd <&>" in texts
    assert "b\ufffd" in texts  # the class, on the confusion matrix and the legend
    assert "loss\ufffd (each fold a line)" in texts
    grid = pd.DataFrame({"k": [f"x{bad}", "y"], "C": [1, 1], "mean": [0.5, 0.6]})
    assert "x\ufffd" in _texts(_svg(grid_2d(f"m{bad}", "k", "C", grid, f"a{bad}")))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_nan_or_infinite_score_leaves_its_row_out_of_the_curves(bad: float) -> None:
    """A NaN probability (a fold whose model failed on some rows) made roc_curve raise, and
    with it the whole report; the curves are those of the other rows."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    oof = _binary()
    oof.loc[[3, 10], "proba_b"] = bad
    texts = _texts(_svg(model_figure("m", "classification", oof, None)))
    ok = np.isfinite(oof["proba_b"])
    truth, score = oof.loc[ok, "y_true"] == "b", oof.loc[ok, "proba_b"]
    assert f"AUC {roc_auc_score(truth, score):.3f}" in texts
    assert f"AP {average_precision_score(truth, score):.3f}" in texts


def test_a_hundred_thousand_predictions_stay_a_small_file() -> None:
    """100,000 regression predictions wrote one dot per 0.1 pixel: 6.5 MB of SVG for one
    model (8.7 MB more in index.html, base64). The cloud still reaches its extremes."""
    rng = np.random.default_rng(0)
    y = rng.normal(size=100_000)
    reg = pd.DataFrame({"y_true": y, "pred": y + rng.normal(size=100_000)})
    data = model_figure("r", "regression", reg, None)
    root = _svg(data)
    assert data is not None and len(data) < 400_000
    dots = list(root.iter(f"{NS}circle"))
    assert 100 < len(dots) <= svg.MAX_DOTS
    panel = svg.Panel("t", xlim=svg.limits(np.r_[y, reg["pred"]]))
    xs = [float(c.get("cx")) for c in dots]
    lowest = panel.x(float(y.min()))
    assert abs(min(xs) - lowest) <= 3.5  # the leftmost point is drawn within its grid step


def test_values_near_the_float_maximum_draw_without_nan() -> None:
    """±1e308 (a diverged loss, a regression gone wild): `hi - lo` overflowed to inf, the
    limits and every coordinate became NaN, and the curve panel crashed."""
    reg = pd.DataFrame({"y_true": [1e308, -1e308, 0.0, 1.0], "pred": [1.0, 2.0, -1e308, 1e308]})
    curves = pd.DataFrame({"label": "", "fold": 0, "name": ["loss"] * 3,
                           "value": [1e308, -1e308, 0.0], "step": [0, 1, 2]})  # fmt: skip
    data = model_figure("r", "regression", reg, curves)
    root = _svg(data)
    assert data is not None
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", c) for c in _coordinates(data))
    assert len(list(root.iter(f"{NS}circle"))) == 4
    assert len(list(root.iter(f"{NS}polyline"))) == 2  # the diagonal and the loss curve


def test_a_training_curve_of_one_point_shows_the_point() -> None:
    """A metric logged once (one epoch) drew nothing: a line needs two points."""
    curves = pd.DataFrame({"label": "", "fold": [0, 1], "name": ["val_loss"] * 2,
                           "value": [0.25, 0.5], "step": [0, 0]})  # fmt: skip
    root = _svg(model_figure("m", "regression", None, curves))
    assert len(list(root.iter(f"{NS}circle"))) == 2


def test_a_partial_grid_point_without_a_score_keeps_its_column() -> None:
    """A column of the grid whose every point had no mean was dropped by the pivot, and the
    red box of a partial point in it then crashed the report (`32 is not in list`)."""
    rows = [(h, lr, np.nan if h == 32 else 0.9 + lr) for h in (8, 32) for lr in (0.1, 0.01)]
    means = pd.DataFrame(rows, columns=["hidden", "lr", "mean"])
    means["partial"] = means["hidden"] == 32
    root = _svg(grid_2d("m", "hidden", "lr", means, "auc"))
    texts = _texts(root)
    assert [t for t in texts if t in ("8", "32")] == ["8", "32"]  # both columns kept
    assert sorted(t for t in texts if re.fullmatch(r"\d\.\d{3}", t)) == ["0.910", "1.000"]
    boxes = [r for r in root.iter(f"{NS}rect") if r.get("stroke") == PARTIAL]
    assert len(boxes) == 2


def test_a_nan_parameter_value_of_a_partial_point_does_not_crash() -> None:
    means = pd.DataFrame({"k": [np.nan, 1.0, np.nan, 1.0], "C": [1, 1, 2, 2],
                          "mean": [0.1, 0.2, 0.3, 0.4],
                          "partial": [True, False, False, False]})  # fmt: skip
    texts = _texts(_svg(grid_2d("m", "k", "C", means, "auc")))
    assert {"0.200", "0.400"} <= set(texts)


def test_twenty_classes_numbers_and_booleans_read_back() -> None:
    """The confusion matrix of 20 numeric classes holds each count once, in label order;
    boolean labels come out as text; a single class and all-equal scores still draw."""
    from sklearn.metrics import confusion_matrix

    y, pred = np.arange(200) % 20, (np.arange(200) * 7) % 20
    root = _svg(model_figure("m", "classification",
                                   pd.DataFrame({"y_true": y, "pred": pred}), None))  # fmt: skip
    panel = next(g for g in root.findall(f"{NS}g") if "Confusion, out-of-fold" in _texts(g))
    labels = sorted(str(v) for v in range(20))
    matrix = confusion_matrix(y.astype(str), pred.astype(str), labels=labels)
    assert [int(t) for t in _texts(panel.find(f"{NS}g"))] == matrix.ravel().tolist()
    rng = np.random.default_rng(1)
    p = rng.random(50)
    yb = p + rng.normal(0, 0.3, 50) > 0.5
    booleans = pd.DataFrame({"y_true": yb, "proba_False": 1 - p, "proba_True": p,
                             "pred": p > 0.5})  # fmt: skip
    assert {"True", "False"} <= set(_texts(_svg(model_figure("b", "classification",
                                                                   booleans, None))))  # fmt: skip
    single = _binary().assign(y_true="a", pred="a")
    assert "Confusion, out-of-fold" in _texts(_svg(model_figure("s", "classification",
                                                                      single, None)))  # fmt: skip
    flat = _binary().assign(proba_a=0.5, proba_b=0.5)
    assert "AUC 0.500" in _texts(_svg(model_figure("f", "classification", flat, None)))


def test_a_lone_surrogate_in_metrics_jsonl_gives_a_figure(tmp_path) -> None:
    """JSON holds "\\ud800" (a lone surrogate: json.dumps of a badly decoded name); no
    frame of text can hold it, so the report crashed making the curves' frame."""
    import json

    file = tmp_path / "metrics.jsonl"
    file.write_text("".join(json.dumps({"name": "\ud800loss", "value": v, "step": i}) + "\n"
                            for i, v in enumerate([2.0, 1.0])))  # fmt: skip
    curves = pd.DataFrame(read_jsonl(file, "", 0))
    assert "\ufffdloss (each fold a line)" in _texts(_svg(model_figure(
        "m", "regression", None, curves)))  # fmt: skip
