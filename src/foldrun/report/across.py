"""`foldrun report RUN RUN ... --out DIR`: several runs compared as datasets (each run one
dataset): a ranking per dataset, a model x dataset table of the primary metric, and with 3
or more datasets the Friedman test with a Nemenyi critical-difference diagram
(critical_difference.png). Every number comes from each run's own results tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from foldrun.core.cells import spreadsheet_safe
from foldrun.report import html
from foldrun.report.figure_drawing import save
from foldrun.results import Results
from foldrun.results.across import AcrossDatasets, compare_across
from foldrun.results.source import run_names

SUMMARY_COLUMNS = ["dataset", "model", "variant", "metric", "n", "folds", "partial", "mean",
                   "std", "ci_low", "ci_high"]  # fmt: skip


def dataset_names(loaded: list[Results]) -> list[str]:
    """Each run's name (its spec's `name`, else its folder), made unique."""
    return run_names([res.source for res in loaded])


def long_scores(loaded: list[Results], names: list[str], metric: str) -> pd.DataFrame:
    """dataset, model, variant, n, folds ("4/5"), partial (fewer folds than the split has),
    mean, std, interval of `metric` over each run's folds."""
    parts = []
    for name, res in zip(names, loaded, strict=True):
        summary = res.summary()
        part = summary[summary["metric"] == metric].assign(dataset=name)
        n, planned = part["n"].fillna(0).astype(int), res.planned_folds
        # a done fold whose score is undefined (NaN) is no missing fold: never partial
        done = n + part["undefined"].fillna(0).astype(int) if "undefined" in part else n
        part = part.assign(folds=[f"{k}/{planned}" for k in n], partial=(done < planned).to_numpy())
        parts.append(part.reindex(columns=SUMMARY_COLUMNS))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SUMMARY_COLUMNS)


def unit(model: str, variant: str) -> str:
    return model if variant == "default" else f"{model}/{variant}"


def write_across(
    loaded: list[Results],
    names: list[str],
    folder: Path,
    linked: bool = False,
    missing: dict[str, int] | None = None,
) -> dict[str, object]:
    """index.html, cv_summary.json, fold_summary.csv (and the critical difference diagram)
    of the datasets `loaded`; `linked`: each dataset's own report is in `<name>/`, and
    `missing` says how many of its tasks are not done."""
    first = loaded[0]
    metric, greater = first.primary, first.greater_is_better
    scores = long_scores(loaded, names, metric)
    matrix = scores.assign(unit=[unit(m, v) for m, v in zip(scores["model"], scores["variant"],
                                                              strict=True)])  # fmt: skip
    table = matrix.pivot_table(index="unit", columns="dataset", values="mean", aggfunc="first")
    table = table.reindex(columns=names)
    alpha = first.alpha
    across = compare_across(table, greater, alpha)
    spreadsheet_safe(scores).to_csv(folder / "fold_summary.csv", index=False)
    plot = None
    if across.critical_difference is not None:
        plot = folder / "critical_difference.png"
        cd_diagram(across, plot)
    summary = {
        "primary_metric": metric,
        "greater_is_better": greater,
        "runs": [str(r.run_dir) for r in loaded],
        "scores": {u: {d: _num(v) for d, v in row.items()} for u, row in table.iterrows()},
        "partial": _partial(matrix),
        "across": across.to_dict(),
    }
    (folder / "cv_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    page = _page(loaded, names, scores, _marked(table, summary["partial"]), across, plot,
                 linked, missing or {})  # fmt: skip
    (folder / "index.html").write_text(page, encoding="utf-8")
    return summary


def _partial(matrix: pd.DataFrame) -> dict[str, dict[str, str]]:
    """unit -> dataset -> "4/5" where the unit has fewer folds than that dataset's split."""
    out: dict[str, dict[str, str]] = {}
    for row in matrix[matrix["partial"].astype(bool)].itertuples():
        out.setdefault(str(row.unit), {})[str(row.dataset)] = str(row.folds)
    return out


def _marked(table: pd.DataFrame, partial: dict[str, dict[str, str]]) -> pd.DataFrame:
    """The model x dataset table, a partial unit's row saying where ("lr (PARTIAL on
    siteA 4/5)"): its mean there is over fewer folds than the others'."""
    def name(unit: str) -> str:
        where = ", ".join(f"{d} {f}" for d, f in partial.get(unit, {}).items())
        return f"{unit} (PARTIAL on {where})" if where else unit

    return table.rename(index=name)


def _num(value: object) -> float | None:
    return None if pd.isna(value) else float(value)  # type: ignore[arg-type]


def _page(loaded, names, scores, table, across: AcrossDatasets, plot: Path | None,
          linked: bool = False, missing: dict[str, int] | None = None) -> str:  # fmt: skip
    metric = loaded[0].primary
    direction = "higher is better" if across.greater_is_better else "lower is better"
    each = "its folds" if linked else "each run's folds"
    parts = [html.section(
        "Models across datasets",
        html.para(f"{len(names)} dataset(s){'' if linked else ', one run each'}; {metric} "
               f"({direction}), the mean over {each}. A model missing on a dataset is left "
               "out of the ranks; one with fewer folds than the split (PARTIAL) is ranked "
               "on those it has."),
        _links(names, missing or {}) if linked else "",
        html.table(table.reset_index(), keys=1),
        _test_text(across),
        html.image(plot, "critical difference diagram") if plot is not None else "",
    )]  # fmt: skip
    for name in names:
        rows = scores[scores["dataset"] == name].sort_values(
            "mean", ascending=not across.greater_is_better, kind="stable")  # fmt: skip
        parts.append(html.section(f"Ranking on {name}", html.table(rows.drop(columns="dataset"))))
    return html.page(f"foldrun report: {len(names)} datasets", parts)


def _links(names: list[str], missing: dict[str, int]) -> str:
    """Links to each dataset's own report (`<name>/index.html`, relative); a partial one
    says so here too: its means are over the folds that are done, its inventory is there."""
    links = "".join(
        f'<li><a href="{html.esc(n)}/index.html">{html.esc(n)}</a>'
        + (f" (partial run: {missing[n]} task(s) not done)" if missing.get(n) else "")
        + "</li>"
        for n in names
    )
    return f"<p>Each dataset's full report (models, plots, comparison):</p><ul>{links}</ul>"


def _test_text(across: AcrossDatasets) -> str:
    if across.ranks.empty:
        return html.para(across.note, "note")
    ranks = ", ".join(f"{k} {v:.2f}" for k, v in across.mean_ranks.items())
    text = f"Mean rank per model (1 = best): {ranks}."
    if across.friedman_p is None:
        return html.para(f"{text} {across.note[:1].upper()}{across.note[1:]}.", "note")
    verdict = "differ" if across.friedman_p < across.alpha else "do not differ significantly"
    groups = "; ".join(" = ".join(c) for c in across.cliques()) or "none"
    return html.para(
        f"{text} Friedman test over the ranks: chi2 = {across.friedman_stat:.3f}, "
        f"p = {across.friedman_p:.4g}: the models {verdict} (alpha {across.alpha}). Nemenyi "
        f"critical difference {across.critical_difference:.3f}: models whose mean ranks "
        f"differ by less cannot be told apart (Demšar 2006). Such groups: {groups}.",
        "note",
    )


def cd_diagram(across: AcrossDatasets, path: Path) -> Path:
    """Mean ranks on an axis, the critical difference as a bar, and a line under each group
    of models the test cannot tell apart."""
    ranks = across.mean_ranks
    k = len(across.ranks)
    fig, ax = plt.subplots(figsize=(8, 1.6 + 0.3 * len(ranks)))
    ax.set_xlim(k + 0.5, 0.5)  # rank 1 on the right, as in Demšar's figures
    ax.set_ylim(len(ranks) + 1.5, -1.2)
    ax.get_yaxis().set_visible(False)
    ax.set_xlabel("mean rank (1 = best)")
    for y, (name, rank) in enumerate(ranks.items()):
        ax.plot([rank, rank], [-0.3, y + 1], color="0.4", lw=0.8)
        ax.text(rank, y + 1, f" {name} ({rank:.2f})", va="center", fontsize=9)
    cd = float(across.critical_difference or 0)
    ax.plot([1, 1 + cd], [-0.8, -0.8], color="black", lw=2)
    ax.text(1 + cd / 2, -1.0, f"CD = {cd:.2f}", ha="center", fontsize=9)
    for i, clique in enumerate(across.cliques()):
        low, high = ranks[clique].min(), ranks[clique].max()
        ax.plot([low, high], [-0.2 + 0.15 * i] * 2, color="tab:red", lw=3)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    return save(fig, path)
