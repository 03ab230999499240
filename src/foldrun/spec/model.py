"""The typed objects of `foldrun.toml` (pydantic v2, unknown keys forbidden everywhere).

Paths in the spec are relative to the spec file; `Spec.path` is set by `load_spec`, and the
`*_path` / `run_dir` properties resolve them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from foldrun.core.strategies import MANIFEST_FORMATS, STRATEGIES
from foldrun.core.task import STAGES
from foldrun.core.templates import (
    BUILTIN_PLACEHOLDERS,
    builtin_samples,
    format_problem,
    format_specs,
    placeholders,
    switches,
    unfilled_problems,
)
from foldrun.layout import RunLayout
from foldrun.spec.inputs import ConfigSpec, ManifestsSpec
from foldrun.spec.mlflow import MlflowSpec
from foldrun.spec.outputs import MetricsSource, PredictionsSpec
from foldrun.spec.problems import did_you_mean
from foldrun.spec.race import RaceSpec
from foldrun.spec.report import ReportSpec
from foldrun.spec.resources import ResourcesSpec
from foldrun.spec.slurm import SlurmSpec
from foldrun.spec.table import TABLE_SUFFIXES

MODEL_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
PROGRAM_STAGES = STAGES[:2]  # the fold stages a command model may name (train, predict)
TaskKind = Literal["classification", "regression", "multilabel"]
Grid = dict[str, list[Any]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _check_grid(grid: Grid) -> Grid:
    for key, values in grid.items():
        if not key.strip():
            raise ValueError("a grid key is empty; name the parameter it varies")
        if not values:
            raise ValueError(f"grid '{key}' is an empty list; give at least one value")
        if len({_canonical(v) for v in values}) != len(values):
            raise ValueError(f"grid '{key}' lists a value twice: {values!r}")
    return grid


def _canonical(value: Any) -> str:
    return f"{type(value).__name__}:{value!r}"


def check_path(value: str | None, what: str) -> str | None:
    """A path of the spec that the file system can take: no NUL byte, a `~user` that exists."""
    if value is None:
        return value
    if "\x00" in value:
        raise ValueError(f"{what} holds a NUL byte (\\u0000); remove it from the path")
    if value.startswith("~"):
        try:
            Path(value).expanduser()
        except RuntimeError:
            user = value[1:].split("/", 1)[0]
            raise ValueError(
                f"{what} {value!r} starts with ~{user}, but there is no such user's home; "
                "write the path out in full"
            ) from None
    return value


def check_seed(seed: object) -> None:
    """A seed numpy takes: a whole number in [0, 2**63)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ValueError(
            f"seed must be a whole number from 0 to 2**63 - 1, got {seed!r}; use e.g. 0"
        )


class DataSpec(_Strict):
    """The data table: its rows are split into folds; its columns are the id, the target,
    the group and the features."""

    table: str = Field(description=(
        "The data table (.csv, .tsv or .parquet), relative to the spec."))
    id: str | None = Field(None, description="The id column (default: the row number).")
    target: str | list[str] | None = Field(None, description=(
        "The label column, or several 0/1 columns (multilabel); none: a label-free "
        "experiment whose programs write their own metrics."))  # fmt: skip
    group: str | list[str] | None = Field(None, description=(
        "The column whose rows always share a fold (a subject, a patient); a list: a "
        "composite key."))  # fmt: skip
    features: list[str] | None = Field(None, description=(
        "The feature columns (default: every numeric column but id, target and group)."))
    task: TaskKind | None = Field(None, description=(
        "classification, regression or multilabel (default: inferred from the target)."))
    # a pandas query (`DataFrame.query`) choosing the rows the split uses: only they get
    # into folds (a `[datasets.<name>] filter` sets it per dataset)
    filter: str | None = Field(None, description=(
        "A pandas query choosing the rows the split uses, e.g. \"site == 'A'\"."))

    @property
    def targets(self) -> list[str]:
        """The target column(s); none for a label-free experiment."""
        if self.target is None:
            return []
        return list(self.target) if isinstance(self.target, list) else [self.target]

    @property
    def groups(self) -> list[str]:
        """The group column(s): several for a composite key."""
        return [self.group] if isinstance(self.group, str) else list(self.group or [])

    @field_validator("group")
    @classmethod
    def _group_not_empty(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and (not value or len(set(value)) != len(value)):
            raise ValueError("group is an empty list or names a column twice; name each "
                             "column of the key once")  # fmt: skip
        return value

    @field_validator("target")
    @classmethod
    def _target_not_empty(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and not value:
            raise ValueError("target is an empty list; name one column or several 0/1 columns")
        return value

    @field_validator("table")
    @classmethod
    def _table_path(cls, value: str) -> str:
        return check_path(value, "table") or value

    @model_validator(mode="after")
    def _features_not_labels(self) -> DataSpec:
        """A feature that is the target, the id or the group leaks the answer (or the row's
        identity) into the model: refused, never silently scored."""
        if self.features is None:
            return self
        twice = sorted({f for f in self.features if self.features.count(f) > 1})
        if twice:
            raise ValueError(f"features lists {twice[0]!r} twice; name each column once")
        roles = [("target", t) for t in self.targets] + [("id", self.id)]
        roles += [("group", g) for g in self.groups]
        for role, column in roles:
            if column is not None and column in self.features:
                raise ValueError(
                    f"features include {column!r}, the {role} column: a model would see the "
                    f"{'answer' if role == 'target' else role} (leakage); remove it from features"
                )
        return self


class SplitSpec(_Strict):
    """The options of `foldrun split`, or `from` an existing split folder."""

    from_: str | None = Field(default=None, alias="from", description=(
        "An existing split folder (`foldrun split --out`) to reuse instead of splitting."))
    strategy: str | None = Field(None, description=(
        "auto, kfold, stratified, grouped, stratified-grouped, continuous, multilabel, "
        "predefined or fixed, each also as repeated-<strategy> (default: auto, chosen "
        "from the target and the group)."))  # fmt: skip
    folds: int | None = Field(default=None, ge=2, description="Number of test folds (default 5).")
    val: str | float | None = Field(None, description=(
        "The validation set of each fold: \"next-fold\" (fold f+1's test rows), a fraction "
        "of the training rows, or \"none\"."))  # fmt: skip
    holdout: float | None = Field(default=None, gt=0, lt=1, description=(
        "A fraction of the rows kept out of every fold, scored by the refit model."))
    repeats: int | None = Field(default=None, ge=1, description=(
        "Repetitions of the k-fold split with other seeds."))
    inner: int | None = Field(default=None, ge=2, description=(
        "Inner folds of each outer training set: nested selection of the variants."))
    bins: int | None = Field(default=None, ge=2, description=(
        "Quantile bins of a continuous target (strategy continuous)."))
    seed: int | None = Field(None, description="Seed of the split and of {seed} (default 0).")
    stratify: str | list[str] | None = Field(None, description=(
        "Column(s) whose values are spread evenly over the folds (beside the target)."))
    fold_column: str | list[str] | None = Field(None, description=(
        "A column holding each row's fold, or fold table file(s) listing the rows per fold."))
    # the format of the train/val/test manifests ({train} ... name them): csv or parquet;
    # not a fold option (`options()`), but part of the split a run made (plan/split.py)
    manifests: str | None = Field(None, description=(
        "Format of the train/val/test manifests ({train} ...): csv (default) or parquet."))
    # not a fold option either: whether rows a fold table places in no fold (and keys the
    # data table lacks) are meant; check and run refuse them otherwise (plan/split.py)
    unlisted: Literal["error", "sit out"] | None = Field(None, description=(
        "Rows a fold table lists in no fold, and keys the data table lacks: \"error\" "
        "(default) or \"sit out\" (they take no part)."))

    @field_validator("manifests")
    @classmethod
    def _manifest_format(cls, value: str | None) -> str | None:
        if value is not None and value not in MANIFEST_FORMATS:
            raise ValueError(f"manifests must be 'csv' or 'parquet', got {value!r}")
        return value

    @property
    def manifest_format(self) -> str:
        """`manifests`, "csv" when not set."""
        return self.manifests or "csv"

    @field_validator("seed")
    @classmethod
    def _seed(cls, value: int | None) -> int | None:
        if value is not None:
            check_seed(value)
        return value

    @field_validator("from_", "fold_column")
    @classmethod
    def _paths(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list):
            return [str(check_path(v, "the path")) for v in value]
        return check_path(value, "the path")

    def fold_tables(self) -> list[str]:
        """The fold table files `fold_column` names (relative to the spec); [] for a column."""
        value = self.fold_column
        if isinstance(value, list):
            return value
        return [value] if value and value.lower().endswith(TABLE_SUFFIXES) else []

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, value: str | None) -> str | None:
        if value is None:
            return value
        base = value.removeprefix("repeated-")
        if base not in STRATEGIES:
            raise ValueError(
                f"unknown strategy {value!r}; use one of: {', '.join(STRATEGIES)}"
                " (each also as 'repeated-<strategy>')"
            )
        return value

    @field_validator("val")
    @classmethod
    def _known_val(cls, value: str | float | None) -> str | float | None:
        if value is None or value in ("next-fold", "none"):
            return value
        try:
            fraction = float(value)
        except ValueError:
            raise ValueError(
                f"val must be 'next-fold', 'none' or a fraction in (0, 1), got {value!r}"
            ) from None
        if not 0 < fraction < 1:
            raise ValueError(f"val fraction must be in (0, 1), got {value!r}")
        return fraction

    @model_validator(mode="after")
    def _from_alone(self) -> SplitSpec:
        if self.from_ is not None:
            extra = [k for k in self.options() if k != "seed"]
            extra += ["manifests"] if self.manifests is not None else []
            if extra:
                raise ValueError(
                    f"'from' reuses an existing split, so {', '.join(extra)} cannot be set "
                    "with it; remove them or remove 'from'"
                )
        return self

    def options(self) -> dict[str, Any]:
        """The split options that were set (without `from`), as `make_folds` keywords."""
        dumped = self.model_dump(exclude={"from_", "manifests", "unlisted"})
        return {k: v for k, v in dumped.items() if v is not None}


class DefaultsSpec(_Strict):
    """What every model gets unless it says otherwise."""

    resources: ResourcesSpec = Field(default_factory=ResourcesSpec, description=(
        "The resources of every task (cpus, gpus, mem, time), unless a model's or "
        "stage's own say otherwise."))  # fmt: skip
    # the user's scripts and modules beside the spec are part of each task's fingerprint
    fingerprint_code: bool = Field(True, description=(
        "The user's scripts and modules beside the spec are part of each task's fingerprint "
        "(an edit makes its tasks stale)."))  # fmt: skip
    code: list[str] = Field(default_factory=list, description=(
        "More files in every task's fingerprint: files, folders or globs relative to the "
        "spec (\"src/\", \"configs/base.yaml\")."))  # fmt: skip


class CurvesSpec(_Strict):
    """The file a model writes its training curves to, and its form (results/curves.py)."""

    file: str = Field("{out}/metrics.jsonl", description=(
        "The curves file the program writes (placeholders as in its commands; default "
        "{out}/metrics.jsonl); JSONL, or CSV/TSV by extension."))  # fmt: skip
    format: Literal["long", "wide"] | None = Field(None, description=(
        "long: step or epoch, phase, metric, value per line; wide: a step column and a "
        "column per metric (default: told per line)."))  # fmt: skip


class StageSpec(_Strict):
    """Settings of one stage of a model (train, predict, evaluate, refit)."""

    grid: Grid = Field(default_factory=dict, description=(
        "A grid of this stage alone: its variants reuse the earlier stages' outputs."))
    resources: ResourcesSpec | None = Field(None, description="This stage's resources.")
    metrics: list[MetricsSource] = Field(default_factory=list, description=(
        "Files this stage's program writes its metrics to."))
    config: ConfigSpec | None = Field(None, description=(
        "This stage's config file (over the model's [models.X.config])."))

    @field_validator("grid")
    @classmethod
    def _valid_grid(cls, grid: Grid) -> Grid:
        return _check_grid(grid)


class ModelSpec(_Strict):
    """One model: a scikit-learn estimator, a Python function (entry) or command templates."""

    # resolved when the spec is read (spec/extends.py): a loaded model never holds it
    extends: str | None = Field(None, description=(
        "Another model or a [templates.<name>] table whose keys this model starts from; "
        "its own keys win, tables merge key by key."))
    estimator: str | None = Field(None, description=(
        'A scikit-learn estimator, "module:Class" (e.g. "sklearn.svm:SVC"), fit in-process.'))
    entry: str | None = Field(None, description=(
        'A Python function "module:function" called once per fold with the fold\'s context.'))
    train: str | None = Field(None, description=(
        "The command that trains on a fold: a template with {train}, {val}, {test}, {out}, "
        "{predictions}, {fold}, {seed} and the params as placeholders."))  # fmt: skip
    predict: str | None = Field(None, description=(
        "The command that writes {predictions} for the fold's {test} (and {val}) rows."))
    evaluate: str | None = Field(None, description=(
        "A command scoring the predictions instead of foldrun's own evaluate."))
    refit: str | None = Field(None, description=(
        "The command that trains the final model on every row (after the folds)."))
    params: dict[str, Any] = Field(default_factory=dict, description=(
        "Fixed parameters: constructor arguments, or placeholders of the templates."))
    grid: Grid = Field(default_factory=dict, description=(
        "Parameter -> list of values: one variant per combination, each run on every fold."))
    preprocess: list[str] = Field(default_factory=list, description=(
        'Transformers ("module:Class") put before an estimator in its pipeline.'))
    resources: ResourcesSpec | None = Field(None, description=(
        "This model's resources (over [defaults] resources)."))
    stages: dict[str, StageSpec] = Field(default_factory=dict, description=(
        "Per stage (train, predict, evaluate, refit): its own grid, resources, metrics."))
    # the program's own files: metrics read after its last fold stage (`metrics_for`), and
    # its predictions in its own columns
    metrics: list[MetricsSource] = Field(default_factory=list, description=(
        "Files the program writes its metrics to, read after its last fold stage."))
    predictions: PredictionsSpec | None = Field(None, description=(
        "The program's predictions file and its columns (id, pred, score or proba)."))
    curves: CurvesSpec | None = Field(None, description=(
        "The program's training curves file and its form (long or wide), drawn in the "
        "report and exported to MLflow."))  # fmt: skip
    # the program's inputs as it expects them (spec/inputs.py): its own feature columns
    # (over [data] features), manifest column names, a config file rendered per task
    features: list[str] | None = Field(None, description=(
        "This model's feature columns, over [data] features (a command model's manifests "
        "keep the id, target, group and these)."))  # fmt: skip
    manifests: ManifestsSpec | None = Field(None, description=(
        "The manifests in the program's column names (rename)."))
    config: ConfigSpec | None = Field(None, description=(
        "A config file rendered per task from a template beside the spec, passed as {config}."))
    code: list[str] = Field(default_factory=list, description=(
        "More files in this model's fingerprint (over [defaults] code): files, folders or "
        "globs relative to the spec."))  # fmt: skip

    @field_validator("grid")
    @classmethod
    def _valid_grid(cls, grid: Grid) -> Grid:
        return _check_grid(grid)

    @field_validator("features")
    @classmethod
    def _features_listed_once(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or len(set(value)) != len(value)):
            raise ValueError("features is empty or names a column twice; name each once")
        return value

    @model_validator(mode="after")
    def _inputs_of_programs(self) -> ModelSpec:
        if self.manifests is not None and self.kind != "command":
            raise ValueError("'manifests' renames a command model's manifest columns; an "
                             "estimator or entry model reads them as they are")  # fmt: skip
        configs = self.config or any(s.config for s in self.stages.values())
        if configs and self.kind != "command":
            raise ValueError(
                "'config' writes a config file for a command model's program, passed as "
                "{config}; an estimator or entry model takes params"
            )
        return self

    def config_for(self, stage: str) -> ConfigSpec | None:
        """The config file of `stage`: its own, else the model's; none for a stage without
        a program (foldrun's own evaluate)."""
        if self.template(stage) is None:
            return None
        own = self.stages.get(stage)
        return own.config if own is not None and own.config is not None else self.config

    @model_validator(mode="after")
    def _one_kind(self) -> ModelSpec:
        kinds = [
            name
            for name, set_ in (
                ("estimator", self.estimator is not None),
                ("entry", self.entry is not None),
                ("command templates", self.train is not None or self.predict is not None),
            )
            if set_
        ]
        if len(kinds) != 1:
            found = " and ".join(kinds) if kinds else "none of them"
            raise ValueError(
                "a model needs exactly one of 'estimator', 'entry' or command templates "
                f"('train', 'predict'); found {found}"
            )
        if self.kind == "command" and self.train is None and self.predict is None:
            raise ValueError(
                "a command model needs a 'train' or a 'predict' template (train alone is a "
                "program that trains and evaluates itself)"
            )
        for stage in ("refit", "evaluate"):
            if getattr(self, stage) is not None and self.kind != "command":
                raise ValueError(f"'{stage}' is a command template; only command models take it")
        if self.preprocess and self.kind != "estimator":
            raise ValueError("'preprocess' applies to estimator models only")
        return self

    def problems(self, has_target: bool = True) -> list[tuple[str, str]]:
        """(key below the model, message) for stages and placeholders that cannot work."""
        found = self._stage_problems(has_target) + self._placeholder_problems()
        found += self._param_name_problems() + self._curves_problems()
        return found + self._metrics_problems(has_target)

    def _metrics_problems(self, has_target: bool) -> list[tuple[str, str]]:
        """A metrics file must name placeholders its stage has, on a stage a program runs."""
        sources = [("metrics", self.metrics_stage, self.metrics)]
        sources += [(f"stages.{n}.metrics", n, s.metrics) for n, s in self.stages.items()]
        if self.kind == "estimator":  # foldrun fits, predicts and scores it: no file of its own
            return self._estimator_files_problems(sources)
        found = []
        for key, stage, listed in sources:
            runs = self.runs_program(stage)
            if listed and not runs and stage in self.stage_names(has_target):
                message = (f"{stage} is foldrun's own stage: it writes no files to read "
                           "metrics from; declare them on the stage that does")  # fmt: skip
                found.append((key, message))
            allowed = self.allowed_placeholders(stage)
            for i, source in enumerate(listed):
                for name in sorted(placeholders(source.file) - allowed):
                    hint = did_you_mean(name, sorted(allowed), "use one of")
                    found.append((f"{key}[{i}].file", f"unknown placeholder {{{name}}}{hint}"))
        return found

    def _estimator_files_problems(
        self, sources: list[tuple[str, str, list[MetricsSource]]]
    ) -> list[tuple[str, str]]:
        """An estimator writes no files of its own: foldrun writes its predictions and
        metrics, so `metrics` and `predictions` have nothing to read."""
        keys = [key for key, _, listed in sources if listed]
        keys += ["predictions"] if self.predictions is not None else []
        return [(key, f"an estimator model writes no {key.rsplit('.', 1)[-1]} files of its "
                      "own (foldrun writes its predictions and scores them); remove "
                      f"{key}, or make it an entry or command model")
                for key in keys]  # fmt: skip

    def runs_program(self, stage: str) -> bool:
        """Whether `stage` runs the user's program (a command's template; an entry's
        function, called by train and refit: its predict copies, its evaluate is foldrun's)."""
        if self.kind == "entry":
            return stage in ("train", "refit")
        return self.template(stage) is not None

    @property
    def metrics_stage(self) -> str:
        """The stage the model's own `metrics` are read after: its last fold stage that
        runs a program (a user evaluate, else predict, else train)."""
        return "evaluate" if self.evaluate else "predict" if self.predict else "train"

    def metrics_for(self, stage: str) -> list[MetricsSource]:
        """The metrics files read after `stage`: the stage's own, and the model's for its
        `metrics_stage`."""
        own = self.stages[stage].metrics if stage in self.stages else []
        return [*own, *(self.metrics if stage == self.metrics_stage else [])]

    def _stage_problems(self, has_target: bool) -> list[tuple[str, str]]:
        stages = self.stage_names(has_target)
        found, seen = [], set(self.grid)
        for name, stage in self.stages.items():
            key = f"stages.{name}"
            if name not in stages:
                hint = did_you_mean(name, stages, "this model's stages")
                found.append((key, f"this model has no stage {name!r}{hint}"))
            elif name == "evaluate" and stage.grid and self.evaluate is None:
                found.append((key + ".grid", "evaluate is foldrun's own stage; it takes no grid"))
            for twice in sorted(seen & stage.grid.keys()):
                found.append(
                    (
                        f"{key}.grid",
                        f"{twice!r} is already in another grid of this model; "
                        "a key may vary in one grid only",
                    )
                )
            seen |= stage.grid.keys()
        return found

    def _curves_problems(self) -> list[tuple[str, str]]:
        """`curves.file` names placeholders the train stage has."""
        if self.curves is None:
            return []
        allowed = self.allowed_placeholders("train")
        return [("curves.file", f"unknown placeholder {{{name}}}"
                 f"{did_you_mean(name, sorted(allowed), 'use one of')}")
                for name in sorted(placeholders(self.curves.file) - allowed)]  # fmt: skip

    def _param_name_problems(self) -> list[tuple[str, str]]:
        """A command model's param (or grid key) named like a built-in placeholder: the
        template could not tell them apart (`seed = 99` would reach the program as the
        split's seed while params.json says 99). Estimator and entry params are arguments
        of the user's class or function and keep any name."""
        if self.kind != "command":
            return []
        named = [("params", self.params), ("grid", self.grid)]
        named += [(f"stages.{n}.grid", stage.grid) for n, stage in self.stages.items()]
        return [
            (f"{where}.{name}", f"{name!r} is foldrun's own placeholder {{{name}}} in a command "
                                f"template; rename the param (e.g. {name}_)")
            for where, values in named
            for name in values
            if name in BUILTIN_PLACEHOLDERS
        ]

    def _placeholder_problems(self) -> list[tuple[str, str]]:
        found = []
        for stage in STAGES:
            template = self.template(stage)
            if template is None:
                continue
            allowed = self.allowed_placeholders(stage)
            found += [(stage, message) for message in self._switch_problems(template)]
            found += [(stage, message) for message in self._format_problems(template, stage)]
            found += [(stage, message) for message in unfilled_problems(template, allowed)]
            found += [(stage, message) for message in self._config_problems(template, stage)]
            if stage == "refit" and "val" in placeholders(template):
                found.append((stage, "{val} is used but refit has no val set (it trains on "
                                     "every non-holdout row); remove {val}"))  # fmt: skip
            for name in sorted(placeholders(template) - allowed):
                hint = did_you_mean(name, sorted(allowed), "use one of")
                found.append(
                    (
                        stage,
                        f"unknown placeholder {{{name}}}{hint} (keys of params and grids "
                        "are placeholders too; write {{ }} for a literal brace)",
                    )
                )
        return found

    def _switch_problems(self, template: str) -> list[str]:
        """`{name?--flag}` needs true or false in the params and in every grid value."""
        found = []
        for name in sorted(switches(template)):
            if name in BUILTIN_PLACEHOLDERS and name not in self.params:
                found.append(f"{{{name}?...}} is a switch, but {{{name}}} is foldrun's own "
                             "value, not true or false; use a boolean param")  # fmt: skip
                continue
            values = self._values_of(name)
            bad = [v for v in values if not isinstance(v, bool)]
            if bad:
                found.append(f"{{{name}?...}} is a switch: {name} must be true or false, "
                             f"not {bad[0]!r}; fix the value or use {{{name}}}")  # fmt: skip
        return found

    def _config_problems(self, template: str, stage: str) -> list[str]:
        """`{config}` needs a config file; the values of `set` use known placeholders."""
        config = self.config_for(stage)
        if config is None:
            return ["{config} is used but this stage has no config file; add "
                    "[models.<name>.config] template = ..."] if "config" in placeholders(
                        template) else []  # fmt: skip
        allowed = self.allowed_placeholders(stage)
        used = [placeholders(str(v)) for v in (config.set or {}).values() if isinstance(v, str)]
        unknown = sorted(set().union(*used) - allowed)
        return [f"config.set: unknown placeholder {{{name}}}" for name in unknown[:1]]

    def _values_of(self, name: str) -> list[Any]:
        """Every value a param takes: in params and in each grid."""
        values = [self.params[name]] if name in self.params else []
        for grid in [self.grid, *(s.grid for s in self.stages.values())]:
            values += list(grid.get(name, []))
        return values

    def _format_problems(self, template: str, stage: str) -> list[str]:
        """`{name:spec}` must format every value the name takes in `stage`."""
        found = []
        for name, spec in format_specs(template):
            if name not in self.allowed_placeholders(stage):
                continue  # an unknown placeholder: said once, as such
            values = self._values_of(name) or builtin_samples(name, stage)
            found += [p for v in values if (p := format_problem(name, spec, v))][:1]
        return found

    def allowed_placeholders(self, stage: str) -> set[str]:
        """Built-in placeholders, params, the model grid, and grids of stages up to `stage`."""
        allowed = set(BUILTIN_PLACEHOLDERS) | self.params.keys() | self.grid.keys()
        for name in self.stage_names():
            if name in self.stages:
                allowed |= self.stages[name].grid.keys()
            if name == stage:
                break
        return allowed

    @property
    def kind(self) -> Literal["estimator", "entry", "command"]:
        if self.estimator is not None:
            return "estimator"
        if self.entry is not None:
            return "entry"
        return "command"

    def stage_names(self, has_target: bool = True) -> tuple[str, ...]:
        """The stages this model runs, in order. A command model runs the templates it
        names; its evaluate is its own template, else foldrun's (which scores predictions
        against the target, so a label-free experiment has none). A train-only model has
        none either: its train step's predictions are scored as it completes (`scores`)."""
        if self.kind != "command":
            return STAGES
        named = tuple(s for s in PROGRAM_STAGES if getattr(self, s) is not None)
        ours = has_target and self.predict is not None
        evaluate = ("evaluate",) if self.evaluate is not None or ours else ()
        return (*named, *evaluate, *(("refit",) if self.refit is not None else ()))

    def scores(self, stage: str, has_target: bool = True) -> bool:
        """Whether foldrun scores the predictions `stage` leaves in its own task: a
        train-only command model's train (no evaluate task follows it)."""
        train_only = self.kind == "command" and self.predict is None and self.evaluate is None
        return stage == "train" and has_target and train_only

    def template(self, stage: str) -> str | None:
        """The command template of `stage`; None for estimator/entry models and evaluate."""
        if self.kind != "command" or stage not in STAGES:
            return None
        return getattr(self, stage)


class ExternalSpec(_Strict):
    """An external evaluation set: every fold model and the refit model predict it."""

    table: str = Field(description=(
        "A table with the id (and target) columns of [data], never in any training set: "
        "every fold model and the refit model predict it."))  # fmt: skip

    @field_validator("table")
    @classmethod
    def _table_path(cls, value: str) -> str:
        return str(check_path(value, "the path"))


class DatasetSpec(_Strict):
    """One dataset of the experiment (`[datasets.<name>]`): every model runs on it.

    Its rows are `table` (same columns as `[data]`), else the `[data]` table; `filter`
    keeps the rows of a pandas query; `split` overrides `[split]` key by key (its own seed,
    fold table or train rows)."""

    table: str | None = Field(None, description=(
        "This dataset's table (same columns as [data]; default: the [data] table)."))
    filter: str | None = Field(None, description=(
        "A pandas query choosing this dataset's rows of the table."))
    split: SplitSpec = Field(default_factory=SplitSpec, description=(
        "This dataset's [split] keys, over the shared [split] key by key."))

    @field_validator("table")
    @classmethod
    def _table_path(cls, value: str | None) -> str | None:
        return check_path(value, "table")

    @field_validator("filter")
    @classmethod
    def _filter_not_empty(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("filter is empty; write a pandas query such as \"site == 'A'\"")
        return value


class Spec(_Strict):
    name: str = Field(description="The experiment's name (its run folder is runs/<name>).")
    output: str | None = Field(None, description=(
        "The run folder, relative to the spec (default: runs/<name>)."))
    data: DataSpec = Field(description="The data table and its columns.")
    split: SplitSpec = Field(default_factory=SplitSpec, description=(
        "How the rows are split into folds (the options of `foldrun split`)."))
    defaults: DefaultsSpec = Field(default_factory=DefaultsSpec, description=(
        "Settings every model gets unless it says otherwise."))
    models: dict[str, ModelSpec] = Field(description=(
        "The models, by name: each is trained and scored on every fold."))
    templates: dict[str, dict[str, Any]] = Field(default_factory=dict, description=(
        "Partial models that plan no tasks, for models to extend (extends = \"<name>\")."))
    slurm: SlurmSpec | None = Field(None, description="The SLURM backend's settings.")
    mlflow: MlflowSpec | None = Field(None, description="Export of the tasks to MLflow.")
    report: ReportSpec | None = Field(None, description=(
        "How the report ranks and compares the models."))
    external: dict[str, ExternalSpec] = Field(default_factory=dict, description=(
        "External evaluation sets, by name: never trained on, predicted by every model."))
    race: RaceSpec | None = Field(None, description=(
        "Racing: stop a model's clearly worse variants before every fold has run."))
    datasets: dict[str, DatasetSpec] = Field(default_factory=dict, description=(
        "Datasets, by name: every model runs on each (a table, a filter, a split of its own)."))

    _path: Path = PrivateAttr(default=Path("foldrun.toml"))
    _dataset: str | None = PrivateAttr(default=None)  # set on the spec of one dataset

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        check_name(value, "name")
        return value

    @field_validator("output")
    @classmethod
    def _output_path(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("output is empty; name the run folder, or remove the key")
        return check_path(value, "output")

    @model_validator(mode="after")
    def _race_or_nested(self) -> Spec:
        if self.race is not None and self.split.inner is not None:
            raise ValueError(
                "[race] and [split] inner cannot be combined: the race stops variants on the "
                "outer test folds, which the nested estimate must never see (and it needs "
                "every variant's outer scores); remove one of them"
            )
        return self

    @model_validator(mode="after")
    def _external_primary_names_a_set(self) -> Spec:
        chosen = self.report.primary_metric if self.report else None
        name, slash, _ = (chosen or "").removeprefix("external:").partition("/")
        if chosen and chosen.startswith("external:") and (name not in self.external or not slash):
            sets = ", ".join(sorted(self.external)) or "none"
            raise ValueError(
                f"[report] primary_metric {chosen!r} must be external:<set>/<metric> with a "
                f"set of [external] (here: {sets})"
            )
        return self

    @model_validator(mode="after")
    def _race_has_a_metric(self) -> Spec:
        if (
            self.race is not None
            and self.data.target is None
            and not (self.report and self.report.primary_metric)
        ):
            raise ValueError(
                "[race] races the variants on a metric, and a label-free run has no "
                "default one: set [report] primary_metric to a metric the programs write"
            )
        return self

    @field_validator("datasets")
    @classmethod
    def _safe_dataset_names(cls, sets: dict[str, DatasetSpec]) -> dict[str, DatasetSpec]:
        folded: dict[str, str] = {}
        for name in sets:
            # tasks/A and tasks/a are one folder on macOS and Windows: two datasets mixed
            other = folded.setdefault(name.lower(), name)
            if other != name:
                raise ValueError(
                    f"dataset names {other!r} and {name!r} differ only in case, and their "
                    "folders would be one on macOS and Windows; rename one"
                )
            check_name(name, "dataset name")
            if name.startswith("."):  # tasks/.x and results/.x would be hidden folders
                raise ValueError(f"dataset name {name!r} starts with '.'; start it with a letter")
            if name.lower() in _REPORT_FILES:  # report/<name>/ would be the comparison's file
                raise ValueError(
                    f"dataset name {name!r} is the name of a file of the report "
                    f"({', '.join(sorted(_REPORT_FILES))}); rename the dataset"
                )
        return sets

    @model_validator(mode="after")
    def _datasets_alone(self) -> Spec:
        if self.datasets and self.race is not None:
            raise ValueError(
                "[race] with [datasets] is not supported yet: a race decides per dataset, "
                "which foldrun does not do; run each dataset's race in a spec of its own, "
                "or remove [race]"
            )
        for name in self.datasets:
            self.for_dataset(name)  # each dataset's [split] must be valid as merged
            _rows_given(self, name)
        if not self.datasets:
            _rows_given(self, None)
        return self

    @property
    def dataset(self) -> str | None:
        """The dataset this spec is the view of (`for_dataset`), else None."""
        return self._dataset

    def for_dataset(self, name: str) -> Spec:
        """The spec of one dataset: its table and filter, `[split]` overridden key by key
        by its own, no `[datasets]`; its folders are the dataset's (`layout`)."""
        own = self.datasets[name]
        data = self.data.model_copy(
            update={"table": own.table or self.data.table, "filter": own.filter or self.data.filter}
        )
        derived = self.model_copy(
            update={"data": data, "split": merged_split(self.split, own.split), "datasets": {}}
        )
        derived._path = self._path
        derived._dataset = name
        return derived

    @property
    def layout(self) -> RunLayout:
        """The run folder's paths; a dataset's spec sees its own tasks/, split/, results/."""
        return RunLayout(self.run_dir, self._dataset)

    @field_validator("external")
    @classmethod
    def _safe_set_names(cls, sets: dict[str, ExternalSpec]) -> dict[str, ExternalSpec]:
        for name in sets:
            check_name(name, "external set name")
        return sets

    def external_tables(self) -> dict[str, Path]:
        """`external:<name>` (the subset its rows get) -> the table, resolved."""
        return {f"external:{n}": self.resolve(e.table) for n, e in self.external.items()}

    @field_validator("models")
    @classmethod
    def _safe_model_names(cls, models: dict[str, ModelSpec]) -> dict[str, ModelSpec]:
        if not models:
            raise ValueError("no models; add at least one [models.<name>] table")
        for name in models:
            check_name(name, "model name")
        return models

    @property
    def path(self) -> Path:
        """The spec file (absolute)."""
        return self._path

    @property
    def base_dir(self) -> Path:
        return self._path.parent

    def resolve(self, path: str | Path) -> Path:
        """A path of the spec, relative to the spec file's folder."""
        return (self.base_dir / Path(path).expanduser()).resolve()

    @property
    def run_dir(self) -> Path:
        return self.resolve(self.output or f"runs/{self.name}")

    @property
    def table_path(self) -> Path:
        return self.resolve(self.data.table)

    def split_options(self) -> dict[str, Any]:
        """`[split]` as `make_folds` keywords, fold table files resolved against the spec."""
        options = self.split.options()
        files = self.split.fold_tables()
        if files:
            options["fold_column"] = [str(self.resolve(f)) for f in files]
        return options

    @property
    def split_from(self) -> Path | None:
        return self.resolve(self.split.from_) if self.split.from_ is not None else None

    @property
    def seed(self) -> int:
        """The seed given to tasks (`{seed}`, meta["seed"]): `[split] seed`, else 0."""
        return self.split.seed if self.split.seed is not None else 0


# the files of the comparison across datasets at the top of the report folder, beside each
# dataset's own report in report/<dataset>/ (a dataset of such a name would crash it)
_REPORT_FILES = frozenset({"index.html", "cv_summary.json", "fold_summary.csv",
                           "critical_difference.png"})  # fmt: skip


def _rows_given(spec: Spec, dataset: str | None) -> None:
    """`[split] from` gives the folds with their rows (the manifests hold whole rows): a
    filter or a dataset's own table beside it would be silently ignored, every dataset
    then running on the same rows."""
    own = spec.datasets[dataset] if dataset is not None else None
    split = merged_split(spec.split, own.split) if own is not None else spec.split
    if split.from_ is None:
        return
    where = f"datasets.{dataset}" if dataset is not None else "data"
    if own is not None and own.table is not None:
        given = f"{where}.table"
    elif own is not None and own.filter is not None:
        given = f"{where}.filter"
    elif spec.data.filter is not None:
        given = "data.filter"
    else:
        return
    what = given.rpartition(".")[2]
    instead = (
        f"give {where} split options of its own (seed, folds, ...) instead of from"
        if dataset is not None
        else "make the split without from"
    )
    raise ValueError(
        f"{given} with [split] from {split.from_!r}: the folds of a split folder hold their "
        f"own rows, so the {what} would not be used; remove the {what}, or {instead}"
    )


def merged_split(shared: SplitSpec, own: SplitSpec) -> SplitSpec:
    """`[split]` with a dataset's own keys over it; `from` in the dataset's replaces all, and
    its own `fold_column` or `strategy` replaces the shared way of choosing folds."""
    if own.from_ is not None:
        return own
    keys = shared.model_dump(by_alias=True, exclude_none=True)
    if "from" in keys and own.options():
        keys.pop("from")  # the dataset's own split options replace a shared `from`
    # a dataset's own way of choosing folds replaces the shared one: its fold table gives
    # the folds (a shared `strategy = "stratified"` made make_folds ignore the fold table,
    # silently; shared `repeats` refused it), and its own strategy drops a shared fold table
    if own.fold_column is not None and own.strategy is None:
        for key in ("strategy", "folds", "repeats", "stratify", "bins"):
            keys.pop(key, None)
    if own.strategy is not None and own.fold_column is None:
        keys.pop("fold_column", None)
    keys.update(own.model_dump(by_alias=True, exclude_none=True))
    try:
        return SplitSpec.model_validate(keys)
    except ValueError as err:
        raise ValueError(f"[datasets] split, merged with [split]: {err}") from None


def check_name(value: str, what: str) -> None:
    if not MODEL_NAME.match(value) or value in (".", "..") or ".." in value:
        raise ValueError(
            f"{what} {value!r} is not allowed: use letters, digits, '_', '.', '-' only, "
            "without '..' (it names a folder)"
        )
