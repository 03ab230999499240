"""The `[report]` table of the spec (owned by results and report)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from foldrun.core.imports import BadRef, MissingName, NameFailed, resolve


def load_scorer(ref: str, base: Path | None = None) -> Callable[..., Any]:
    """`module:function` -> the function; the spec's folder `base` goes first on sys.path
    (a module beside foldrun.toml imports). ValueError says what is wrong and what to do."""
    module_name, _, attr = ref.partition(":")
    try:
        obj = resolve(ref, base)
    except BadRef:
        raise ValueError(f"{ref!r} must look like 'module:function' "
                         "(e.g. 'sklearn.metrics:matthews_corrcoef')") from None  # fmt: skip
    except MissingName:
        raise ValueError(f"module {module_name!r} has no {attr!r}; fix the name") from None
    except NameFailed as err:
        raise ValueError(str(err)) from err
    except Exception as err:  # ImportError, or the module failing on import
        raise ValueError(f"cannot import {module_name!r} ({type(err).__name__}: {err}); "
                         "install it or fix the name") from err  # fmt: skip
    if not callable(obj):
        raise ValueError(f"{ref!r} is not a function; name one taking (y_true, predictions)")
    return obj


def _importable(ref: str) -> str:
    """Checked when the spec is read (`foldrun check`, `foldrun run`). A top-level module
    not found from here may lie beside the spec file (found when evaluate runs, with that
    folder on sys.path), so only that case is left to the run."""
    try:
        here = Path.cwd()
    except OSError:  # the working folder was removed
        here = None
    try:
        load_scorer(ref, here)
    except ValueError as err:
        cause = err.__cause__
        top = ref.partition(":")[0].split(".")[0]
        if isinstance(cause, ModuleNotFoundError) and cause.name == top:
            return ref
        raise
    return ref


Scorer = Annotated[str, AfterValidator(_importable)]


class ReportSpec(BaseModel):
    """How `foldrun report` ranks, compares and scores the models."""

    model_config = ConfigDict(extra="forbid")

    # default per task: roc_auc (else balanced_accuracy, accuracy), rmse, macro_f1
    primary_metric: str | None = Field(None, description=(
        "The metric models are ranked and compared on (default per task: roc_auc, else "
        "balanced_accuracy or accuracy; rmse; macro_f1); `external:<name>/<metric>` ranks "
        "on an external set."))  # fmt: skip
    confidence: float = Field(0.95, gt=0, lt=1, description=(
        "Confidence level of the t-intervals and the bootstrap intervals."))
    alpha: float = Field(0.05, gt=0, lt=1, description=(
        "Significance level of the model comparison (Holm-corrected p-values)."))
    bootstrap: int = Field(1000, ge=10, le=100_000, description=(
        "Bootstrap resamples of the pooled interval."))
    seed: int = Field(0, description="Seed of the bootstrap.")
    # custom metrics and scorers to minimise (built-in metrics know their direction)
    lower_is_better: list[str] = Field(default_factory=list, description=(
        "Custom metrics and scorers to minimise (built-in metrics know their direction)."))
    # metric name -> "module:function", called by foldrun's evaluate as f(y_true, predictions)
    # for every kind of model; maximised unless named in lower_is_better
    scorers: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")], Scorer] = Field(
        default_factory=dict, description=(
            'Metric name -> "module:function", called by foldrun\'s evaluate as '
            "f(y_true, predictions) for every kind of model."))  # fmt: skip
