"""An entry function that returns nothing for a fold (it forgot the `return`, or wrote its
predictions somewhere of its own): its train stage fails, saying so."""

from __future__ import annotations

from pathlib import Path

from tests.reliability.helpers import foldrun, table
from tests.run.test_user_code import HEAD

SPEC = HEAD + '[models.fn]\nentry = "forgot:run_fold"\n'
FORGOT = """def run_fold(ctx):
    ctx.train.describe()  # fitted, predicted, but not returned
"""


def test_a_fold_whose_entry_returns_none_fails_its_train_stage(tmp_path: Path) -> None:
    """train was done with no predictions; predict then failed with a traceback of
    FileNotFoundError on the train folder's predictions.parquet."""
    table().to_csv(tmp_path / "samples.csv", index=False)
    (tmp_path / "forgot.py").write_text(FORGOT)
    (tmp_path / "foldrun.toml").write_text(SPEC)
    done = foldrun("run", str(tmp_path / "foldrun.toml"))
    assert done.returncode == 1
    assert "FAILED fn/default/fold_00/train" in done.stderr, done.stderr
    assert "FileNotFoundError" not in done.stderr
    assert "run_fold returned None for fold 0" in done.stderr
