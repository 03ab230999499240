"""What `foldrun run` was asked for: one object the CLI, the Python API and the runner share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from foldrun.errors import RunError
from foldrun.run.backends import backend_class
from foldrun.run.gpus import parse_gpus


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
    # the loaded spec's backend settings ({"slurm": SlurmSpec}): no backend reads the
    # spec file again (foldrun.api sets them; the runner hands them on in RunContext)
    settings: Mapping[str, object] = field(default_factory=dict, compare=False)

    @classmethod
    def of(
        cls,
        *,
        gpus: Sequence[int] | str | None = None,
        models: Sequence[str] | str | None = (),
        folds: Sequence[int] | int | None = (),
        stages: Sequence[str] | str | None = (),
        datasets: Sequence[str] | str | None = (),
        **rest: object,
    ) -> RunOptions:
        """From lists or None, as the CLI and the API get them; one value (a model's name,
        a fold number) is a list of it, and GPUs as text are read as `--gpus` reads them."""
        return cls(
            gpus=parse_gpus(gpus) if isinstance(gpus, str) else _values(gpus, None),
            models=_values(models),
            folds=_values(folds),
            stages=_values(stages),
            datasets=_values(datasets),
            **rest,  # type: ignore[arg-type]
        )

    def check(self) -> None:
        """Refuses a bad value in one line (before anything is planned or written)."""
        backend_class(self.backend)  # an unknown one is refused
        if not (_count(self.jobs, 1) and _count(self.retries, 0)):
            raise RunError(
                "--jobs must be an integer >= 1 and --retries an integer >= 0; got "
                f"{self.jobs!r} and {self.retries!r}",
                key="--jobs/--retries",
            )
        gpus = self.gpus or ()
        if not all(_count(g, 0) for g in gpus) or len(set(gpus)) != len(gpus):
            raise RunError(f"--gpus ids must be distinct integers >= 0; got {list(gpus)}",
                           key="--gpus")  # fmt: skip
        if not all(_count(f, 0) for f in self.folds):  # folds=["0"] was a TypeError
            raise RunError(f"--folds are fold numbers, integers >= 0; got {list(self.folds)}",
                           key="--folds")  # fmt: skip


def _values(given: object, empty: tuple[object, ...] | None = ()) -> tuple[object, ...] | None:
    """A list, a tuple or None (`empty`) as a tuple; one value (text, a number) as (value,)."""
    if given is None:
        return empty
    if isinstance(given, str | int):
        return (given,)
    return tuple(given)  # type: ignore[call-overload]


def _count(value: object, least: int) -> bool:
    """An integer (not a bool, a float or text) of at least `least`."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= least
