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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foldrun.errors import ExitCode, SpecError

if TYPE_CHECKING:
    from foldrun.report.build import Report
    from foldrun.results import Results
    from foldrun.run.runner import RunResult as _RunnerResult


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
        import dataclasses

        return cls(**{**dataclasses.asdict(row), "state": row.state.value})


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

    @property
    def ok(self) -> bool:
        return self.exit_code == int(ExitCode.OK)

    @property
    def failed(self) -> tuple[FailedTask, ...]:
        """Tasks that ran and failed (not those left out because an upstream one failed)."""
        return tuple(f for f in self.failures if not f.blocked)

    @classmethod
    def of(cls, result: _RunnerResult, dry_run: bool) -> RunOutcome:
        failures = tuple(
            FailedTask(f.key, str(f.log) if f.log else None, f.reason, tuple(f.tail), f.blocked)
            for f in result.failures
        )
        return cls(result.run_dir, tuple(result.to_run), result.already_done,
                   dict(result.counts), failures, result.exit_code, dry_run)  # fmt: skip

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
    """One spec file: load it once, then check, plan, run, ask its status, results, report."""

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

    def check(self) -> CheckResult:
        """Every problem of the spec, its data, split, models and templates; writes nothing."""
        # lazy: one command's work each (status loads no pydantic, no matplotlib)
        from foldrun.plan.check import check_spec, summary

        with user_output_to_stderr():  # user code imported to check it may print
            problems = tuple(p.line() for p in check_spec(self.spec_path))
            text = "" if problems else summary(self.spec_path)
        return CheckResult(self.spec_path, problems, text)

    def status(self) -> Status:
        """The state of every planned task; writes nothing."""
        # lazy: one command's work each (status loads no pydantic, no matplotlib)
        from foldrun.run.status import planned_status
        from foldrun.spec import load_spec

        # the plan an unchanged spec's query, report or run kept (plan/cache.py), else planned
        run_dir, rows = planned_status(load_spec(self.spec_path), self.spec_path)
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
        raised."""
        # lazy: one command's work each (status loads no pydantic, no matplotlib)
        from foldrun.run.options import RunOptions
        from foldrun.run.runner import run

        options = RunOptions.of(backend=backend, jobs=jobs, gpus=gpus, models=models,
                                folds=folds, stages=stages, datasets=datasets, force=force,
                                retries=retries, dry_run=dry_run, wait=wait)  # fmt: skip
        result = run(self.spec_path, options, self._listener)
        return RunOutcome.of(result, dry_run)

    def results(self, dataset: str | None = None) -> Results:
        """The run's tables (tasks, metrics, predictions, folds) as pandas DataFrames; of
        one `dataset` in a spec with `[datasets]`."""
        # lazy: one command's work each (status loads no pydantic, no matplotlib)
        from foldrun.results import load_results

        return load_results(self.spec_path, dataset=dataset)

    def report(self, out: str | Path | None = None) -> Report:
        """Build the report folder (default `<run folder>/report`)."""
        # lazy: one command's work each (status loads no pydantic, no matplotlib)
        from foldrun.report import build_report

        return build_report(self.spec_path, out)


def load(spec: str | Path) -> Project:
    """`foldrun.api.load("foldrun.toml")`: the same as `Project.load`."""
    return Project.load(spec)
