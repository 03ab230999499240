"""`load_results`: the result tables of a run as pandas frames, and what is derived from them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from foldrun.errors import ReportError
from foldrun.results import collect
from foldrun.results.metrics import PRIMARY, greater_is_better, primary_among
from foldrun.results.refresh import refresh
from foldrun.results.source import RunSource, datasets_of, planned_tasks, resolve, views


@dataclass
class Results:
    """The four tables of a run (`tasks`, `metrics`, `predictions`, `folds`) of one run."""

    source: RunSource
    tasks: pd.DataFrame
    metrics: pd.DataFrame
    predictions: pd.DataFrame
    folds: pd.DataFrame
    options: dict[str, object] = field(default_factory=dict)
    planned: bool = False  # the plan said which tasks to expect (else: the folders alone)
    # model/variant folders the plan no longer holds: left out of every table, listed apart
    not_in_spec: list[str] = field(default_factory=list)
    _summaries: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    @property
    def run_dir(self) -> Path:
        return self.source.run_dir

    @cached_property
    def task(self) -> str:
        """classification / regression / multilabel: from the spec, else from the data."""
        if self.source.task:
            return self.source.task
        test = self.predictions[self.predictions["subset"] == "test"].head(5000)
        if len(test):
            return collect.infer_task(test.dropna(axis=1, how="all"))
        names = set(self.metrics["metric"])
        return "regression" if names & {"rmse", "mae", "r2"} else "classification"

    @cached_property
    def primary(self) -> str:
        """The spec's `[report] primary_metric`, else the task's default that is present,
        else the first test metric the programs wrote (a label-free run has no default).
        A chosen metric that no finished task has is an error naming those that exist."""
        present = set(self.metrics.loc[self.metrics["subset"] == "test", "metric"])
        chosen = self.options.get("primary_metric")
        if isinstance(chosen, str) and chosen.startswith(collect.EXTERNAL):
            return _external_primary(self.metrics, chosen)
        if isinstance(chosen, str) and chosen:
            name = chosen.removeprefix("test/")
            if present and name not in present:
                raise ReportError(
                    f"primary_metric {chosen!r} is in no finished task's test metrics; the "
                    f"metrics there are: {', '.join(sorted(present))}; name one of them",
                    key="report.primary_metric",
                )
            return name
        return primary_among(self.task, present) or PRIMARY.get(self.task, "roc_auc")

    @cached_property
    def current_metrics(self) -> pd.DataFrame:
        """`metrics` without the rows of stale tasks (done under other settings than the
        spec's now): they stay queryable but are never summarized with current ones."""
        stale = self.tasks[self.tasks["state"] == "stale"]
        current = self.metrics
        if not stale.empty:
            keys = list(stale[collect.KEY].itertuples(index=False, name=None))
            current = current[~collect.key_mask(current, collect.KEY, keys)]
        return _as_test_rows(current, self.options.get("primary_metric"))

    @cached_property
    def current_predictions(self) -> pd.DataFrame:
        """`predictions` without the rows of stale tasks (as current_metrics)."""
        return collect.without_stale(self.predictions, self.tasks)

    @property
    def greater_is_better(self) -> bool:
        lower = self.options.get("lower_is_better") or []
        return greater_is_better(self.primary, lower if isinstance(lower, list) else [])

    def option(self, name: str) -> object:
        """A `[report]` option as given, else its default (the spec's, the one owner)."""
        from foldrun.spec.report import ReportSpec  # lazy: pydantic, for one option

        value = self.options.get(name)
        return ReportSpec.model_fields[name].default if value is None else value

    @property
    def confidence(self) -> float:
        return float(self.option("confidence"))  # type: ignore[arg-type]

    @property
    def alpha(self) -> float:
        """The significance level of the model comparison."""
        return float(self.option("alpha"))  # type: ignore[arg-type]

    @cached_property
    def planned_folds(self) -> int:
        """(repeat, fold) pairs of the split: how many test scores a complete variant has
        (fewer: the variant is partial, and every table and plot says so)."""
        folds = self.folds
        if len(folds):
            return len(folds.loc[folds["fold"] >= 0, ["repeat", "fold"]].drop_duplicates())
        summary = self.summary()
        return int(summary["n"].max()) if len(summary) else 0

    def summary(self, subset: str = "test") -> pd.DataFrame:
        """Per model, variant and metric: n, mean, std, 95% t-interval over folds, and the
        pooled out-of-fold value (mean over repeats) in `pooled`. Computed once per subset
        (the ranking, the selection and the comparison all ask); a copy is returned."""
        if subset not in self._summaries:
            self._summaries[subset] = self._summary(subset)
        return self._summaries[subset].copy()

    def _summary(self, subset: str) -> pd.DataFrame:
        # lazy: scipy, for the numbers; loading the tables (a report kept as it was) needs none
        from foldrun.results import stats

        keys = ["model", "variant", "metric"]
        out = stats.summarize(self.current_metrics, subset, self.confidence)
        pooled = self.current_metrics[self.current_metrics["subset"] == "pooled"]
        pooled = pooled.groupby(keys)["value"].mean()
        out = out.merge(pooled.rename("pooled").reset_index(), on=keys, how="left")
        # folds whose score is NaN (undefined, e.g. AUC of a test part with one class): done,
        # so never "partial", but not in `n`, the mean or the interval
        m = self.current_metrics
        nan = m[(m["subset"] == subset) & (m["fold"] >= 0) & m["value"].isna()]
        undefined = nan.groupby(keys).size().rename("undefined").reset_index()
        out = out.merge(undefined, on=keys, how="left")
        out["undefined"] = out["undefined"].fillna(0).astype(int)
        return out

    def undefined_folds(self, model: str, variant: str, metric: str | None = None) -> list[str]:
        """Where `metric` (the primary) is NaN on a done fold, and why: ["fold 1: one class
        in the test part"] (`repeat 1 fold 1` with several repeats)."""
        m = self.current_metrics
        rows = m[(m["subset"] == "test") & (m["fold"] >= 0) & m["value"].isna()
                 & (m["model"] == model) & (m["variant"] == variant)
                 & (m["metric"] == (metric or self.primary))]  # fmt: skip
        several = self.tasks["repeat"].max() > 0 if len(self.tasks) else False
        out = []
        for repeat, fold in rows[["repeat", "fold"]].drop_duplicates().itertuples(index=False):
            where = f"repeat {repeat} fold {fold}" if several else f"fold {fold}"
            out.append(f"{where}: {self._why_undefined(model, variant, repeat, fold)}")
        return out

    def _why_undefined(self, model: str, variant: str, repeat: int, fold: int) -> str:
        p = self.current_predictions
        part = p[(p["model"] == model) & (p["variant"] == variant) & (p["repeat"] == repeat)
                 & (p["fold"] == fold) & (p["subset"] == "test")]  # fmt: skip
        if "y_true" in part and len(part) and part["y_true"].nunique() < 2:
            return "one class in the test part"
        return "undefined on this fold (NaN)"

    def unscored(self) -> list[dict[str, str]]:
        """The variants whose primary metric is NaN on every done test fold, so no score
        ranks them, each with why: [{"model", "variant", "why"}], `why` "one class in the
        test part on all 4 folds" when every fold has the one reason, else each fold's."""
        m = self.current_metrics
        test = m[(m["subset"] == "test") & (m["fold"] >= 0) & (m["metric"] == self.primary)]
        nan = test["value"].isna().groupby([test["model"], test["variant"]]).all()
        out = []
        for model, variant in nan[nan].index:
            folds = self.undefined_folds(model, variant)
            reasons = {f.split(": ", 1)[-1] for f in folds}
            why = (f"{reasons.pop()} on all {len(folds)} folds" if len(reasons) == 1
                   else "; ".join(folds))  # fmt: skip
            out.append({"model": str(model), "variant": str(variant), "why": why})
        return out

    def selected(self) -> pd.DataFrame:
        """The best variant per model on the primary metric (see compare.select_variants)."""
        # lazy: scipy, for the numbers; loading the tables (a report kept as it was) needs none
        from foldrun.results import compare

        return compare.select_variants(
            self.summary("test"),
            self.summary("val"),
            self.primary,
            self.greater_is_better,
            self.stopped_variants,
        )

    @cached_property
    def stopped_variants(self) -> set[tuple[str, str]]:
        """(model, variant) pairs a race stopped: some of their tasks are `pruned`."""
        pruned = self.tasks[self.tasks["state"] == "pruned"]
        return set(zip(pruned["model"], pruned["variant"], strict=True))

    def comparison(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(pairs, ranking) of the selected variants: corrected t-tests, Holm-corrected."""
        # lazy: scipy, for the numbers; loading the tables (a report kept as it was) needs none
        from foldrun.results import compare, stats

        ratio = stats.test_train_ratio(self.folds)
        return compare.compare_models(
            self.current_metrics,
            self.selected(),
            self.primary,
            self.greater_is_better,
            ratio,
            self.alpha,
        )

    def pooled_interval(
        self,
        model: str,
        variant: str,
        metric: str | None = None,
        part: pd.DataFrame | None = None,
    ) -> tuple[float, float]:
        """Bootstrap interval of a pooled out-of-fold metric (first repeat's predictions).
        `part`: this variant's test predictions, when the caller has them already."""
        if part is None:
            p = self.current_predictions
            part = p[(p["model"] == model) & (p["variant"] == variant) & (p["subset"] == "test")]
        part = part[(part["fold"] >= 0) & (part["repeat"] == part["repeat"].min())]
        part = part.dropna(axis=1, how="all")  # other models' columns
        if part.empty or self._pooled_undefined(model, variant, metric, part):
            return math.nan, math.nan  # no interval around a metric that has no value
        # lazy: scipy, for the numbers; loading the tables (a report kept as it was) needs none
        from foldrun.results import stats

        return stats.bootstrap_interval(
            part.reset_index(drop=True),
            self.task,
            metric or self.primary,
            n_boot=int(self.option("bootstrap")),  # type: ignore[call-overload]
            seed=int(self.option("seed")),  # type: ignore[call-overload]
            confidence=self.confidence,
        )

    def _pooled_undefined(
        self, model: str, variant: str, metric: str | None, part: pd.DataFrame
    ) -> bool:
        """Whether the pooled metric is undefined (NaN or absent) or the predictions hold
        NaN scores (a class missing from one fold's training rows): a bootstrap would
        rank NaN probabilities into an interval around no value."""
        m = self.current_metrics
        m = m[(m["model"] == model) & (m["variant"] == variant)]
        pooled = m[(m["subset"] == "pooled") & (m["metric"] == (metric or self.primary))]
        scores = [c for c in part.columns if c.startswith("proba_") or c == "score"]
        return pooled["value"].isna().all() or bool(part[scores].isna().to_numpy().any())

    def external(self, metric: str | None = None) -> pd.DataFrame:
        """External sets, never mixed with the folds: per model, variant and set, the fold
        models' mean and std, the fold ensemble and the refit model on `metric`."""
        m = self.current_metrics
        keys = ["model", "variant", "subset"]
        m = m[m["subset"].str.startswith("external:").fillna(False)
              & (m["metric"] == (metric or self.primary))]  # fmt: skip
        if m.empty:
            return pd.DataFrame(columns=["model", "variant", "set", "folds", "fold_mean",
                                         "fold_std", "ensemble", "refit"])  # fmt: skip
        by_set = {kind: m[m["model_set"] == kind].groupby(keys)["value"]
                  for kind in ("fold", "ensemble", "refit")}  # fmt: skip
        out = pd.concat([
            by_set["fold"].count().rename("folds"), by_set["fold"].mean().rename("fold_mean"),
            by_set["fold"].std().rename("fold_std"), by_set["ensemble"].first().rename("ensemble"),
            by_set["refit"].first().rename("refit"),
        ], axis=1).reset_index()  # fmt: skip
        out["subset"] = out["subset"].str.removeprefix("external:")
        return out.rename(columns={"subset": "set"})

    def separate(self, subset: str) -> pd.DataFrame:
        """Refit or holdout metrics (one value per model and variant), never mixed with folds."""
        rows = self.current_metrics[self.current_metrics["subset"] == subset]
        return rows.pivot_table(
            index=["model", "variant"], columns="metric", values="value", aggfunc="first"
        ).reset_index()


def _external_primary(metrics: pd.DataFrame, chosen: str) -> str:
    """`external:<set>/<metric>` as the primary metric, when some fold model has it."""
    external = metrics[metrics["subset"].astype(str).str.startswith(collect.EXTERNAL)]
    present = set(external["subset"].astype(str) + "/" + external["metric"].astype(str))
    if present and chosen not in present:
        raise ReportError(
            f"primary_metric {chosen!r} is in no finished task's external metrics; those "
            f"are: {', '.join(sorted(present))}; name one of them", key="report.primary_metric")
    return chosen


def _as_test_rows(metrics: pd.DataFrame, chosen: object) -> pd.DataFrame:
    """With `primary_metric = "external:<set>/<metric>"`: each fold model's score on the set
    also as a test row of that name, so the ranking, the comparison and the report across
    datasets rank on it as on any test metric (one score per fold model)."""
    if not (isinstance(chosen, str) and chosen.startswith(collect.EXTERNAL)):
        return metrics
    subset, _, metric = chosen.rpartition("/")
    rows = metrics[(metrics["subset"] == subset) & (metrics["metric"] == metric)
                   & (metrics["fold"] >= 0)]  # fmt: skip
    if rows.empty:
        return metrics
    return pd.concat([metrics, rows.assign(subset="test", metric=chosen)], ignore_index=True)


def load_results(
    run_dir_or_spec: str | Path | RunSource, refresh_tables: bool = True, dataset: str | None = None
) -> Results:
    """Refreshes results/*.parquet from the task folders and returns them as a Results.

    `run_dir_or_spec` is a spec file (its `output` is the run folder) or a run folder. A
    run with `[datasets]` has a Results per dataset: name it with `dataset`.
    """
    source = run_dir_or_spec if isinstance(run_dir_or_spec, RunSource) else resolve(run_dir_or_spec)
    source = _one_dataset(source, dataset)
    if not source.run_dir.is_dir():
        raise ReportError(
            f"the run folder {source.run_dir} does not exist; run `foldrun run SPEC` first",
            file=source.spec_path,
            key="output",
        )
    planned = planned_tasks(source)
    tables = refresh(source.run_dir, planned, source.task, source.dataset, source.planned)
    return Results(
        source=source,
        tasks=tables.tasks,
        metrics=tables.metrics,
        predictions=tables.predictions,
        folds=tables.folds,
        options=dict(source.report_options),
        planned=source.planned,
        not_in_spec=_not_in_spec(source, planned, tables.found),
    )


def _not_in_spec(
    source: RunSource, planned: list, found: frozenset[tuple[str, str]]  # type: ignore[type-arg]
) -> list[str]:
    """`model/variant` of the task folders (`found`: the refresh's walk of tasks/) a
    planned spec no longer holds (a model or grid value removed): never ranked or
    counted, only named."""
    if not source.planned:
        return []
    kept = {(p.ref.model, p.ref.variant) for p in planned}
    return sorted(f"{m}/{v}" for m, v in found - kept)


def _one_dataset(source: RunSource, dataset: str | None) -> RunSource:
    """The view of `dataset` in a run with datasets; the run itself otherwise."""
    names = datasets_of(source)
    if dataset is None and not names:
        return source
    if dataset is not None and dataset in names:
        return views(source)[names.index(dataset)]
    if dataset is not None and not names:
        raise ReportError(
            f"the run has no datasets, so there is no dataset {dataset!r}; leave it out",
            file=source.spec_path,
            key="datasets",
        )
    unknown = f"no dataset {dataset!r}; " if dataset is not None else ""  # a typo: say so
    raise ReportError(
        f"{unknown}the run has datasets {', '.join(names)}: name one (dataset=...), or report them "
        "all with `foldrun report`",
        file=source.spec_path,
        key="datasets",
    )
