"""What `foldrun run` was asked for: one object the CLI, the Python API and the runner share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from foldrun.errors import RunError


@dataclass(frozen=True)
class RunOptions:
    backend: str = "local"
    jobs: int = 1
    gpus: tuple[int, ...] | None = None  # None: the backend finds them (local: all visible)
    models: tuple[str, ...] = ()  # model or model/variant
    folds: tuple[int, ...] = ()
    stages: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    force: bool = False  # rerun stale tasks
    retries: int = 0
    dry_run: bool = False
    wait: bool = True  # False: a scheduler backend submits and returns

    @classmethod
    def of(
        cls,
        *,
        gpus: Sequence[int] | None = None,
        models: Sequence[str] | None = (),
        folds: Sequence[int] | None = (),
        stages: Sequence[str] | None = (),
        datasets: Sequence[str] | None = (),
        **rest: object,
    ) -> RunOptions:
        """From lists or None, as the CLI and the API get them."""
        return cls(
            gpus=None if gpus is None else tuple(gpus),
            models=tuple(models or ()),
            folds=tuple(folds or ()),
            stages=tuple(stages or ()),
            datasets=tuple(datasets or ()),
            **rest,  # type: ignore[arg-type]
        )

    def check(self) -> None:
        if self.retries < 0 or self.jobs < 1:
            raise RunError("--jobs must be >= 1 and --retries >= 0", key="--jobs/--retries")
