"""The `[mlflow]` table of the spec (owned by experiment tracking)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MlflowSpec(BaseModel):
    """Mirror the run's tasks into MLflow (`foldrun track`, and after `foldrun run`)."""

    model_config = ConfigDict(extra="forbid")

    # relative sqlite/file paths are relative to the spec file's folder
    tracking_uri: str = Field("sqlite:///mlruns.db", description=(
        "The MLflow tracking URI; a relative sqlite or file path is relative to the spec's "
        "folder."))  # fmt: skip
    experiment: str | None = Field(None, description="The MLflow experiment (default: the "
                                   "spec's name).")  # fmt: skip
    artifacts: bool = Field(True, description=(
        "Upload predictions, train.log, plots and the model files tasks wrote."))
    run_name_prefix: str = Field("", description="Text put before every MLflow run's name.")
    after_run: bool = Field(True, description="`foldrun run` exports the tasks when it finishes.")
