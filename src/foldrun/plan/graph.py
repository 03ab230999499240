"""The task graph: every model × variant × fold × stage of a spec, in topological order.

Per fold: train -> predict -> evaluate (a command model has the stages it names, plus
evaluate); refit (fold -1, folder `all/refit`) depends on every evaluate of its variant. A
model grid multiplies every stage; a stage grid fans out from the stage before it, and its
variants carry through every later stage (see `variants.py` for the names).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from foldrun.core.files import write_if_changed
from foldrun.core.task import PlannedTask, Resources, TaskRecipe, matches
from foldrun.core.taskid import fold_dir_name, task_key, variant_key
from foldrun.core.templates import placeholders
from foldrun.data.table import forget_shared_tables
from foldrun.errors import FoldrunError, SpecError
from foldrun.layout import MANIFESTS, REFIT_FOLD, RunLayout, SplitLayout, TaskFiles
from foldrun.plan.code import code_files, code_hashes, imported_packages
from foldrun.plan.data import check_external, data_meta
from foldrun.plan.fingerprint import Canonical, FileHashes, Fingerprints
from foldrun.plan.inputs import model_data, program_inputs, reads_split
from foldrun.plan.split import (
    FoldFiles,
    SplitFiles,
    check_split_from,
    check_split_unchanged,
    make_split,
    pending_split,
    prepare_split,
    scan_split,
    split_dir,
)
from foldrun.plan.variants import Variant, chain, expand
from foldrun.spec.model import ModelSpec, Spec
from foldrun.spec.resources import merge_resources


@dataclass
class Plan:
    spec: Spec
    run_dir: Path
    split_dir: Path
    n_repeats: int
    tasks: dict[str, PlannedTask] = field(default_factory=dict)

    def select(
        self,
        models: Sequence[str] = (),
        folds: Sequence[int] = (),
        stages: Sequence[str] = (),
        datasets: Sequence[str] = (),
    ) -> Plan:
        """The tasks matching every filter given (a model is `name` or `name/variant`),
        plus every task they depend on, unchanged, in plan order."""
        chosen = {k for k, t in self.tasks.items() if matches(t, models, folds, stages, datasets)}
        stack = list(chosen)
        while stack:
            for dep in self.tasks[stack.pop()].deps:
                if dep not in chosen:
                    chosen.add(dep)
                    stack.append(dep)
        return replace(self, tasks={k: t for k, t in self.tasks.items() if k in chosen})

    def count(self, stage: str | None = None, model: str | None = None) -> int:
        return sum(
            1
            for t in self.tasks.values()
            if (stage is None or t.stage == stage) and (model is None or t.model == model)
        )

    def variants(self, model: str) -> list[str]:
        """The variant names of `model`, in plan order."""
        return list(dict.fromkeys(t.variant for t in self.tasks.values() if t.model == model))


def build_plan(spec: Spec, split: Any = None, *, write: bool = False) -> Plan:
    """Every task of the spec. The split is `split` (a split folder path), else `[split]
    from`, else the run's `split/`.

    Planning writes nothing unless `write` (only `foldrun run` and its workers pass it): then
    the run's split is made if absent, and the refit manifest and the data cache are kept
    in `.foldrun/`. Without `write`, a split that is not made yet is made in memory and put
    in a temporary folder for the time of planning (enough to look at a plan: status,
    check, a dry run; never to execute it).
    """
    if spec.dataset is not None:  # the view of one of its datasets
        return _build_plan(spec, split, write)
    check_same_kind(spec)
    try:
        return _build_plan(spec, split, write)
    finally:  # the table the splits shared is not kept for the rest of the run
        forget_shared_tables()


def _build_plan(spec: Spec, split: Any, write: bool) -> Plan:
    if spec.datasets:
        return _datasets_plan(spec, write)
    if isinstance(split, str | os.PathLike):
        return _plan(spec, scan_split(Path(split)), write)
    if write:
        if spec.external:  # before anything is written
            check_external(spec, spec.external_tables())
        prepare_split(spec)  # made once; refused if the spec no longer gives the same split
        return _plan(spec, scan_split(split_dir(spec)), write)
    root = split_dir(spec)
    if spec.split_from is not None:
        # only that the folder is there: which folder a run used is recorded by the run (a
        # dry run, status or check wrote the record, making a run folder of nothing)
        check_split_from(spec)
        return _plan(spec, scan_split(root), write)
    if root.is_dir():
        check_split_unchanged(spec)
        return _plan(spec, scan_split(root), write)
    with tempfile.TemporaryDirectory(prefix="foldrun-plan-") as tmp:
        made = RunLayout(Path(tmp)).split_dir  # planning reads its manifests
        make_split(spec).save(made, long=False, manifests=spec.split.manifest_format)
        return _plan(spec, scan_split(made), write)


def _datasets_plan(spec: Spec, write: bool) -> Plan:
    """Every dataset's plan, one after the other: their tasks are `<dataset>/...`, in the
    dataset's own folders (tasks/<dataset>/, split/<dataset>/)."""
    tasks: dict[str, PlannedTask] = {}
    n_repeats = 1
    views = [spec.for_dataset(name) for name in spec.datasets]
    if write:  # every dataset checked (its folds made in memory) before any is written:
        made = []  # a bad table or filter in the last one must not leave the first's split
        for view in views:
            with _naming(spec, view):
                if view.external:
                    check_external(view, view.external_tables())
                made.append(pending_split(view))
        for view, folds in zip(views, made, strict=True):
            prepare_split(view, folds)
    for view in views:
        with _naming(spec, view):
            part = build_plan(view, write=write)
        tasks.update(part.tasks)
        n_repeats = max(n_repeats, part.n_repeats)
    layout = spec.layout
    return Plan(spec, spec.run_dir, layout.split_dir, n_repeats, tasks)


@contextlib.contextmanager
def _naming(spec: Spec, view: Spec) -> Iterator[None]:
    """A dataset's error says which dataset (and the spec, when it names no file): the
    split's own errors (`strategy 'grouped' needs a group column`) named neither, and a
    dataset's own table was `data.table`."""
    try:
        yield
    except FoldrunError as err:
        if err.key == "data.table" and spec.datasets[str(view.dataset)].table is not None:
            err.key = f"datasets.{view.dataset}.table"
            err.message = err.message.replace("[data] table", f"[datasets.{view.dataset}] table")
        if not (err.key or "").startswith("datasets.") and f"dataset {view.dataset}" not in (
            err.message
        ):
            err.message = f"dataset {view.dataset}: {err.message}"
            err.args = (err.message,)
        if err.file is None:
            err.file = str(view.path)
        raise


def check_same_kind(spec: Spec) -> None:
    """A run folder holds datasets (`[datasets]`: split/<dataset>/, tasks/<dataset>/) or
    not, never both: a dataset named like a fold (`fold_00`) would adopt a fold of the
    other's split, and either's tasks would sit among the other's. Writes nothing."""
    layout = RunLayout(spec.run_dir)
    recorded = layout.recorded_datasets()
    if recorded and not spec.datasets:
        raise SpecError(
            f"the run folder {spec.run_dir} holds the datasets {', '.join(recorded)} of a "
            "spec with [datasets], and this spec has none; add them back, or use a new "
            "output folder",
            file=spec.path,
            key="datasets",
        )
    if spec.datasets and layout.holds_plain_run():
        raise SpecError(
            f"the run folder {spec.run_dir} holds a run without [datasets] (its split and "
            "tasks), and this spec has datasets; use a new output folder for them",
            file=spec.path,
            key="datasets",
        )


def _plan(spec: Spec, files: SplitFiles, write: bool) -> Plan:
    builder = _Builder(spec, files, write)
    for name, model in spec.models.items():
        builder.add_model(name, model)
    return Plan(spec, spec.run_dir, files.root, files.n_repeats, builder.tasks)


@dataclass(frozen=True)
class _StagePart:
    """What every task of one variant's stage shares: its recipe's fields (each task sets
    its inputs, upstream, input_sha256, outputs and last_in_fold), resources, fingerprints."""

    fields: dict[str, Any]  # its recipe's (each task sets inputs, upstream, ...)
    resources: Resources
    fingerprints: Fingerprints | None  # None in a model stage's part (_stage_base)
    kind: str  # who runs it (_Builder._kind)
    files_only: bool  # _files_only


RECIPE_FIELDS = tuple(f.name for f in fields(TaskRecipe))


class _Builder:
    def __init__(self, spec: Spec, files: SplitFiles, write: bool) -> None:
        self.spec = spec
        self.files = files
        self.layout = spec.layout
        self.dataset = spec.dataset or ""  # its tasks' keys start with `<dataset>/`
        self.hashes = FileHashes()
        self.tasks: dict[str, PlannedTask] = {}
        self._code_cache: dict[tuple[int, str], dict[str, str]] = {}
        self._packages: dict[tuple[int, str], tuple[str, ...]] = {}  # imported, not hashed
        task_kind, data = data_meta(spec, write=write)
        report = spec.report
        self.common = TaskRecipe(  # what every task of the spec shares
            run_dir=spec.run_dir,
            problem=task_kind,
            data=data,
            seed=spec.seed,
            spec_path=spec.path,
            n_repeats=files.n_repeats,
            scorers=dict(report.scorers) if report else {},
            race=spec.race.model_dump() if spec.race else None,
            primary_metric=report.primary_metric if report else None,
            lower_is_better=tuple(report.lower_is_better) if report else (),
        )
        self.refit_inputs = {
            "train": refit_manifest(files, self.layout, self.hashes, write),
            "val": None,
            "test": None,
            "holdout": files.holdout,
        }
        self.external = spec.external_tables()  # `external:<name>` -> table
        self.spec_dir = Path(spec.path).resolve().parent  # resolved once, not per task
        self._reads_split: dict[int, bool] = {}
        self._inputs_cache: dict[tuple[int, str], dict[str, Any] | None] = {}
        self.tasks_dir = self.layout.tasks_dir  # one Path, joined with each task's key
        self._part: tuple[tuple[int, str, str], _StagePart] | None = None
        self._manifests: dict[tuple[Any, ...], tuple[dict[str, Any], Canonical]] = {}
        self._outputs_cache: dict[tuple[Any, ...], tuple[str, ...]] = {}
        self._fold_dirs: dict[tuple[int, int, int], str] = {}
        self._bases: dict[tuple[int, str], _StagePart] = {}
        self._variant_dirs: dict[str, Path] = {}
        self._params: dict[tuple[int, str], dict[str, Any]] = {}

    def add_model(self, name: str, model: ModelSpec) -> None:
        stages = model.stage_names(self.spec.data.target is not None)
        levels = _levels(model, stages)
        # nested selection: with inner folds, a model with variants to choose from runs
        # each of them on the inner folds of every outer training part too
        nested = len(levels[-1]) > 1
        # the fold's last stage says "fold completed" in audit.log when it finishes
        last = [s for s in stages if s != "refit"][-1:]
        prev: str | None = None
        for stage, level in zip(stages, levels, strict=True):
            for variant, parent in level:
                if stage == "refit":
                    self._add_refit(name, model, variant, parent, prev or "train")
                    continue
                for fold in self.files.folds:
                    self._add_fold_task(
                        name, model, stage, variant, fold, prev, parent, last=stage in last
                    )
                    for inner in range(len(fold.inner) if nested else 0):
                        self._add_fold_task(name, model, stage, variant, fold, prev, parent, inner)
            prev = stage

    def _add_fold_task(
        self,
        name: str,
        model: ModelSpec,
        stage: str,
        variant: Variant,
        fold: FoldFiles,
        prev: str | None,
        parent: str,
        inner: int = -1,
        *,
        last: bool = False,
    ) -> None:
        """A fold's task; with `inner` >= 0 the task of that inner fold of its training
        part: trained on the inner train rows, tested on the inner test rows, validated on
        the fold's own val rows (never its test rows), no holdout or external set. `last`:
        the fold's last stage (never an inner fold's)."""
        deps = (self._key(name, parent, fold.fold, fold.repeat, prev, inner),) if prev else ()
        if inner >= 0:
            inputs = {**fold.inner[inner], "val": fold.manifests["val"], "holdout": None}
        else:
            inputs = {**fold.manifests, "holdout": self.files.holdout}
            inputs.update(self._external_inputs(model, stage))
        self._add(name, model, stage, variant, fold.fold, fold.repeat, deps, inputs, inner, last)

    def _external_inputs(self, model: ModelSpec, stage: str) -> dict[str, Path | None]:
        """The external sets a stage reads: predict and evaluate (an entry model predicts in
        train; a user's evaluate program is run once more per set), and the refit of
        estimator and entry models."""
        if not self.external:
            return {}
        reads = {
            "estimator": ("predict", "evaluate", "refit"),
            "entry": ("train", "evaluate", "refit"),
            "command": ("predict", "evaluate") if model.predict is not None else (),
        }[model.kind]
        return dict(self.external) if stage in reads else {}

    def _key(self, name: str, variant: str, fold: int, repeat: int, stage: str,
             inner: int = -1, dataset: bool = True) -> str:
        """The task key (core/taskid.py, its one format); without `dataset` the task folder
        relative to the dataset's tasks/."""
        where = (fold, repeat, inner)  # its fold dir, made once per fold
        if where not in self._fold_dirs:
            self._fold_dirs[where] = fold_dir_name(fold, repeat, self.files.n_repeats, inner)
        head = variant_key(name, variant, self.dataset if dataset else "")
        return task_key(head, self._fold_dirs[where], stage)

    def _add_refit(
        self, name: str, model: ModelSpec, variant: Variant, parent: str, last: str
    ) -> None:
        """Refit waits for the last fold stage (evaluate, when there is one) of every fold."""
        deps = tuple(self._key(name, parent, f.fold, f.repeat, last) for f in self.files.folds)
        inputs = {**self.refit_inputs, **self._external_inputs(model, "refit")}
        self._add(name, model, "refit", variant, REFIT_FOLD, 0, deps, inputs)

    def _add(
        self,
        name: str,
        model: ModelSpec,
        stage: str,
        variant: Variant,
        fold: int,
        repeat: int,
        deps: tuple[str, ...],
        inputs: dict[str, Path | None],
        inner: int = -1,
        last: bool = False,
    ) -> None:
        rel = self._key(name, variant.name, fold, repeat, stage, inner, dataset=False)
        key = f"{self.dataset}/{rel}" if self.dataset else rel  # _key's, with the dataset
        upstream: dict[str, str] = {}
        if stage != "refit" and deps:
            dep = self.tasks[deps[0]]
            upstream = {**dep.recipe.upstream, dep.stage: str(dep.task_dir)}
        part = self._stage_part(model, stage, variant)
        texts, sha256 = self._manifests_of(model, inputs)
        recipe = TaskRecipe(**{  # dataclasses.replace, without its look at every field
            **part.fields,
            "inputs": texts,
            "upstream": upstream,
            "input_sha256": sha256.value,  # the worker checks the manifests are still these
            "outputs": self._outputs(part, stage, inputs),
            "last_in_fold": last,
        })
        self.tasks[key] = PlannedTask(
            key=key,
            model=name,
            variant=variant.name,
            fold=fold,
            repeat=repeat,
            stage=stage,
            deps=deps,
            resources=part.resources,
            fingerprint=part.fingerprints(sha256, self._upstream_fingerprints(stage, deps)),
            task_dir=self._task_dir(name, variant.name, rel),
            recipe=recipe,
            inner=inner,
            dataset=self.dataset,
        )

    def _task_dir(self, name: str, variant: str, rel: str) -> Path:
        """tasks_dir / rel, from the variant's folder made once (a Path parses every part
        of what it is joined with: 4 parts a task, 100,000 tasks)."""
        head = variant_key(name, variant)  # rel is `<head>/<fold dir>/<stage>`
        if head not in self._variant_dirs:
            self._variant_dirs[head] = self.tasks_dir / head
        return self._variant_dirs[head] / rel[len(head) + 1 :]

    def _stage_part(self, model: ModelSpec, stage: str, variant: Variant) -> _StagePart:
        """What the tasks of a variant's stage share, made once for all its folds (the
        loops of add_model go fold by fold within a variant's stage): planning 100,000
        tasks repeats no work of a variant's per fold, and they share its dicts."""
        key = (id(model), stage, variant.name)
        if self._part is not None and self._part[0] == key:
            return self._part[1]
        base = self._stage_base(model, stage)
        params = self._params.get((id(model), variant.name))
        if params is None:  # one dict for the variant's stages
            params = {**model.params, **variant.values}
            self._params[(id(model), variant.name)] = params
        shared = {**base.fields, "params": params}
        recipe = TaskRecipe(**shared)
        part = replace(base, fields=shared, fingerprints=Fingerprints(_payload(recipe, stage)))
        self._part = (key, part)
        return part

    def _stage_base(self, model: ModelSpec, stage: str) -> _StagePart:
        """What the tasks of a model's stage share whatever their variant (all but the
        params and fingerprints), made once."""
        key = (id(model), stage)
        if key in self._bases:
            return self._bases[key]
        recipe = replace(
            self.common,
            kind=model.kind,
            estimator=model.estimator,
            preprocess=tuple(model.preprocess),
            entry=model.entry,
            command=model.template(stage),
            code=self._code(model, stage),
            packages=self._packages.get((id(model), stage), ()),
            data=model_data(model, self.common.data),
            program_inputs=self._program_inputs(model, stage),
            scores=model.scores(stage, self.spec.data.target is not None),
            metrics=tuple(m.model_dump(exclude_defaults=True) for m in model.metrics_for(stage)),
            predictions=model.predictions.model_dump(exclude_defaults=True)
            if model.predictions is not None and stage != "evaluate"
            else None,
            curves=model.curves.model_dump() if model.curves and stage in CURVE_STAGES else None,
        )
        shared = {name: getattr(recipe, name) for name in RECIPE_FIELDS}
        resources = stage_resources(self.spec, model, stage)
        made = _StagePart(shared, resources, None, self._kind(model, stage),
                          _files_only(model, stage))  # fmt: skip
        self._bases[key] = made
        return made

    def _manifests_of(
        self, model: ModelSpec, inputs: dict[str, Path | None]
    ) -> tuple[dict[str, str | None], Canonical]:
        """A task's inputs as text (and the split folder, for a model that reads it) and
        their sha256: made once per set of manifests, shared by every task reading it."""
        split = self._split_input(model)
        key = (tuple(inputs.items()), bool(split))
        if key not in self._manifests:
            texts = {k: str(p) if p is not None else None for k, p in inputs.items()} | split
            sha256 = Canonical({k: self.hashes(p) for k, p in inputs.items()})
            self._manifests[key] = (texts, sha256)
        return self._manifests[key]

    def _outputs(
        self, part: _StagePart, stage: str, inputs: dict[str, Path | None]
    ) -> tuple[str, ...]:
        """declared_outputs, one tuple for all the tasks it is the same for."""
        key = (stage, inputs.get("holdout") is not None, part.kind, part.files_only)
        if key not in self._outputs_cache:
            made = declared_outputs(stage, inputs, part.kind, part.files_only)
            self._outputs_cache[key] = tuple(made)
        return self._outputs_cache[key]

    def _split_input(self, model: ModelSpec) -> dict[str, str]:
        """The split folder, for a model whose templates name `{fold_table}` or
        `{assignments}` (not hashed: the split never changes under a run)."""
        if id(model) not in self._reads_split:  # once per model, not per task
            self._reads_split[id(model)] = reads_split(model)
        return {"split": str(self.files.root)} if self._reads_split[id(model)] else {}

    def _program_inputs(self, model: ModelSpec, stage: str) -> dict[str, Any] | None:
        """plan/inputs.py `program_inputs`, once per model and stage."""
        key = (id(model), stage)
        if key not in self._inputs_cache:
            self._inputs_cache[key] = program_inputs(
                model, self.common.data, stage, self.spec_dir, self.hashes
            )
        return self._inputs_cache[key]

    @staticmethod
    def _kind(model: ModelSpec, stage: str) -> str:
        """Who runs the stage: a command model's evaluate is foldrun's unless it names one."""
        if stage == "evaluate" and model.template("evaluate") is None:
            return "foldrun"
        return model.kind

    def _code(self, model: ModelSpec, stage: str) -> dict[str, str]:
        """The hashes of the user's files this stage runs (see plan/code.py); found once per
        model and stage, not per task."""
        if not self.spec.defaults.fingerprint_code:
            return {}
        key = (id(model), stage)
        if key not in self._code_cache:
            objects = [] if stage == "evaluate" and model.kind != "command" else [
                model.entry, model.estimator, *model.preprocess]  # fmt: skip
            spec_dir = Path(self.spec.path).resolve().parent
            template = model.template(stage)
            # `code` entries go with the stages that run the user's code
            runs = template is not None or any(objects)
            declared = [*self.spec.defaults.code, *model.code] if runs else []
            # the stages that score run `[report] scorers` too: an edited scorer module makes
            # them stale (hostile r4 #3); none, no change to any fingerprint
            scorers = list(self.common.scorers.values()) if stage in SCORING_STAGES else []
            files = code_files(spec_dir, template, [*objects, *scorers], declared)
            self._code_cache[key] = code_hashes(spec_dir, files, self.hashes)
            self._packages[key] = imported_packages(spec_dir, files)
        return dict(self._code_cache[key])

    def _upstream_fingerprints(self, stage: str, deps: tuple[str, ...]) -> list[str]:
        # refit waits for the evaluates but uses nothing they made: a new predict template
        # must not make a long refit stale
        return [] if stage == "refit" else [self.tasks[d].fingerprint for d in deps]


def _levels(model: ModelSpec, stages: Sequence[str]) -> list[list[tuple[Variant, str]]]:
    """Per stage, its (variant, parent variant's name): a model grid makes the first
    level, and each stage grid fans out from the level before it."""
    level = [(v, v.name) for v in expand(model.grid)]
    levels = []
    for stage in stages:
        stage_spec = model.stages.get(stage)
        grid = stage_spec.grid if stage_spec else {}
        level = [(child, parent.name) for parent, _ in level for child in chain(parent, grid)]
        levels.append(level)
    return levels


def _files_only(model: ModelSpec, stage: str) -> bool:
    """A command's predict whose outputs are files of its own, for a user evaluate to score
    (denoised spectra): done when it exits 0 and its declared metrics files read back whole
    (its template names no {predictions} it would have to write)."""
    template = model.template(stage)
    return (
        stage == "predict"
        and template is not None
        and model.evaluate is not None
        and "predictions" not in placeholders(template)
    )


CURVE_STAGES = ("train", "refit")  # the stages that train: they leave training curves


def declared_outputs(
    stage: str, inputs: dict[str, Path | None], kind: str, files_only: bool = False
) -> list[str]:
    """Files a task must leave to count as done (`a|b`: either): evaluate reads predict's
    predictions, and a refit with a holdout is scored from its predictions. A command's
    predict (or refit) may instead score itself in metrics.json, and a user evaluate
    program must write metrics.json (or the metrics files it declares, read into it).
    `files_only`: a predict that leaves files of its own for a user evaluate."""
    metrics, predictions = TaskFiles.METRICS, TaskFiles.PREDICTIONS  # in the fingerprint
    if kind == "command" and stage == "evaluate":
        return [metrics]
    if files_only:
        return []
    if stage == "predict" or (stage == "refit" and inputs.get("holdout") is not None):
        return [f"{predictions}|{metrics}" if kind == "command" else predictions]
    return []


SCORING_STAGES = ("evaluate", "refit")  # the stages that call `[report] scorers`


def _payload(recipe: TaskRecipe, stage: str) -> dict[str, Any]:
    """What the fingerprint covers: no absolute paths, so a moved run folder stays done.
    The keys are those of the dict tasks carried before TaskRecipe (`task`: the problem
    kind): the same JSON, the same fingerprints (tests/plan/test_fingerprints_pinned.py)."""
    payload: dict[str, Any] = {
        "kind": recipe.kind,
        "task": recipe.problem,
        "params": recipe.params,
        "estimator": recipe.estimator,
        "preprocess": list(recipe.preprocess),
        "entry": recipe.entry,
        "command": recipe.command,
        "data": recipe.data,
        "seed": recipe.seed,
        "stage": stage,
        "inputs": recipe.input_sha256,
    }
    if recipe.code:  # absent when no file of the user's runs: such fingerprints stay as they were
        payload["code"] = recipe.code
    if recipe.scorers and stage in SCORING_STAGES:
        payload["scorers"] = recipe.scorers
    if recipe.program_inputs:  # absent unless the model declares how its inputs look
        payload["program_inputs"] = recipe.program_inputs
    # how the program's files are read (absent when not declared: fingerprints as before)
    if recipe.metrics:
        payload["metrics"] = list(recipe.metrics)
    if recipe.predictions is not None:
        payload["predictions"] = recipe.predictions
    return payload


def stage_resources(spec: Spec, model: ModelSpec, stage: str) -> Resources:
    """defaults <- model <- stage. evaluate is foldrun's own light stage: defaults <- its
    stage table only (a GPU model's evaluate needs no GPU). refit inherits train's table."""
    defaults = spec.defaults.resources
    own = model.stages.get(stage)
    if stage == "evaluate":
        return merge_resources(defaults, own.resources if own else None)
    levels = [defaults, model.resources]
    if stage == "refit" and "train" in model.stages:
        levels.append(model.stages["train"].resources)
    levels.append(own.resources if own else None)
    return merge_resources(*levels)


def refit_manifest(files: SplitFiles, layout: RunLayout, hashes: FileHashes, write: bool) -> Path:
    """All non-holdout rows (first fold's train + val + test), as `.foldrun/refit_train.csv`
    (`.parquet` when the split's manifests are Parquet files).

    Its hash comes from the content, so a plan that does not `write` fingerprints it all the
    same; written (atomically) only when absent or different, so concurrent planners agree."""
    first = files.folds[0]
    parts = [p for p in (first.manifests[m] for m in MANIFESTS) if p is not None]
    every = None
    if _lists_folds(files.root):  # fold 0 need not hold every row: all folds' rows, once
        every = [p for f in files.folds for p in f.manifests.values() if p is not None]
    if parts[0].suffix == ".parquet":
        path = layout.records_dir / "refit_train.parquet"
        data = _concat_parquet(every or parts, once=every is not None)
    else:
        path = layout.records_dir / "refit_train.csv"
        text = _concat_csv(every or parts)
        if every is not None:
            text = "".join(dict.fromkeys(text.splitlines(keepends=True)))
        data = text.encode("utf-8")
    hashes.remember(path, hashlib.sha256(data).hexdigest())
    if write:
        write_if_changed(path, data)
    return path


def _concat_parquet(paths: list[Path], once: bool) -> bytes:
    """The rows of every Parquet manifest in turn (`once`: a row repeated in several only
    the first time), as the bytes of one Parquet file with their schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.concat_tables([pq.read_table(p) for p in paths])
    if once:
        frame = table.to_pandas().drop_duplicates(ignore_index=True)
        table = pa.Table.from_pandas(frame, schema=table.schema, preserve_index=False)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _lists_folds(root: Path) -> bool:
    """A split made from a fold table that lists train/val rows (keys may sit out a fold)."""
    import json

    try:
        details = json.loads(SplitLayout(root).details.read_text())
        return bool(details["fold_table"]["lists_train_or_val"])
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _concat_csv(paths: Iterable[Path]) -> str:
    """The header of the first file, then the rows of every file."""
    out: list[str] = []
    for i, path in enumerate(paths):
        text = path.read_text(encoding="utf-8")
        header, _, rows = text.partition("\n")
        if i == 0:
            out.append(header + "\n")
        if rows.strip():
            out.append(rows if rows.endswith("\n") else rows + "\n")
    return "".join(out)
