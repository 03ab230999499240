"""The `[report]` table of the spec (owned by results and report)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ReportSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    primary_metric: str | None = None  # default per task: roc_auc / balanced_accuracy, rmse, ...
