"""The Python API: drive an experiment from a notebook, Airflow or your own scripts.

Every function works on the same objects the CLI uses (the CLI is a thin layer over this
module) and returns a typed result whose `to_dict()` is what `--format json` prints. Bad
input raises a `foldrun.errors.FoldrunError` subclass, as the CLI's exit code 2 does.

    import foldrun.api as fr
    project = fr.Project.load("foldrun.toml")
    project.check().raise_if_problems()
    result = project.run(jobs=4)
    if not project.status().complete: ...
    report = project.report()
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foldrun.errors import ExitCode, SpecError

if TYPE_CHECKING:
    import pandas as pd

    from foldrun.core.task import PlannedTask
    from foldrun.report.build import Report
    from foldrun.results import Results
    from foldrun.results.query_text import Answer as QueryAnswer
    from foldrun.results.source import RunSource
    from foldrun.run.runner import RunResult as _RunnerResult
    from foldrun.spec.model import Spec
    from foldrun.track.mlflow import ExportReport


@contextlib.contextmanager
def user_output_to_stderr() -> Iterator[None]:
    """While foldrun imports user code in this process (check imports estimators, entry
    functions and preprocess steps), whatever that code prints goes to stderr, so stdout
    keeps only foldrun's own output (`--format json`: one JSON object). Both Python's
    sys.stdout and file descriptor 1 are redirected, so a C extension's or a child
    process's prints are caught too. Started with no stdout (fd 1 closed), there is none."""
    _flush(sys.stdout)
    try:
        saved = os.dup(1)
    except OSError:  # no file descriptor 1 (a closed stdout): Python-level only
        saved = None
    try:
        if saved is not None:
            os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        _flush(sys.stdout)
        _flush(sys.stderr)
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def _flush(stream: Any) -> None:
    if stream is not None:  # None: Python started without that file descriptor
        stream.flush()


@dataclass(frozen=True)
class TaskInfo:
    """One planned task and its state now."""

    key: str
    model: str
    variant: str
    fold: str
    stage: str
    state: str
    duration_s: float | None
    why: str = ""  # stale: which of the user's files changed
    dataset: str = ""  # `[datasets.<name>]`, else empty

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def of(cls, row: Any) -> TaskInfo:
        """A run/status.py TaskStatus as the API gives it (its state as text): the fields
        are status's, never copied one by one."""
        # its fields as they are (asdict's deep copy was 10% of status at 10,000 tasks)
        return cls(**{**vars(row), "state": row.state.value})


def _counts(tasks: Sequence[TaskInfo]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for task in tasks:
        counts[task.state] = counts.get(task.state, 0) + 1
    return dict(sorted(counts.items()))


@dataclass(frozen=True)
class Status:
    """`foldrun status`: every planned task with its state."""

    run_dir: Path
    tasks: tuple[TaskInfo, ...]

    @property
    def counts(self) -> dict[str, int]:
        return _counts(self.tasks)

    @property
    def complete(self) -> bool:
        """True when every planned task is done, or stopped by a race (status's exit code 0)."""
        return all(task.state in ("done", "pruned") for task in self.tasks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": "status",
            "run_dir": str(self.run_dir),
            "complete": self.complete,
            "counts": self.counts,
            "tasks": [task.to_dict() for task in self.tasks],
        }


@dataclass(frozen=True)
class CheckResult:
    """`foldrun check`: every problem of a spec at once (none: ready to run)."""

    spec: Path
    problems: tuple[str, ...]
    summary: str = ""
    # the spec as check loaded it (None with problems): `check --show` prints it resolved
    loaded: Any = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_if_problems(self) -> None:
        if self.problems:
            raise SpecError(
                f"{len(self.problems)} problem(s); the first: {self.problems[0]}", file=self.spec
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": "check",
            "spec": str(self.spec),
            "ok": self.ok,
            "problems": list(self.problems),
            "summary": self.summary,
        }


@dataclass(frozen=True)
class FailedTask:
    key: str
    log: str | None
    reason: str
    tail: tuple[str, ...]
    blocked: bool = False  # not run at all: a task it depends on failed


@dataclass(frozen=True)
class RunOutcome:
    """`foldrun run`: what ran, what was already done, the state counts after it."""

    run_dir: Path | None
    ran: tuple[str, ...]
    already_done: int
    counts: dict[str, int]
    failures: tuple[FailedTask, ...]
    exit_code: int
    dry_run: bool = False
    exported: str | None = None  # the MLflow export's line after a run with [mlflow]
    # the run as this call loaded and planned it (results/source.py): its summary reads it
    source: Any = field(default=None, repr=False, compare=False)
    # the state walk's digest of the task folders when the run ran nothing (runner.walk):
    # the summary kept with the same digest and tables is printed again (report/terminal.py)
    walked: str | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.exit_code == int(ExitCode.OK)

    def summary_lines(self) -> list[str]:
        """Each model's mean ± std and interval, as `foldrun run` prints them after a run
        (report/terminal.py), from the results of the spec as this run loaded it."""
        # lazy: one command's work each (status loads no pydantic, no matplotlib)
        from foldrun.report.terminal import run_lines

        return run_lines(self.source if self.source is not None else self.run_dir, self.walked)

    @property
    def failed(self) -> tuple[FailedTask, ...]:
        """Tasks that ran and failed (not those left out because an upstream one failed)."""
        return tuple(f for f in self.failures if not f.blocked)

    @classmethod
    def of(
        cls, result: _RunnerResult, dry_run: bool, exported: str | None = None, source: Any = None
    ) -> RunOutcome:
        failures = tuple(
            FailedTask(f.key, str(f.log) if f.log else None, f.reason, tuple(f.tail), f.blocked)
            for f in result.failures
        )
        return cls(result.run_dir, tuple(result.to_run), result.already_done,
                   dict(result.counts), failures, result.exit_code, dry_run, exported,
                   source, result.walked)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": "run",
            "run_dir": str(self.run_dir) if self.run_dir else None,
            "dry_run": self.dry_run,
            "ran" if not self.dry_run else "would_run": list(self.ran),
            "already_done": self.already_done,
            "counts": self.counts,
            "failures": [f.__dict__ | {"tail": list(f.tail)} for f in self.failed],
            "not_run_upstream_failed": [f.key for f in self.failures if f.blocked],
            "exit_code": self.exit_code,
        }


@dataclass
class Project:
    """One spec file: check, plan, run, ask its status, results, report, query, track. Each
    call reads the spec as it is now, once (as one `foldrun` command does), and passes the
    loaded spec and its plan down: nothing below loads it again."""

    spec_path: Path
    _listener: Callable[..., object] | None = field(default=None, repr=False)

    @classmethod
    def load(cls, spec: str | Path) -> Project:
        """Load and validate the spec file (raises `SpecError` on a bad spec)."""
        # lazy: one command's work each (status loads no pydantic, no matplotlib)
        from foldrun.spec import load_spec

        path = Path(spec).expanduser().resolve()
        load_spec(path)
        return cls(path)

    @property
    def run_dir(self) -> Path:
        # lazy: one command's work each (status loads no pydantic, no matplotlib)
        from foldrun.run.runner import plan_spec

        return plan_spec(self.spec_path, make_split=False)[0]

    def _load(self) -> Spec:
        """The spec file as it is now (the one load of a call; SpecError on a bad spec)."""
        # lazy: one command's work each (status loads no pydantic, no matplotlib)
        from foldrun.spec import load_spec

        return load_spec(self.spec_path)

    def check(self) -> CheckResult:
        """Every problem of the spec, its data, split, models and templates; writes nothing."""
        # lazy: one command's work each (status loads no pydantic, no matplotlib)
        from foldrun.plan.check import check_spec, summary
        from foldrun.run.gpus import unmet_gpu_problem
        from foldrun.spec.load import parse_spec

        with user_output_to_stderr():  # user code imported to check it may print
            spec, problems = parse_spec(self.spec_path)
            found = check_spec(self.spec_path, (spec, list(problems)))
            if spec is not None and not found:
                found = [p for p in [unmet_gpu_problem(self.spec_path, spec)] if p]
            lines = tuple(p.line() for p in found)
            text = "" if lines else summary(self.spec_path, spec)
        return CheckResult(self.spec_path, lines, text, None if lines else spec)

    def status(self) -> Status:
        """The state of every planned task; writes nothing."""
        # lazy: one command's work each (status loads no pydantic, no matplotlib)
        from foldrun.run.status import planned_status

        # the plan an unchanged spec's query, report or run kept (plan/cache.py), else planned
        run_dir, rows = planned_status(self._load(), self.spec_path)
        infos = tuple(TaskInfo.of(r) for r in rows)
        return Status(run_dir, infos)

    def run(
        self,
        *,
        jobs: int = 1,
        backend: str = "local",
        gpus: Sequence[int] | None = None,
        models: Sequence[str] = (),
        folds: Sequence[int] = (),
        stages: Sequence[str] = (),
        datasets: Sequence[str] = (),
        force: bool = False,
        retries: int = 0,
        dry_run: bool = False,
        wait: bool = True,
    ) -> RunOutcome:
        """Run what is not done yet (as `foldrun run`); failed tasks are in the outcome, not
        raised. A run that finished (not a dry run, not a SLURM run left without waiting)
        is exported to MLflow when the spec's [mlflow] asks for it (`outcome.exported`)."""
        # lazy: one command's work each (status loads no pydantic, no matplotlib)
        from foldrun.plan import cache
        from foldrun.run.options import RunOptions
        from foldrun.run.runner import plan_run, resume_kept, run_planned
        from foldrun.spec.load import read_document
        from foldrun.spec.slurm import SlurmSpec

        options = RunOptions.of(backend=backend, jobs=jobs, gpus=gpus, models=models,
                                folds=folds, stages=stages, datasets=datasets, force=force,
                                retries=retries, dry_run=dry_run, wait=wait)  # fmt: skip
        options.check()  # before the spec is loaded, as the runner checks them
        spec = self._load()
        if backend == "slurm":  # its [slurm] table as loaded, not read from the file again
            options = replace(options, settings={"slurm": spec.slurm or SlurmSpec()})
        raw = read_document(spec.path)  # the keys the export and the summary take as written
        kept = resume_kept(spec, options)  # an unchanged spec's run with nothing to run
        if kept.result is not None and kept.tasks is not None:  # ran nothing, planned nothing
            result, tasks = kept.result, kept.tasks
        else:
            digest = cache.digest(spec)  # the plan it runs, kept for the next status (cache.py)
            with cache.recording() as read:
                run_dir, tasks = plan_run(spec, options)
            # a kept plan that still holds is this plan: not written again
            made = None if dry_run or kept.current else cache.planned(spec, digest, read)
            result = run_planned(spec.path, run_dir, tasks, options, self._listener,
                                 kept.walked)  # fmt: skip
            cache.keep_run_plan(spec, made, tasks.values())
        if dry_run or not (backend == "local" or wait):  # nothing finished to export
            return RunOutcome.of(result, dry_run)
        source = _run_source(spec, raw, tasks)
        exported = _export_after_run(spec, source) if result.to_run else None
        return RunOutcome.of(result, dry_run, exported, source)

    def results(self, dataset: str | None = None) -> Results:
        """The run's tables (tasks, metrics, predictions, folds) as pandas DataFrames; of
        one `dataset` in a spec with `[datasets]`."""
        # lazy: one command's work each (status loads no pydantic, no matplotlib)
        from foldrun.results import load_results

        return load_results(self.spec_path, dataset=dataset)

    def report(self, out: str | Path | None = None) -> Report:
        """Build the report folder (default `<run folder>/report`)."""
        return report(self.spec_path, out)

    def query(self, sql: str, refresh: bool = True) -> pd.DataFrame:
        """`foldrun query`: SQL (DuckDB) over the run's tables tasks, metrics, predictions,
        folds; `refresh=False` reads results/*.parquet as they are."""
        return query(self.spec_path, sql, refresh)

    def track(self, tracking_uri: str | None = None, experiment: str | None = None
              ) -> ExportReport:  # fmt: skip
        """`foldrun track`: the run's done tasks written (or replayed) into MLflow."""
        return track(self.spec_path, tracking_uri, experiment)


def load(spec: str | Path) -> Project:
    """`foldrun.api.load("foldrun.toml")`: the same as `Project.load`."""
    return Project.load(spec)


def _run_source(spec: Spec, raw: dict[str, Any], tasks: dict[str, PlannedTask]) -> RunSource:
    """The run as `Project.run` loaded and planned it (results/source.py), for the MLflow
    export and the summary after it: neither loads nor plans the spec again."""
    # lazy: one command's work each (status loads no pydantic, no matplotlib)
    from foldrun.plan.cache import as_rows
    from foldrun.results.source import RunSource

    # the plan's rows, not its tasks: the summary and the export run without the recipes
    return RunSource(spec.run_dir, spec.path, raw, spec, as_rows(tasks.values()), planned=True)


def _export_after_run(spec: Spec, source: RunSource) -> str | None:
    """With [mlflow] in the spec, the finished tasks mirrored into MLflow: its line (an
    export that failed says so and how to retry; it never fails the run)."""
    if spec.mlflow is None:  # no MLflow import without [mlflow]
        return None
    # lazy: one command's work each (status loads no pydantic, no matplotlib)
    from foldrun.track.mlflow import maybe_export_after_run

    return maybe_export_after_run(spec, source.run_dir, source)


# A run given by a spec file or a run folder (report, query and track read either); one
# spec file is `Project(spec).report()` / `.query()` / `.track()`.


def report(run: str | Path, out: str | Path | None = None) -> Report:
    """`foldrun report RUN`: the report folder of a spec's run or of a run folder (default
    `<run folder>/report`)."""
    # lazy: one command's work each (status loads no pydantic, no matplotlib)
    from foldrun.report import build_report

    return build_report(run, out)


def compare(runs: Sequence[str | Path], out: str | Path) -> Path:
    """`foldrun report A B ... --out DIR`: several runs compared as datasets (ranks,
    Friedman test, critical difference) in `out`; its index.html."""
    # lazy: one command's work each (status loads no pydantic, no matplotlib)
    from foldrun.report.build import build_across_report

    return build_across_report(list(runs), out)


def query(runs: str | Path | Sequence[str | Path], sql: str, refresh: bool = True
          ) -> pd.DataFrame:  # fmt: skip
    """`foldrun query`: SQL (DuckDB) over the tables of one run, or of several as datasets
    (every view their union with a `dataset` column first)."""
    # lazy: one command's work each (status loads no pydantic, no matplotlib)
    from foldrun.results.query import run_query

    return run_query(runs, sql, refresh_tables=refresh)


def query_answer(runs: str | Path | Sequence[str | Path], sql: str, refresh: bool = True
                 ) -> QueryAnswer:  # fmt: skip
    """`foldrun query` as the CLI prints it: `query`'s rows with their csv and json text
    (`.csv()`, `.json()`: what the DataFrame's to_csv / to_json wrote), without pandas for
    the usual column types: a fresh process's query of an unchanged run imports no pandas."""
    # lazy: one command's work each (status loads no pydantic, no matplotlib)
    from foldrun.results.query import query_answer as answer

    return answer(runs, sql, refresh_tables=refresh)


def track(run: str | Path, tracking_uri: str | None = None, experiment: str | None = None
          ) -> ExportReport:  # fmt: skip
    """`foldrun track`: a run's done tasks written (or replayed) into MLflow; what could not
    be is in the report (`.ok`, `.failed`), never raised."""
    # lazy: one command's work each (status loads no pydantic, no matplotlib)
    import warnings

    from foldrun.track.mlflow import export_run

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLflow/SQLAlchemy deprecation chatter
        return export_run(run, tracking_uri=tracking_uri, experiment=experiment)
