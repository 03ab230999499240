"""Where a run's results come from: a spec file (its `output`) or a run folder, and the plan.

A spec is loaded (`foldrun.spec.load_spec`) and planned (`foldrun.plan.build_plan`) as it is
now: a spec that does not load or plan (a typo key, a changed table or `[split]`, an edited
filter) is refused with that error, never reported from what is on disk. Only a run folder
given without its spec is read as its task folders alone say.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foldrun.errors import FoldrunError, ReportError
from foldrun.layout import RunLayout
from foldrun.plan import cache
from foldrun.results.collect import TaskRef
from foldrun.results.refresh import Planned

SPEC_NAME = "foldrun.toml"


@dataclass
class RunSource:
    run_dir: Path
    spec_path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # the spec as plain TOML
    spec: Any = None  # foldrun.spec's model, when it could be loaded
    plan: list[Any] | None = field(default=None, repr=False)  # its tasks, once planned
    dataset: str | None = None  # one dataset of a spec with `[datasets]` (see `views`)
    planned: bool = False  # the plan was built: it alone says which tasks count

    @property
    def layout(self) -> RunLayout:
        """The run folder's paths, or its dataset's (tasks/<dataset>/, results/<dataset>/)."""
        return RunLayout(self.run_dir, self.dataset)

    @property
    def run_name(self) -> str:
        """The spec's `name`, else the run folder's."""
        return str(self.raw.get("name") or self.run_dir.name)

    @property
    def name(self) -> str:
        """The dataset's name, else the run's."""
        return self.dataset or self.run_name

    @property
    def task(self) -> str | None:
        data = self.raw.get("data", {})
        if isinstance(data, dict) and "table" in data and data.get("target") is None:
            return "none"  # label-free: the programs give the metrics
        value = data.get("task") if isinstance(data, dict) else None
        return value if value in ("classification", "regression", "multilabel") else None

    @property
    def report_options(self) -> dict[str, Any]:
        value = self.raw.get("report", {})
        return value if isinstance(value, dict) else {}


def _load_spec_model(spec_path: Path) -> Any:
    """foldrun.spec.load_spec(spec_path); its SpecError (one line) when the spec as it is now
    does not load: results made under another spec must never be shown as this one's."""
    # lazy: pydantic, only for a spec file (a run folder is read without it)
    from foldrun.spec import load_spec

    return load_spec(spec_path)


def is_run_folder(path: Path) -> bool:
    """A folder `foldrun run` made: it has tasks/, .foldrun/, or a split foldrun wrote."""
    layout = RunLayout(path)
    return (
        layout.tasks_dir.is_dir()
        or layout.state_dir.is_dir()
        or layout.split.details.is_file()
    )


def _not_a_run(run_dir: Path, spec_path: Path | None = None) -> ReportError:
    what = "not a foldrun run folder (it has no tasks/ or .foldrun/), so nothing is written"
    if spec_path is None:
        return ReportError(f"{what} there; pass foldrun.toml or runs/<name>", file=run_dir)
    return ReportError(
        f"the output folder {run_dir} is {what} there; run `foldrun run SPEC` first, or fix "
        "'output'",
        file=spec_path,
        key="output",
    )


def resolve(run_dir_or_spec: str | Path | RunSource) -> RunSource:
    """A spec file, a folder holding foldrun.toml, or a run folder -> RunSource; a RunSource
    as it is (a command that loaded and planned the spec already: foldrun.api's run).

    A folder that exists but is no run folder is refused: report and query write into the
    run folder (results/, report/) and must never write into any other folder."""
    if isinstance(run_dir_or_spec, RunSource):
        return run_dir_or_spec
    path = Path(run_dir_or_spec)
    if path.is_dir() and (path / SPEC_NAME).is_file() and not RunLayout(path).tasks_dir.is_dir():
        path = path / SPEC_NAME
    if path.is_file():
        # lazy: pydantic, only for a spec file (a run folder is read without it)
        from foldrun.spec.load import read_document, run_folder

        raw = read_document(path, ReportError)
        run_dir = run_folder(path, raw, ReportError)
        if run_dir.exists() and not is_run_folder(run_dir):
            raise _not_a_run(run_dir, path)
        return RunSource(run_dir, path.resolve(), raw, _load_spec_model(path))
    if path.is_dir():
        if not is_run_folder(path):
            raise _not_a_run(path.resolve())
        return RunSource(path.resolve())
    raise ReportError(
        "no such spec file or run folder; pass foldrun.toml or runs/<name>", file=path
    )


def resolve_runs(runs: Sequence[str | Path]) -> list[RunSource]:
    """`resolve` of each run given to `report A B C` / `query A B C`; the same run folder
    given twice (its spec, the folder, a relative and an absolute path) is refused: it
    would count as two datasets (a Friedman test of one dataset) and repeat its rows."""
    sources: list[RunSource] = []
    seen: dict[Path, str] = {}
    for given in runs:
        source = resolve(given)
        folder = Path(os.path.realpath(source.run_dir))
        if folder in seen:
            raise ReportError(
                f"{given} and {seen[folder]} are the same run folder ({folder}); give each "
                "run once",
                file=Path(given),
            )
        seen[folder] = str(given)
        sources.append(source)
    return sources


def datasets_of(source: RunSource) -> list[str]:
    """The `[datasets]` of a run: its spec's, else the ones its run folder recorded."""
    if source.dataset is not None:
        return []
    if source.spec is not None:
        names = list(getattr(source.spec, "datasets", None) or {})
        recorded = source.layout.recorded_datasets()
        if recorded and not names:  # else an empty report of a run that has results
            raise ReportError(
                f"the run folder holds the datasets {', '.join(recorded)} of a spec with "
                "[datasets], and this spec has none; add them back to report them",
                file=source.spec_path,
                key="datasets",
            )
        if names and RunLayout(source.run_dir).holds_plain_run():
            raise ReportError(
                "the run folder holds a run without [datasets], and this spec has datasets; "
                "report it with a spec without [datasets]",
                file=source.spec_path,
                key="datasets",
            )
        return names
    if isinstance(source.raw.get("datasets"), dict):
        return list(source.raw["datasets"])
    return source.layout.recorded_datasets()


def views(source: RunSource) -> list[RunSource]:
    """A run as the datasets it holds: one source per `[datasets.<name>]` (each with its
    own tasks, split and result tables), else the run itself."""
    names = datasets_of(source)
    if not names:
        return [source]
    return [_view(source, n) for n in names]


def _view(source: RunSource, name: str) -> RunSource:
    spec = source.spec.for_dataset(name) if source.spec is not None else None
    return RunSource(source.run_dir, source.spec_path, source.raw, spec, dataset=name)


def run_names(sources: Sequence[RunSource]) -> list[str]:
    """Each run's name as a dataset (its dataset's or spec's `name`, else its folder), made
    unique."""
    names: list[str] = []
    several = len({s.run_dir for s in sources}) > 1
    for source in sources:
        base = source.name
        if source.dataset and several:  # datasets of several runs: `<run>/<dataset>`
            base = f"{source.run_name}/{source.dataset}"
        name, i = base, 2
        while name in names:
            name, i = f"{base}-{i}", i + 1
        names.append(name)
    return names


def planned_tasks(source: RunSource, inner: bool = False) -> list[Planned]:
    """The plan's tasks with their fingerprints, or [] when the plan cannot be built: the
    outer folds' and refit tasks, or with `inner` the inner-fold tasks of nested selection
    (their refs carry the outer fold; the folder names the inner one)."""
    tasks = _plan_tasks(source)

    out = []
    try:
        for t in tasks:
            if (getattr(t, "inner", -1) >= 0) != inner:
                continue
            ref = TaskRef(t.model, t.variant, t.fold, t.repeat, t.stage, str(t.task_dir))
            out.append(Planned(ref, t.fingerprint))
    except (AttributeError, TypeError):
        return []
    return out


def _plan_tasks(source: RunSource) -> list[Any]:
    """The plan's tasks, built once per source (status, results and nested selection ask).
    A spec that cannot be planned raises the planning error (`foldrun report` exits 2)."""
    if source.plan is not None:
        return source.plan
    source.plan = []
    if source.spec is None or not source.layout.used_split().is_dir():
        return source.plan  # build_plan would make the split: a report never writes one

    try:  # an unchanged spec's plan is kept in .foldrun/plan/ (report and query write)
        source.plan = list(cache.rows(source.spec, keep=True)[0])
    except FoldrunError:
        raise
    except Exception as err:  # a bug or an unreadable file: still one line, never the disk
        raise ReportError(f"the spec cannot be planned: {type(err).__name__}: {err}",
                          file=source.spec_path) from err  # fmt: skip
    source.planned = True
    return source.plan
