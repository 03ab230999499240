"""The `[mlflow]` table of the spec (owned by experiment tracking)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class MlflowSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # relative sqlite/file paths are relative to the spec file's folder
    tracking_uri: str = "sqlite:///mlruns.db"
    experiment: str | None = None  # default: the spec's name
    artifacts: bool = True  # upload predictions, train.log, plots and the model files tasks wrote
    run_name_prefix: str = ""
    after_run: bool = True  # `foldrun run` exports when it finishes
