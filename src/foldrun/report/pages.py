"""The sections of index.html, from an Analysis (text and tables; html.py does the markup)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from foldrun.report import analysis as an
from foldrun.report import html as h
from foldrun.report import plots

RANK_COLUMNS = ["rank", "model", "variant", "n", "mean", "std", "ci_low", "ci_high", "pooled",
                "pooled_ci_low", "pooled_ci_high", "n_variants", "selected_on", "optimistic",
                "p_vs_best_holm", "worse_than_best"]  # fmt: skip
PLOT_TITLES = {
    "metric_per_fold": "Primary metric per fold",
    "roc": "ROC curves (out-of-fold)",
    "pr": "Precision-recall curves (out-of-fold)",
    "confusion": "Confusion matrices (out-of-fold)",
    "prediction_distribution": "Distribution of predictions per true class",
    "predicted_vs_true": "Predicted vs true (out-of-fold)",
    "training_curves": "Training curves (metrics.jsonl)",
    "heatmap_grid": "Mean test score over each 2-parameter grid",
}


def label(model: str, variant: str) -> str:
    return model if variant == "default" else f"{model}/{variant}"


def index_page(
    result: an.Analysis, summary: dict[str, object], images: list[Path], problems: list[str]
) -> str:
    res = result.results
    title = f"foldrun report: {res.source.raw.get('name') or res.run_dir.name}"
    return h.page(
        title,
        [
            _overview(result, summary),
            _results(result),
            _comparison(result),
            _variants(result),
            _separate(result),
            _plots(images, problems),
            _balance(result),
            h.section("Provenance", h.json_block(summary["provenance"])),
        ],
    )


def _overview(result: an.Analysis, summary: dict[str, object]) -> str:
    res = result.results
    direction = "higher is better" if res.greater_is_better else "lower is better"
    counts = summary["tasks"]
    parts = [
        h.para(f"Run folder: {res.run_dir}"),
        h.para(f"Task: {res.task}. Primary metric: {res.primary} ({direction})."),
        h.para("Tasks: " + ", ".join(f"{k}: {v}" for k, v in counts.items())),  # type: ignore[union-attr]
    ]
    if result.missing:
        parts.append(
            f'<div class="warn">{h.para(f"Partial run: {len(result.missing)} tasks are not done. Everything below uses the finished tasks only.")}'  # noqa: E501
            f"{h.items(result.missing)}</div>"
        )
    else:
        parts.append(h.para("Every task is done.", "note"))
    return h.section("Overview", *parts)


def _results(result: an.Analysis) -> str:
    res = result.results
    if result.ranking.empty:
        return h.section("Results", h.para("No finished evaluate task yet: nothing to summarize.",
                                           "warn"))  # fmt: skip
    conf = round(res.confidence * 100)
    notes = [
        h.para(
            f"Test {res.primary} of each model's selected variant over folds (repeats × folds): "
            f"mean, std (ddof = 1) and the {conf}% t-interval of the mean; 'pooled' is the "
            f"metric of all out-of-fold predictions together, with a bootstrap interval.",
            "note",
        )
    ]
    if result.ranking["optimistic"].any():
        notes.append(h.para(
            "Optimistic: the variant was selected on the same test folds it is scored on "
            "(no validation folds to select on), so its score is biased upwards. Nested "
            "selection is not done yet.", "warn"))  # fmt: skip
    cols = [c for c in RANK_COLUMNS if c in result.ranking.columns]
    metrics = _selected_metrics(result)
    return h.section(
        "Results", *notes, h.table(result.ranking, cols),
        "<h3>Every metric of the selected variants (mean ± std over folds)</h3>",
        h.table(metrics),
    )  # fmt: skip


def _selected_metrics(result: an.Analysis) -> pd.DataFrame:
    keys = result.ranking[["model", "variant"]]
    rows = result.summary.merge(keys, on=["model", "variant"])
    if rows.empty:
        return rows
    rows = rows.assign(text=[f"{m:.4f} ± {s:.4f}" if s == s else f"{m:.4f}"
                             for m, s in zip(rows["mean"], rows["std"], strict=True)])  # fmt: skip
    return rows.pivot(index=["model", "variant"], columns="metric", values="text").reset_index()


def _comparison(result: an.Analysis) -> str:
    if result.pairs.empty:
        return h.section("Comparison", h.para("Fewer than two models: nothing to compare.",
                                              "note"))  # fmt: skip
    alpha = float(result.results.options.get("alpha", 0.05))  # type: ignore[arg-type]
    ratio = "1/(K−1)" if result.ratio is None else f"{result.ratio:.3f}"
    text = (
        f"Paired per-fold differences (a − b) of {result.results.primary} between the selected "
        "variants, corrected resampled t-test (Nadeau & Bengio 2003; variance × (1/J + "
        f"n_test/n_train), n_test/n_train = {ratio}). p-values are Holm-corrected over "
        f"{len(result.pairs)} pairs; significant means p_holm < {alpha}."
    )
    sig = result.pairs[result.pairs["significant"]]
    lines = [
        f"{r.model_a} vs {r.model_b}: difference {r.mean_diff:+.4f}, p_holm = {r.p_holm:.3g}"
        for r in sig.itertuples()
    ]
    verdict = h.items(lines) if lines else h.para("No difference is significant.", "note")
    return h.section("Comparison", h.para(text, "note"), verdict, h.table(result.pairs))


def _variants(result: an.Analysis) -> str:
    primary = result.summary[result.summary["metric"] == result.results.primary]
    return h.section(f"Every variant ({result.results.primary}, test folds)", h.table(primary))


def _separate(result: an.Analysis) -> str:
    res = result.results
    return h.section(
        "Refit and holdout (never averaged with the folds)",
        "<h3>Holdout metrics of the refit models</h3>",
        h.table(res.separate("holdout")),
        "<h3>Metrics logged by the refit tasks</h3>",
        h.table(res.separate("refit")),
    )


def _plots(images: list[Path], problems: list[str]) -> str:
    parts = []
    for path in images:
        stem = path.stem
        title = PLOT_TITLES.get(stem, stem)
        parts.append(f"<h3>{h.esc(title)}</h3>{h.image(path, title)}")
    if problems:
        parts.append(f'<div class="bad">{h.para("Plots that failed:")}{h.items(problems)}</div>')
    if not parts:
        parts.append(h.para("No plot applies yet.", "note"))
    return h.section("Plots", *parts)


def _balance(result: an.Analysis) -> str:
    details = an.split_details(result.results)
    if details is None:
        return h.section("Split balance", h.para("No split/details.json found.", "note"))
    top = {k: v for k, v in details.items() if not isinstance(v, dict | list)}
    parts = [h.table(pd.DataFrame([{"key": k, "value": str(v)} for k, v in top.items()]))]
    for key, value in details.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            flat = pd.json_normalize(value, max_level=1)
            flat = flat[[c for c in flat.columns if flat[c].map(_scalar).all()]].iloc[:, :30]
            parts += [f"<h3>{h.esc(key)}</h3>", h.table(flat)]
        elif isinstance(value, dict):
            parts += [f"<h3>{h.esc(key)}</h3>", h.json_block(value)]
    return h.section("Split balance (split/details.json)", *parts)


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


__all__ = ["index_page", "label", "plots"]
