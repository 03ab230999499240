"""Per-model plots for every model (not the top 8), training curves with train and val
overlaid, hyperparameter plots in numeric order with readable cell text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from foldrun.report.figure_drawing import PARTIAL
from foldrun.report.figure_ticks import ordered, tick
from foldrun.report.figures_grids import _heatmap, grid_2d
from foldrun.report.figures_models import _curves_svg, model_figure
from foldrun.report.figures_predictions import curve_line, curve_scores, curves, score_histograms
from foldrun.report.figures_scores import forest, metric_per_fold, pvalue_matrix
from foldrun.report.figures_training import curve_base, read_curves, training_curves


def _sections(html: str) -> list[str]:
    return re.findall(r'<details[^>]*id="model-\d+"[^>]*>.*?</details>', html, re.S)


def test_every_model_has_its_own_plots(wide_report: Path) -> None:
    """21 models: each section holds its figure; the baselines (ranked last) too."""
    sections = _sections(wide_report.read_text())
    assert len(sections) == 21
    for section in sections:
        assert section.count('<img alt="plots of ') == 1, section[:200]
    last = sections[-2:]
    assert "baseline_stratified" in last[0][:300] and "baseline_prior" in last[1][:300]
    assert sections[0].startswith('<details id="model-1" open>')  # the best is open


def test_plot_labels_mark_the_partial_variant(wide_report: Path) -> None:
    """The overview plots (ROC, PR, per fold, curves) label a partial variant as such."""
    from foldrun.report import analysis, models
    from foldrun.results import load_results

    result = analysis.analyze(load_results(wide_report.parent.parent))
    labels = models.plot_labels(result)
    assert labels[("gbm", "default")] == "gbm (PARTIAL 4/5)"
    assert labels[("rf", "default")] == "rf"


def test_one_parameter_grid_gets_a_plot(wide_report: Path) -> None:
    html = wide_report.read_text()
    part = html[html.index("<h2>Hyperparameters") : html.index("<h2>Time and memory")]
    assert re.findall(r'<img alt="([^"]+)"', part) == ["mlp", "svm"]


def _means() -> pd.DataFrame:
    rows = [(h, lr, 0.9 + h / 1000 + lr) for h in (32, 8, 64, 16) for lr in (0.1, 0.001)]
    return pd.DataFrame(rows, columns=["hidden", "lr", "mean"])


def test_heatmap_axes_in_numeric_order() -> None:
    fig, ax = plt.subplots()
    _heatmap(ax, _means(), "hidden", "lr", "t")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["8", "16", "32", "64"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0.001", "0.1"]
    plt.close(fig)


def test_heatmap_text_reads_on_every_cell() -> None:
    """Dark text on the light (yellow) end of viridis, white on the dark end."""
    fig, ax = plt.subplots()
    _heatmap(ax, _means(), "hidden", "lr", "t")
    texts = {t.get_text(): t.get_color() for t in ax.texts}
    values = _means()["mean"]
    assert texts[f"{values.max():.3f}"] == "black"
    assert texts[f"{values.min():.3f}"] == "white"
    plt.close(fig)


def test_the_heatmap_svg_orders_axes_and_writes_readable_values() -> None:
    means = _means().assign(partial=[False] * 7 + [True])
    root = _svg(grid_2d("mlp", "hidden", "lr", means, "auc"))
    texts = _texts(root)
    ns = "{http://www.w3.org/2000/svg}"
    cells = {t.text: t.get("fill", "black") for t in root.iter(f"{ns}text")
             if t.text and t.text.startswith(("0.9", "1.0"))}  # fmt: skip
    assert cells[f"{_means()['mean'].max():.3f}"] == "black"  # on yellow
    assert cells[f"{_means()['mean'].min():.3f}"] == "white"  # on dark blue
    ticks = [t for t in texts if t in {"8", "16", "32", "64"}]
    assert ticks == ["8", "16", "32", "64"]  # numeric order, not "16" < "32" < "64" < "8"
    assert "(red box: PARTIAL, fewer folds than planned)" in texts
    boxes = [r for r in root.iter(f"{ns}rect") if r.get("stroke") == PARTIAL]
    assert len(boxes) == 1


def test_ordered_and_tick_labels() -> None:
    assert ordered(["32", "8", "16", 8]) == ["8", 8, "16", "32"]
    assert ordered(["b", "a"]) == ["a", "b"]
    assert [tick(v) for v in (1.0, 0.001, 100.0, "x")] == ["1", "0.001", "100", "x"]


def test_curve_names_pair_train_and_val() -> None:
    assert curve_base("val_loss") == ("loss", "val")
    assert curve_base("train/accuracy") == ("accuracy", "train")
    assert curve_base("loss_valid") == ("loss", "valid")
    assert curve_base("lr") == ("lr", "")


def test_training_curves_overlay_train_and_val_in_one_panel() -> None:
    rows = [{"name": n, "fold": f, "step": s, "value": 1 / (s + 1) + (n == "val_loss") * 0.1}
            for n in ("train_loss", "val_loss") for f in range(3) for s in range(5)]  # fmt: skip
    panel = _curves_svg(pd.DataFrame(rows), "loss")
    assert [label for label, _ in panel.legend] == ["train_loss", "val_loss"]
    lines = [b for b in panel.body if b.startswith("<polyline")]
    assert len(lines) == 6  # every fold of both
    colours = [re.search(r'stroke="([^"]+)"', b).group(1) for b in lines]  # type: ignore[union-attr]
    assert len(set(colours[:3])) == 1 and len(set(colours)) == 2  # a colour per name


def _svg(data: bytes) -> ET.Element:
    return ET.fromstring(data.decode("utf-8"))  # well-formed XML, or this raises


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_model_figure_for_classification_and_regression() -> None:
    from sklearn.metrics import confusion_matrix, roc_auc_score

    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b"], 60)
    proba = np.clip((y == "b") * 0.6 + rng.random(60) * 0.4 - 0.2, 0, 1)
    oof = pd.DataFrame({"y_true": y, "proba_a": 1 - proba, "proba_b": proba,
                        "pred": np.where(proba > 0.5, "b", "a")})  # fmt: skip
    figure = model_figure("m <&> (PARTIAL 4/5)", "classification", oof, None)
    assert figure is not None and figure.startswith(b"<svg")
    root = _svg(figure)
    texts = _texts(root)
    assert "m <&> (PARTIAL 4/5)" in texts  # the title, escaped in the file, read back whole
    for title in ("ROC, out-of-fold", "Precision-recall, out-of-fold",
                  "Confusion, out-of-fold", "Scores per true class"):  # fmt: skip
        assert title in texts
    # the numbers drawn are the ones the predictions give
    assert f"AUC {roc_auc_score(y == 'b', proba):.3f}" in texts
    matrix = confusion_matrix(y, oof["pred"], labels=["a", "b"])
    ns = "{http://www.w3.org/2000/svg}"
    panel = next(g for g in root.findall(f"{ns}g") if "Confusion, out-of-fold" in _texts(g))
    cells = _texts(panel.find(f"{ns}g"))  # what is drawn inside the plot area
    assert [int(c) for c in cells] == matrix.ravel().tolist()
    reg = pd.DataFrame({"y_true": rng.normal(size=30), "pred": rng.normal(size=30)})
    reg_figure = model_figure("r", "regression", reg, None)
    assert reg_figure is not None
    assert "Predicted vs true, out-of-fold" in _texts(_svg(reg_figure))
    assert model_figure("none", "classification", None, None) is None


def test_a_long_curve_is_thinned_to_what_shows() -> None:
    """100,000 thresholds on a 234-pixel-wide panel: a few hundred points are written, and
    the line keeps its ends."""
    from foldrun.report import svg

    panel = svg.Panel("t", xlim=(0, 1), ylim=(0, 1))
    xs = np.linspace(0, 1, 100_000)
    panel.line(xs, xs**2, "black")
    points = panel.body[0].split('points="')[1].split('"')[0].split()
    assert 200 < len(points) < 2_000
    assert points[0] == f"{svg.num(panel.x(0))},{svg.num(panel.y(0))}"


def test_pvalue_matrix_and_forest_render() -> None:
    p = np.array([[np.nan, 0.01, 0.5], [0.01, np.nan, 0.2], [0.5, 0.2, np.nan]])
    matrix = pvalue_matrix(["a", "b", "c"], p, 0.05)
    assert matrix.startswith(b"<svg")
    texts = _svg_texts(matrix)
    assert texts.count("0.010") == 1 and "0.500" in texts and "0.200" in texts  # lower half
    assert pvalue_matrix(["a"], p[:1, :1], 0.05) is None
    rows = pd.DataFrame({"label": ["a", "b"], "mean": [0.9, 0.8], "ci_low": [0.85, 0.7],
                         "ci_high": [0.95, 0.9], "selected": [True, True],
                         "partial": [True, False], "folds": ["4/5", "5/5"]})  # fmt: skip
    figure = forest(rows, "roc_auc", 95)
    assert figure.startswith(b"<svg") and "a  (4/5 folds)" in _svg_texts(figure)


def test_forest_draws_an_interval_that_excludes_the_mean() -> None:
    # a logit-scale interval of scores near 1 can lie below their arithmetic mean
    # (model00 of the benchmark run: mean 0.999076, interval [0.998338, 0.998989])
    rows = pd.DataFrame({"label": ["a", "b"], "mean": [0.999076, 0.8],
                         "ci_low": [0.998338, 0.7], "ci_high": [0.998989, 0.9],
                         "selected": [True, False], "partial": [False, False],
                         "folds": ["15/15", "15/15"]})  # fmt: skip
    root = ET.fromstring(forest(rows, "roc_auc", 95))
    ns = "{http://www.w3.org/2000/svg}"
    dot = next(root.iter(f"{ns}circle"))  # the first row's mean
    low, high = map(float, re.match(r"M([\d.]+),[\d.]+H([\d.]+)",
                                    next(root.iter(f"{ns}path")).get("d")).groups())  # fmt: skip
    assert low < high < float(dot.get("cx"))  # the interval lies left of its mean


def test_metric_per_fold_draws_an_interval_that_excludes_the_mean(tmp_path) -> None:
    # the benchmark run's model00: logit-scale interval [0.998338, 0.998989], mean 0.999076
    ranking = pd.DataFrame({"model": ["m", "n"], "variant": ["v", "v"], "n": [3, 3],
                            "mean": [0.999076, 0.8], "ci_low": [0.998338, 0.7],
                            "ci_high": [0.998989, 0.9]})  # fmt: skip
    metrics = pd.DataFrame({"model": ["m"] * 3 + ["n"] * 3, "variant": ["v"] * 6,
                            "fold": [0, 1, 2] * 2, "repeat": 0, "stage": "evaluate",
                            "subset": "test", "metric": "roc_auc",
                            "value": [0.9999, 0.9990, 0.9983, 0.7, 0.8, 0.9]})  # fmt: skip
    out = metric_per_fold(metrics, ranking, "roc_auc", tmp_path / "m.png")
    assert out is not None and out.read_bytes()[:4] == b"\x89PNG"


def test_each_model_section_has_its_per_class_table(wide_report: Path) -> None:
    """The selected variant's precision, recall and F1 per class: the summary's means."""
    from foldrun.report import analysis
    from foldrun.results import load_results

    result = analysis.analyze(load_results(wide_report.parent.parent))
    sections = _sections(wide_report.read_text())
    assert len(sections) == len(result.ranking)
    summary = result.summary.set_index(["model", "variant", "metric"])["mean"]
    for section, row in zip(sections, result.ranking.itertuples(), strict=True):
        table = section[section.index("<h3>Per class") :]
        cells = [c for c in re.findall(r"<tr>(.*?)</tr>", table) if "<td" in c]
        values = {re.findall(r">([^<]*)</td>", c)[0]: re.findall(r">([^<]*)</td>", c)[1:]
                  for c in cells}  # fmt: skip
        assert values, section[:200]
        for cls, (precision, recall, f1) in values.items():
            for name, text in (("precision", precision), ("recall", recall), ("f1", f1)):
                mean = summary[(row.model, row.variant, f"{name}_{cls}")]
                assert float(text) == round(mean, 4), (row.model, cls, name)


def test_pvalue_matrix_title_fits_with_two_models() -> None:
    """Two models make the smallest matrix: its title must not run off the image's right
    edge (the document is at least as wide as the title at 0.6 em a character)."""
    p = np.array([[np.nan, 0.08], [0.08, np.nan]])
    root = ET.fromstring(pvalue_matrix(["logreg", "tree"], p, 0.05))
    title = next(t for t in root.iter("{http://www.w3.org/2000/svg}text")
                 if t.text.startswith("Holm"))  # fmt: skip
    assert float(root.get("width")) >= len(title.text) * 11 * 0.6 + 20


def test_decision_scores_outside_0_1_are_all_counted() -> None:
    """A model that gives a decision function's margins (-3..3), not probabilities: every
    row is in the histogram (over [0, 1] all but a few fell outside), and the panel's axis
    spans the scores."""
    rng = np.random.default_rng(1)
    y = rng.choice(["neg", "pos"], 200)
    score = (y == "pos") * 2.0 - 1.0 + rng.normal(0, 0.8, 200)
    part = pd.DataFrame({"y_true": y, "score": score})
    _, hists = score_histograms(part)
    assert {name: int(counts.sum()) for name, counts, _ in hists} == {
        "neg": int((y == "neg").sum()), "pos": int((y == "pos").sum())}  # fmt: skip
    edges = hists[0][2]
    assert edges[0] == score.min() and edges[-1] == score.max()
    probabilities = part.assign(score=rng.random(200))  # within [0, 1]: the fixed bins
    assert score_histograms(probabilities)[1][0][2][[0, -1]].tolist() == [0.0, 1.0]
    figure = model_figure("svc", "classification", part, None)
    assert figure is not None and "Scores per true class" in _texts(_svg(figure))


def test_the_overview_curves_leave_out_a_failed_rows_nan_score(tmp_path: Path) -> None:
    """roc.png and the per-model ROC panel share one rule: rows with a NaN score are left
    out (the overview used to fail on them), and both name the same AUC."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(2)
    y = rng.choice(["a", "b"], 80)
    proba = np.clip((y == "b") * 0.5 + rng.random(80) * 0.5, 0, 1)
    proba[:5] = np.nan
    oof = pd.DataFrame({"y_true": y, "proba_a": 1 - proba, "proba_b": proba})
    assert curves({"m": oof}, "roc", tmp_path / "roc.png") == tmp_path / "roc.png"
    scores = curve_scores(oof)
    assert scores is not None and len(scores[1]) == 75
    _, _, text = curve_line(*scores, "roc")
    assert text == f"AUC {roc_auc_score(y[5:] == 'b', proba[5:]):.3f}"
    figure = model_figure("m", "classification", oof, None)
    assert figure is not None and text in _texts(_svg(figure))


def _svg_texts(data: bytes) -> list[str]:
    return [t.text or "" for t in ET.fromstring(data).iter("{http://www.w3.org/2000/svg}text")]


def test_long_epoch_logs_are_drawn_per_metric_with_train_and_val_overlaid(tmp_path) -> None:
    """Seed 003's lines (`phase`, `metric`, `value`) were one saw-tooth curve titled
    "None" mixing every metric (issue 22); an unreadable line is counted, never drawn."""
    import json

    lines = [{"step": s, "epoch": s, "phase": p, "metric": m, "value": v / s}
             for s in (1, 2, 3) for p, m, v in (("train", "loss", 0.6), ("val", "loss", 0.7),
                                                ("train", "acc", 0.2), ("val", "acc", 0.3))]
    rows, unreadable = [], 0
    for fold in range(2):
        folder = tmp_path / f"fold_{fold}"
        folder.mkdir()
        (folder / "metrics.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in lines) + '{"step": 4, "phase": "tr')
        found, bad = read_curves(folder, "", fold)
        rows, unreadable = rows + found, unreadable + bad
    assert unreadable == 2
    figure = model_figure("m", "regression", None, pd.DataFrame(rows), unreadable)
    texts = _texts(_svg(figure))
    assert "loss (each fold a line)" in texts and "acc (each fold a line)" in texts
    assert not any("None" in t for t in texts)
    assert {"train/loss", "val/loss", "train/acc", "val/acc"} <= set(texts)
    assert any("2 line(s) of the training logs could not be read: left out" in t for t in texts)
    png = training_curves({"m": [tmp_path / "fold_0", tmp_path / "fold_1"]},
                                tmp_path / "curves.png")  # fmt: skip
    assert png is not None and png.read_bytes().startswith(b"\x89PNG")
