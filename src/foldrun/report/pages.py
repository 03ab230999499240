"""The sections of index.html, from an Analysis (text and tables; html.py does the markup)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from foldrun.report import analysis, html, models, selection
from foldrun.report.figure_pool import draw_many
from foldrun.report.figures_grids import grid_1d, grid_2d
from foldrun.report.figures_scores import forest, pvalue_matrix
from foldrun.results.metrics import is_per_class

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


label = models.label


def index_page(
    result: analysis.Analysis,
    summary: dict[str, object],
    figures: Callable[[], tuple[list[Path], list[str]]],
) -> str:
    """The page; `figures` gives the figure files and the problems of those that failed,
    and is called once every other section is built (they may be drawn meanwhile)."""
    res = result.results
    title = f"foldrun report: {res.source.run_name}"
    if res.source.dataset:  # one dataset's report, in report/<dataset>/ of the comparison
        title += f", dataset {res.source.dataset}"
    before = [
        _headline(result),
        models.inventory(result),
        _results(result),
        _comparison(result),
        selection.section(summary["models"]),  # type: ignore[arg-type]
        selection.race_section(summary.get("race")),  # type: ignore[arg-type]
        _hyperparameters(result),
        models.resources(result),
        models.model_sections(result),
        _overview(result, summary),
        _separate(result),
        _external(result),
    ]
    after = [_balance(result), html.section("Provenance", html.json_block(summary["provenance"]))]
    return html.page(title, [*before, _plots(*figures()), *after])


def _overview(result: analysis.Analysis, summary: dict[str, object]) -> str:
    res = result.results
    direction = "higher is better" if res.greater_is_better else "lower is better"
    counts = summary["tasks"]
    parts = [
        html.para(f"Run folder: {res.run_dir}"),
        html.para(f"Folds planned per variant (repeats × folds): {models.planned_folds(result)}."),
        html.para(f"Task: {res.task}. Primary metric: {res.primary} ({direction})."),
        html.para("Tasks: " + ", ".join(f"{k}: {v}" for k, v in counts.items())),  # type: ignore[union-attr]
    ]
    if result.missing:
        parts.append(
            f'<div class="warn">{html.para(f"Partial run: {len(result.missing)} tasks are not done. Everything below uses the finished tasks only.")}'  # noqa: E501
            f"{html.items(result.missing)}</div>"
        )
    else:
        parts.append(html.para("Every task is done.", "note"))
    if res.not_in_spec:  # folders of models or variants the spec no longer has
        parts.append(html.para("Not in the spec (left out of every table, never ranked): "
                               + ", ".join(res.not_in_spec) + ".", "note"))  # fmt: skip
    return html.section("Run", *parts)


def _headline(result: analysis.Analysis) -> str:
    """What a reader needs first: the best model with its interval, whether the next ones
    are significantly worse, and whether the run is complete."""
    res = result.results
    parts = []
    ranking = result.ranking
    if ranking.empty:
        parts.append(_nothing_ranked(result))
    else:
        folds, partial = models.fold_counts(result, ranking)
        conf = round(res.confidence * 100)
        best = ranking.iloc[0]
        interval = models.interval_text(best.ci_low, best.ci_high, conf)
        text = (f"Best: {label(best.model, best.variant)} — {res.primary} {best['mean']:.4f}, "
                f"{interval}{',' if pd.isna(best.ci_low) else ' over'} "
                f"{models.folds_text(folds[0])}.")  # fmt: skip
        parts.append(html.para(text, "headline"))
        complete = [i for i, p in enumerate(partial) if not p]
        if partial[0]:
            also = (f" The best complete model is {label(*ranking.iloc[complete[0]][['model', 'variant']])} "  # noqa: E501
                    f"(#{complete[0] + 1})." if complete else " No model is complete.")  # fmt: skip
            parts.append(html.para(f"Partial: the first-ranked model has {folds[0]} folds, fewer "
                                f"than the run plans; its score is on fewer folds.{also}",
                                "bad"))  # fmt: skip
        parts.append(_next_ones(result, folds, partial))
        parts.append(_undefined(result, ranking))
    parts.append(_completeness(result))
    return html.section("Headline", *parts)


def _nothing_ranked(result: analysis.Analysis) -> str:
    """Why no model is ranked: no test-fold score yet, or (a complete run) the models are
    scored on external sets only, which have their own section."""
    m = result.results.current_metrics
    external = m["subset"].str.startswith("external:").fillna(False) if len(m) else []
    if len(m) and bool(external.any()):
        return html.para("No test-fold score to rank the models on: they are scored on "
                         "external sets only (see External sets).", "note")  # fmt: skip
    return _no_scores(result, "no model to rank")


def _no_scores(result: analysis.Analysis, what: str) -> str:
    """No test score: no evaluate task done yet, or the primary metric is NaN on every
    done fold (Results.unscored says why)."""
    unscored = result.results.unscored()
    if not unscored:
        return html.para(f"No finished evaluate task yet: {what}.", "warn")
    text = (f"No test score, {what}: {result.results.primary} is undefined (NaN) on every "
            "done test fold of")  # fmt: skip
    lines = [f"{label(u['model'], u['variant'])}: {u['why']}" for u in unscored]
    return html.para(text, "warn") + html.items(lines)


def _undefined(result: analysis.Analysis, ranking: pd.DataFrame) -> str:
    """Ranked models with done folds whose primary metric is NaN: said, with why."""
    notes = models.undefined_note(result, ranking)
    if not notes:
        return ""
    return html.para("Fewer scored folds than done folds:", "warn") + html.items(notes)


def _next_ones(result: analysis.Analysis, folds: list[str], partial: list[bool]) -> str:
    ranking = result.ranking
    alpha = result.results.alpha
    if len(ranking) < 2:
        return html.para("Only one model: nothing to compare.", "note")
    worse = int(ranking["worse_than_best"].sum())
    lines = []
    for i, row in enumerate(ranking.iloc[1:4].itertuples(), start=1):
        verdict = ("significantly worse" if row.worse_than_best
                   else "not significantly different")  # fmt: skip
        mark = " (partial)" if partial[i] else ""
        p = html.fmt(row.p_vs_best_holm, 3)
        lines.append(f"#{row.rank} {label(row.model, row.variant)}{mark}: {row.mean:.4f}, "
                     f"p_holm = {p} vs the best — {verdict}")  # fmt: skip
    text = (f"{worse} of the {len(ranking) - 1} other models are significantly worse than "
            f"the best (corrected t-test, Holm, p < {alpha}).")  # fmt: skip
    return html.para(text) + html.items(lines)


def _completeness(result: analysis.Analysis) -> str:
    tasks = result.results.tasks
    failed = int((tasks["state"] == "failed").sum()) if len(tasks) else 0
    if not result.missing:
        return html.para(f"Run complete: all {len(tasks)} tasks are done.", "good")
    return html.para(f"Run incomplete: {len(result.missing)} of the tasks are not done "
                  f"({failed} failed). Everything here uses the finished tasks only; "
                  "see Inventory.", "bad")  # fmt: skip


def _results(result: analysis.Analysis) -> str:
    res = result.results
    if result.ranking.empty:
        return html.section("Results", _no_scores(result, "nothing to summarize"))
    conf = round(res.confidence * 100)
    ranking = result.ranking
    folds, partial = models.fold_counts(result, ranking)
    notes = [html.para(
        f"Test {res.primary} of each model's selected variant over folds (repeats × folds): "
        f"mean and the {conf}% t-interval of the mean; 'pooled' is the metric of all "
        "out-of-fold predictions together, with a bootstrap interval. std and the other "
        "columns are in cv_summary.json.", "note")]  # fmt: skip
    if any(partial):
        keys = zip(ranking.model, ranking.variant, partial, strict=True)
        names = ", ".join(label(m, v) for m, v, p in keys if p)
        text = (f"Partial (red rows): {names} has fewer folds than planned; its mean is over "
                "those folds only and is not comparable with complete models.")  # fmt: skip
        notes.append(html.para(text, "bad"))
    if ranking["optimistic"].any():
        notes.append(html.para(
            "Optimistic: the variant was selected on the same test folds it is scored on "
            "(no validation folds to select on), so its score is biased upwards. Nested "
            "selection is not done yet.", "warn"))  # fmt: skip
    table = pd.DataFrame({
        "rank": ranking["rank"],
        "model": [label(m, v) for m, v in zip(ranking.model, ranking.variant, strict=True)],
        "folds": folds,
        res.primary: ranking["mean"],
        f"{conf}% interval": _interval(ranking["ci_low"], ranking["ci_high"]),
        "pooled": ranking["pooled"],
        "pooled interval": _interval(ranking.get("pooled_ci_low"), ranking.get("pooled_ci_high")),
        "p vs best (Holm)": ranking["p_vs_best_holm"],
        "notes": [", ".join(n for n, on in (("PARTIAL", p), ("optimistic", o),
                                            ("worse than best", w)) if on)
                  for p, o, w in zip(partial, ranking["optimistic"], ranking["worse_than_best"],
                                     strict=True)],
    })  # fmt: skip
    figure = forest(_forest_rows(result), res.primary, conf)
    return html.section(
        "Results", *notes, html.table(table, keys=2, marked=partial),
        "<h3>Every variant (forest plot)</h3>",
        html.image(figure, "forest plot of every variant") if figure else "",
        html.details("Every variant as a table", _variants(result)),
        "<h3>Every metric of the selected variants (mean ± std over folds)</h3>",
        _metrics_table(result),
    )  # fmt: skip


def _interval(low: pd.Series | None, high: pd.Series | None) -> list[str]:
    if low is None or high is None:
        return []
    return [f"[{html.fmt(a)}, {html.fmt(b)}]" for a, b in zip(low, high, strict=True)]


def _forest_rows(result: analysis.Analysis) -> pd.DataFrame:
    primary = result.summary[result.summary["metric"] == result.results.primary]
    primary = primary.dropna(subset=["mean"])
    rows = primary.sort_values("mean", ascending=not result.results.greater_is_better,
                               kind="stable")  # fmt: skip
    chosen = set(zip(result.ranking["model"], result.ranking["variant"], strict=True))
    folds, partial = models.fold_counts(result, rows)
    return pd.DataFrame({
        "label": [label(m, v) for m, v in zip(rows.model, rows.variant, strict=True)],
        "mean": rows["mean"].to_numpy(), "ci_low": rows["ci_low"].to_numpy(),
        "ci_high": rows["ci_high"].to_numpy(),
        "selected": [(m, v) in chosen for m, v in zip(rows.model, rows.variant, strict=True)],
        "partial": partial, "folds": folds,
    })  # fmt: skip


def _metrics_table(result: analysis.Analysis) -> str:
    metrics = _selected_metrics(result)
    if metrics.empty:
        return html.table(metrics)
    partial = {k for k, v in models.plot_labels(result).items() if "PARTIAL" in v}
    keys = zip(metrics["model"], metrics["variant"], strict=True)
    return html.table(metrics, marked=[k in partial for k in keys])


def _selected_metrics(result: analysis.Analysis) -> pd.DataFrame:
    keys = result.ranking[["model", "variant"]]
    rows = result.summary.merge(keys, on=["model", "variant"])
    # per-class scores go to each model's section (and the CSV/JSON), not here
    rows = rows[~rows["metric"].map(is_per_class).astype(bool)]
    if rows.empty:
        return rows
    rows = rows.assign(text=[f"{m:.4f} ± {s:.4f}" if s == s else f"{m:.4f}"
                             for m, s in zip(rows["mean"], rows["std"], strict=True)])  # fmt: skip
    return rows.pivot(index=["model", "variant"], columns="metric", values="text").reset_index()


def _comparison(result: analysis.Analysis) -> str:
    pairs = result.pairs
    if pairs.empty:
        return html.section("Comparison", html.para("Fewer than two models: nothing to compare.",
                                              "note"))  # fmt: skip
    alpha = result.results.alpha
    ratio = "1/(K−1)" if result.ratio is None else f"{result.ratio:.3f}"
    tested = int(pairs["p"].notna().sum())
    untested = len(pairs) - tested
    text = (
        f"Paired per-fold differences of {result.results.primary} between the selected "
        "variants, corrected resampled t-test (Nadeau & Bengio 2003; variance × (1/J + "
        f"n_test/n_train), n_test/n_train = {ratio}). p-values are Holm-corrected over "
        f"{tested} pair{'s' if tested != 1 else ''}"
        + (f" ({untested} of the {len(pairs)} pairs have too few common "
                             "folds for a test)" if untested else "")
        + f"; significant means p_holm < {alpha}. The table of every pair (difference, t, "
        "p) is in cv_summary.json."
    )  # fmt: skip
    labels = [label(m, v) for m, v in zip(result.ranking.model, result.ranking.variant,
                                          strict=True)]  # fmt: skip
    matrix = pvalue_matrix(labels, _p_matrix(result), alpha)
    sig = pairs[pairs["significant"]]
    lines = [
        f"{label(r.model_a, r.variant_a)} vs {label(r.model_b, r.variant_b)}: difference "
        f"{r.mean_diff:+.4f}, p_holm = {r.p_holm:.3g}"
        for r in sig.itertuples()
    ]
    verdict = (html.details(f"{len(lines)} significant pairs", html.items(lines)) if lines
               else html.para("No difference is significant.", "note"))  # fmt: skip
    image = html.image(matrix, "matrix of Holm-corrected p-values") if matrix else ""
    return html.section("Comparison", html.para(text, "note"), image, verdict)


def _p_matrix(result: analysis.Analysis) -> np.ndarray:
    """Symmetric matrix of p_holm in ranking order (NaN on the diagonal and where untested)."""
    keys = list(zip(result.ranking.model, result.ranking.variant, strict=True))
    at = {k: i for i, k in enumerate(keys)}
    out = np.full((len(keys), len(keys)), np.nan)
    for r in result.pairs.itertuples():
        i, j = at.get((r.model_a, r.variant_a)), at.get((r.model_b, r.variant_b))
        if i is not None and j is not None:
            out[i, j] = out[j, i] = r.p_holm
    return out


def param_grids(result: analysis.Analysis) -> list[tuple[str, list[str], pd.DataFrame]]:
    """(model, varied parameters, frame of those parameters with mean, ci_low, ci_high) for
    each ranked model (best first) whose variants vary 1 or 2 parameters."""
    return result.once("param_grids", lambda: _param_grids(result))


def _param_grids(result: analysis.Analysis) -> list[tuple[str, list[str], pd.DataFrame]]:
    res = result.results
    params = analysis.task_params(res)
    primary = result.summary[result.summary["metric"] == res.primary]
    order = list(result.ranking["model"]) if len(result.ranking) else []
    out = []
    for model in order:
        part = primary[primary["model"] == model].dropna(subset=["mean"])
        mine = {v: params[(model, v)] for v in part["variant"] if (model, v) in params}
        keys = analysis.varying_params(mine)
        if not 1 <= len(keys) <= 2:
            continue
        rows = part[part["variant"].isin(list(mine))]
        means = rows[["mean", "ci_low", "ci_high"]].assign(
            **{k: [_value(mine[v][k]) for v in rows["variant"]] for k in keys},
            partial=models.fold_counts(result, rows)[1],
        )
        out.append((model, keys, means))
    return out


def _hyperparameters(result: analysis.Analysis) -> str:
    """Per model whose variants vary 1 or 2 parameters: mean score against them."""
    primary = result.results.primary
    grids = param_grids(result)
    if not grids:
        return ""
    # all the figures of each kind at once: those not kept are drawn in parallel
    one = [(model, keys[0], means, primary) for model, keys, means in grids if len(keys) == 1]
    two = [(model, *keys, means, primary) for model, keys, means in grids if len(keys) == 2]
    images = iter(draw_many(grid_1d, one)), iter(draw_many(grid_2d, two))
    parts = [html.image(next(images[len(keys) - 1]), model) for model, keys, _ in grids]  # type: ignore[arg-type]
    note = html.para("Mean test score over each model's grid (1 or 2 parameters varied); "
                  "numeric values in numeric order.", "note")  # fmt: skip
    return html.section("Hyperparameters", note, f'<div class="half">{"".join(parts)}</div>')


def _value(value: object) -> object:
    """A parameter value as a plot label: numbers stay numbers (numeric order)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return json.dumps(value, default=str) if not isinstance(value, str) else value


def _variants(result: analysis.Analysis) -> str:
    primary = result.summary[result.summary["metric"] == result.results.primary]
    _, partial = models.fold_counts(result, primary)
    return html.table(primary.drop(columns="metric"), marked=partial)


def _separate(result: analysis.Analysis) -> str:
    res = result.results
    return html.section(
        "Refit and holdout (never averaged with the folds)",
        "<h3>Holdout metrics of the refit models</h3>",
        html.table(res.separate("holdout")),
        "<h3>Metrics logged by the refit tasks</h3>",
        html.table(res.separate("refit")),
    )


def _external(result: analysis.Analysis) -> str:
    res = result.results
    table = res.external()
    if table.empty:
        return ""
    note = (f"{res.primary} on each external set: the mean and std of the K fold models, "
            "the fold ensemble (their mean probability / score per sample) and the refit "
            "model. These rows are never averaged with the cross-validation folds.")  # fmt: skip
    return html.section("External sets (never averaged with the folds)", html.para(note, "note"),
                     html.table(table, keys=3))  # fmt: skip


def _plots(images: list[Path], problems: list[str]) -> str:
    parts = []
    for path in images:
        stem = path.stem
        title = PLOT_TITLES.get(stem, stem)
        parts.append(f"<h3>{html.esc(title)}</h3>{html.image(path, title)}")
    if problems:
        failed = html.para("Plots that failed:") + html.items(problems)
        parts.append(f'<div class="bad">{failed}</div>')
    if not parts:
        parts.append(html.para("No plot applies yet.", "note"))
    return html.section("Plots of the best models together", *parts)


def _balance(result: analysis.Analysis) -> str:
    details = analysis.split_details(result.results)
    if details is None:
        return html.section("Split balance", html.para("No split/details.json found.", "note"))
    top = {k: v for k, v in details.items() if not isinstance(v, dict | list)}
    parts = [html.table(pd.DataFrame([{"key": k, "value": str(v)} for k, v in top.items()]))]
    for key, value in details.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            flat = pd.json_normalize(value, max_level=1)
            flat = flat[[c for c in flat.columns if flat[c].map(_scalar).all()]].iloc[:, :30]
            parts += [f"<h3>{html.esc(key)}</h3>", html.table(flat)]
        elif isinstance(value, dict):
            parts += [f"<h3>{html.esc(key)}</h3>", html.json_block(value)]
    return html.section("Split balance (split/details.json)", *parts)


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


__all__ = ["index_page", "label"]
