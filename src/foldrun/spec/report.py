"""The `[report]` table of the spec (owned by results and report)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReportSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # default per task: roc_auc (else balanced_accuracy, accuracy), rmse, macro_f1
    primary_metric: str | None = None
    confidence: float = Field(0.95, gt=0, lt=1)  # of the t-intervals and bootstrap intervals
    alpha: float = Field(0.05, gt=0, lt=1)  # significance level of the model comparison
    bootstrap: int = Field(1000, ge=10, le=100_000)  # resamples of the pooled interval
    seed: int = 0  # of the bootstrap
    # custom metrics to minimise (built-in metrics know their direction): ["sam", "loss"]
    lower_is_better: list[str] = Field(default_factory=list)
