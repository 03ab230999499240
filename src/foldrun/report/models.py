"""The per-model parts of index.html: the inventory of tasks (failures first, with their log
tails), time and memory, and one collapsible section per model with its plots and the
images its tasks wrote. Work per model is bounded: a few task folders are listed, at most
MAX_IMAGES images are embedded."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from foldrun.core.taskid import TaskId
from foldrun.layout import TaskFiles
from foldrun.report import analysis, html
from foldrun.report.figure_pool import draw_many
from foldrun.report.figures_models import model_figure
from foldrun.report.figures_training import read_curves
from foldrun.results.collect import key_mask
from foldrun.results.metrics import is_per_class

MAX_IMAGES = 6  # task-written images shown per model; the rest are counted
MAX_IMAGE_BYTES = 2_000_000  # a bigger image is named, not embedded
MAX_FAILURES = 20  # failed tasks shown with their log tails
TAIL_LINES = 12
FAILED = ".failed"


def label(model: str, variant: str) -> str:
    return model if variant == "default" else f"{model}/{variant}"


def planned_folds(result: analysis.Analysis) -> int:
    """(repeat, fold) pairs of the split: how many test scores a complete variant has."""
    return result.results.planned_folds


def fold_counts(result: analysis.Analysis, frame: pd.DataFrame) -> tuple[list[str], list[bool]]:
    """("4/5", partial?) per row of `frame` (with column n, and `undefined`: done folds whose
    score is NaN): partial = fewer done folds than the split has. A fold whose metric is
    undefined (one class in its test part) is done: "4/5, 1 undefined", never partial."""
    planned = planned_folds(result)
    zero = pd.Series(0, index=frame.index)
    n = frame["n"].fillna(0).astype(int) if "n" in frame else zero
    nan = frame["undefined"].fillna(0).astype(int) if "undefined" in frame else zero
    pairs = list(zip(n, nan, strict=True))
    text = [f"{k}/{planned}" + (f", {u} undefined" if u else "") for k, u in pairs]
    return text, [bool(k + u < planned) for k, u in pairs]


def undefined_note(result: analysis.Analysis, frame: pd.DataFrame) -> list[str]:
    """Per row of `frame` with undefined folds: why its primary metric is on fewer folds
    than it has done ("lr: roc_auc undefined on fold 1 (one class in the test part)")."""
    if "undefined" not in frame:
        return []
    res = result.results
    out = []
    for row in frame[frame["undefined"].fillna(0) > 0].itertuples():
        where = "; ".join(res.undefined_folds(row.model, row.variant))
        out.append(f"{label(row.model, row.variant)}: {res.primary} is undefined (NaN) on "
                   f"{where}; its mean and interval are over the other folds")  # fmt: skip
    return out


def plot_labels(result: analysis.Analysis) -> dict[tuple[str, str], str]:
    """Each ranked variant's label for plots, a partial one saying so ("gbm (PARTIAL 4/5)")."""
    ranking = result.ranking
    if ranking.empty:
        return {}
    folds, partial = fold_counts(result, ranking)
    keys = zip(ranking["model"], ranking["variant"], folds, partial, strict=True)
    return {(m, v): label(m, v) + (f" (PARTIAL {f})" if p else "") for m, v, f, p in keys}


# ---------------------------------------------------------------- inventory


def _task_counts(result: analysis.Analysis) -> pd.DataFrame:
    """Per model: tasks done, failed, not done (pending, stale, missing, ...)."""
    tasks = result.results.tasks
    rows: dict[str, dict[str, int]] = {}
    for model, state, n in (
        tasks.groupby(["model", "state"]).size().reset_index().itertuples(index=False)
    ):
        kind = state if state in ("done", "failed", "pruned") else "not done"
        rows.setdefault(model, {}).setdefault(kind, 0)
        rows[model][kind] += int(n)
    for line in result.missing:
        if line.endswith("(missing)"):  # inferred: not in the tasks table
            task = TaskId.parse(line.removesuffix(" (missing)"))  # analysis.py wrote the key
            model = task.model if task is not None else line
            rows.setdefault(model, {}).setdefault("not done", 0)
            rows[model]["not done"] += 1
    out = pd.DataFrame.from_dict(rows, orient="index").reindex(
        columns=["done", "failed", "not done", "pruned"]
    )
    out = out.fillna(0).astype(int)
    out.index.name = "model"
    return out.reset_index()


def inventory(result: analysis.Analysis) -> str:
    counts = _task_counts(result)
    if counts.empty:
        return html.section("Inventory", html.para("No task folder yet.", "note"))
    variants = result.results.tasks.groupby("model")["variant"].nunique()
    counts["variants"] = counts["model"].map(variants).fillna(0).astype(int)
    counts["status"] = [
        "failed" if f else "missing" if d == 0 else "partial" if nd else "complete"
        for d, f, nd in zip(counts["done"], counts["failed"], counts["not done"], strict=True)
    ]
    order = {"failed": 0, "missing": 1, "partial": 2, "complete": 3}
    counts = counts.sort_values(["status", "model"], key=lambda c: c.map(order).fillna(c)
                                if c.name == "status" else c, kind="stable")  # fmt: skip
    bad = counts["status"] != "complete"
    summary = ", ".join(f"{k}: {v}" for k, v in counts["status"].value_counts().items())
    parts = [html.para(f"Models by status — {summary}.", "note"),
             html.table(counts, ["model", "status", "variants", "done", "failed", "not done",
                              "pruned"], keys=1, marked=list(bad))]  # fmt: skip
    notes = undefined_note(result, result.ranking)
    if notes:  # done, yet fewer scores than done folds: say why (headline says it too)
        parts.append(html.para("Scored on fewer folds than done:", "note") + html.items(notes))
    parts += _failures(result)
    return html.section("Inventory (per model: complete / partial / failed / missing)", *parts)


def _failures(result: analysis.Analysis) -> list[str]:
    tasks = result.results.tasks
    failed = tasks[tasks["state"] == "failed"]
    if failed.empty:
        return []
    parts = [f"<h3>Failed tasks ({len(failed)})</h3>"]
    for row in failed.head(MAX_FAILURES).itertuples():
        log = _failure_log(Path(row.path))
        tail = _tail(log) if log else "(no log found)"
        where = str(log) if log else str(row.path)
        what = f"{row.model}/{row.variant} fold {row.fold} repeat {row.repeat} {row.stage}"
        parts.append(f'<div class="bad">{html.para(what)}{html.para(f"Log: {where}", "note")}'
                     f"{html.pre(tail)}</div>")  # fmt: skip
    if len(failed) > MAX_FAILURES:
        parts.append(html.para(f"… and {len(failed) - MAX_FAILURES} more failed tasks "
                            "(fold_summary.csv lists them all).", "note"))  # fmt: skip
    return parts


def _failure_log(path: Path) -> Path | None:
    for candidate in (path.with_name(path.name + FAILED) / TaskFiles.LOG, path / TaskFiles.LOG):
        if candidate.is_file():
            return candidate
    return None


def _tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last lines of a log, reading only its end (logs can be gigabytes)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 8192))
            text = f.read().decode("utf-8", errors="replace")
    except OSError as err:
        return f"(cannot read the log: {err})"
    return "\n".join(text.splitlines()[-lines:])


# ---------------------------------------------------------------- time and memory


def duration(seconds: float) -> str:
    if seconds != seconds:
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = seconds / 60
    if minutes < 60:
        return f"{minutes:.1f} min"
    return f"{int(minutes // 60)} h {round(minutes % 60):02d} min"


def resources(result: analysis.Analysis) -> str:
    tasks = result.results.tasks
    if tasks.empty or tasks["wall_s"].isna().all():
        return html.section("Time and memory", html.para("No resources.json yet.", "note"))
    folds = tasks[tasks["fold"] >= 0]
    per_fold = folds.groupby(["model", "variant", "repeat", "fold"])["wall_s"].sum(min_count=1)
    per_fold = per_fold.groupby("model")
    total = tasks.groupby("model")
    table = pd.DataFrame({
        "tasks": total.size(),
        "wall total": total["wall_s"].sum(min_count=1).map(duration),
        "CPU total": total["cpu_s"].sum(min_count=1).map(duration),
        "wall per fold (median)": per_fold.median().map(duration),
        "wall per fold (max)": per_fold.max().map(duration),
        "peak memory (MB, max)": total["peak_mb"].max().round().astype("Int64"),
    }).reset_index()  # fmt: skip
    text = ("From each task's resources.json: wall and CPU time summed over every task of "
            "the model (all variants, folds and stages); per fold = the stages of one "
            "variant's fold together.")  # fmt: skip
    return html.section(
        "Time and memory per model", html.para(text, "note"), html.table(table, keys=1)
    )


# ---------------------------------------------------------------- per-model sections


def interval_text(low: float, high: float, conf: int) -> str:
    """`95% interval [a, b]`; a single fold (a fixed split) has no between-fold interval."""
    if pd.isna(low) or pd.isna(high):
        return "no between-fold interval (one fold)"
    return f"{conf}% interval [{low:.4f}, {high:.4f}]"


def folds_text(count: object) -> str:
    """`3/5 folds`; `1/1 fold`."""
    return f"{count} fold" if str(count).split("/")[-1] == "1" else f"{count} folds"


def model_sections(result: analysis.Analysis) -> str:
    res = result.results
    ranking = result.ranking
    test = res.current_predictions
    test = test[(test["subset"] == "test") & (test["fold"] >= 0)]
    groups = test.groupby(["model", "variant"], sort=False).indices
    folds, partial = fold_counts(result, ranking) if len(ranking) else ([], [])
    conf = round(res.confidence * 100)
    sections = []  # (model, variant, title, oof, anchor, mark)
    for i, row in enumerate(ranking.itertuples()):
        title = (f"#{row.rank} {label(row.model, row.variant)} — {res.primary} "
                 f"{row.mean:.4f}, {interval_text(row.ci_low, row.ci_high, conf)}, "
                 f"{folds_text(folds[i])}" + (" — PARTIAL" if partial[i] else ""))  # fmt: skip
        rows = groups.get((row.model, row.variant))
        oof = _first_repeat(test.iloc[rows]) if rows is not None else None
        sections.append((row.model, row.variant, title, oof, f"model-{i + 1}",
                         f" (PARTIAL: {folds[i]} folds)" if partial[i] else ""))  # fmt: skip
    ranked = set(ranking["model"]) if len(ranking) else set()
    others = sorted(set(res.tasks["model"]) - ranked) if len(res.tasks) else []
    unscored = {u["model"] for u in res.unscored()}
    for model in others:
        title = f"{model} — no finished evaluate task: not ranked"
        if model in unscored:
            title = (f"{model} — {res.primary} is undefined (NaN) on every done test "
                     "fold: not ranked")  # fmt: skip
        variant = res.tasks.loc[res.tasks["model"] == model, "variant"].iloc[0]
        sections.append((model, variant, title, None, "", ""))
    if not sections:
        return ""
    # every model's tasks first, then every figure at once (drawn in parallel when not kept)
    by_variant = _first_fold_tasks(res.tasks)
    mine = [by_variant.get((m, v), _NO_TASKS) for m, v, *_ in sections]
    calls = [(label(m, v) + mark, res.task, oof if oof is None or "y_true" in oof else None,
              *_curves(tasks)) for (m, v, _, oof, _, mark), tasks in zip(sections, mine,
                                                                        strict=True)]  # fmt: skip
    figures = draw_many(model_figure, calls)
    per_class = _per_class_tables(result.summary, [(m, v) for m, v, *_ in sections])
    parts = [_model(m, v, title, anchor, tasks, figure, per_class.get((m, v)))
             for (m, v, title, _, anchor, _), tasks, figure in zip(sections, mine, figures,
                                                                   strict=True)]  # fmt: skip
    note = html.para(
        "Each model's selected variant: plots of its pooled out-of-fold test predictions "
        "(first repeat), its training curves (every fold) and the images its tasks wrote "
        "(first fold). Click a model to open it.",
        "note",
    )
    return html.section("Models", note, *parts)


def _first_repeat(part: pd.DataFrame) -> pd.DataFrame:
    part = part[part["repeat"] == part["repeat"].min()]
    return part.dropna(axis=1, how="all")


_NO_TASKS = pd.DataFrame({"fold": pd.Series(dtype="int64"), "path": pd.Series(dtype=str)})


def _first_fold_tasks(tasks: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    """Per (model, variant): its done tasks of the first repeat's folds (one pass, not a
    filter of the whole table per model)."""
    done = tasks[(tasks["fold"] >= 0) & (tasks["repeat"] == 0) & (tasks["state"] == "done")]
    done = done[["model", "variant", "fold", "path"]]
    return {key: part for key, part in done.groupby(["model", "variant"], sort=False)}


def _model(
    model: str,
    variant: str,
    title: str,
    anchor: str,
    mine: pd.DataFrame,
    figure: bytes | None,
    per_class: pd.DataFrame | None,
) -> str:
    body = []
    if figure:
        body.append(html.image(figure, f"plots of {label(model, variant)}"))
    else:
        body.append(html.para("No predictions or training curves to plot.", "note"))
    if per_class is not None:  # each class's precision, recall and F1 (mean over the folds)
        body.append("<h3>Per class (mean over test folds)</h3>" + html.table(per_class, keys=1))
    body.append(_task_images(mine))
    return html.details(title, *body, anchor=anchor, open_=anchor == "model-1")


def _per_class_tables(
    summary: pd.DataFrame, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], pd.DataFrame]:
    """The per-class table (class, precision, recall, f1) of each (model, variant) of
    `keys`: one pivot for all of them (a pivot per model cost a second over 55 models), of
    their rows only (not every variant's)."""
    rows = summary[summary["metric"].map(is_per_class).astype(bool)]
    rows = rows[key_mask(rows, ["model", "variant"], keys)]
    if rows.empty:
        return {}
    kind, _, cls = rows["metric"].str.partition("_").T.to_numpy()
    wide = rows.assign(kind=kind, cls=cls).pivot_table(
        index=["model", "variant", "cls"], columns="kind", values="mean", aggfunc="first"
    )
    out = {}
    for (model, variant), part in wide.groupby(level=["model", "variant"], sort=False):
        part = part.droplevel(["model", "variant"]).dropna(axis=1, how="all")
        part = part.reindex(columns=[c for c in ("precision", "recall", "f1") if c in part])
        out[(model, variant)] = part.reset_index().rename(columns={"cls": "class"}).round(4)
    return out


def _curves(tasks: pd.DataFrame) -> tuple[pd.DataFrame | None, int]:
    """The tasks' curve points (results/curves.py), and their unreadable lines."""
    rows, unreadable = [], 0
    for fold, path in zip(tasks["fold"], tasks["path"], strict=True):
        found, bad = read_curves(Path(path), "", int(fold))
        rows, unreadable = rows + found, unreadable + bad
    return (pd.DataFrame(rows) if rows else None), unreadable


def _task_images(tasks: pd.DataFrame) -> str:
    """The PNGs the tasks of the first fold wrote (embedded, at most MAX_IMAGES), and the
    other files they wrote, by name."""
    if tasks.empty:
        return ""
    first = tasks[tasks["fold"] == tasks["fold"].min()]
    images: list[Path] = []
    tables: list[Path] = []
    for path in first["path"]:
        try:
            names = sorted(Path(path).iterdir())
        except OSError:
            continue
        images += [p for p in names if p.suffix.lower() == ".png" and p.is_file()]
        tables += [p for p in names if p.suffix.lower() in (".csv", ".tsv") and p.is_file()]
    if not images and not tables:
        return ""
    fold = int(first["fold"].iloc[0])
    parts = [f"<h3>Files the tasks wrote (fold {fold})</h3>", '<div class="thumbs">']
    shown = 0
    for image in images:
        if shown == MAX_IMAGES:
            break
        size = image.stat().st_size
        if size > MAX_IMAGE_BYTES:
            parts.append(html.para(f"{image} ({size / 1e6:.1f} MB: too big to embed)", "note"))
            continue
        parts.append(html.image(image, image.name, caption=str(image)))
        shown += 1
    parts.append("</div>")
    if len(images) > shown:
        more = len(images) - shown
        parts.append(html.para(f"{more} more images in {Path(first['path'].iloc[0]).parent}.",
                            "note"))  # fmt: skip
    if tables:
        parts.append(html.para("Tables: " + ", ".join(str(t) for t in tables[:20])
                            + (f" and {len(tables) - 20} more" if len(tables) > 20 else ""),
                            "note"))  # fmt: skip
    return "".join(parts)
