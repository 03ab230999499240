"""Error types and exit codes shared by every part of foldrun.

Every error a user can cause is a `FoldrunError` subclass carrying the file, key or
column it is about; the CLI prints it as one line and exits with `ExitCode.BAD_INPUT`.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    OK = 0
    TASKS_FAILED = 1
    BAD_INPUT = 2


class FoldrunError(Exception):
    """Bad input: spec, data or arguments. One line: what is wrong, where, and what to do."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        key: str | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.key = key
        self.column = column

    def one_line(self) -> str:
        """The message as one line, prefixed with the file, key or column it names."""
        where = []
        if self.file:
            where.append(self.file)
        if self.key:
            where.append(f"key '{self.key}'")
        if self.column:
            where.append(f"column '{self.column}'")
        prefix = ": ".join(where)
        text = " ".join(self.message.split())  # never more than one line
        return f"{prefix}: {text}" if prefix else text


class DataError(FoldrunError):
    """A data table is unreadable, or a column is missing or holds bad values."""


class SplitError(FoldrunError):
    """Fold assignment is impossible with the data and options given."""


class SpecError(FoldrunError):
    """The spec file is invalid."""


class PlanError(FoldrunError):
    """The task graph cannot be built (e.g. a task needs more than the machine has)."""


class RunError(FoldrunError):
    """The run cannot start (e.g. the run folder is locked by another process)."""


class SchedulerError(FoldrunError):
    """A scheduler command (sbatch, squeue, sacct, scancel) failed."""


class TrackError(FoldrunError):
    """Experiment tracking is misconfigured (e.g. mlflow not installed)."""


class ReportError(FoldrunError):
    """Results cannot be reported or queried."""
