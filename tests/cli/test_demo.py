"""`foldrun demo` end to end through the real console script."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_runs_end_to_end_and_resumes(tmp_path: Path) -> None:
    target = tmp_path / "demo dir"  # a space in the path on purpose
    out = subprocess.run(
        ["foldrun", "demo", str(target), "--jobs", "2"], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    assert {"foldrun.toml", "nearest_centroid.py", "samples.csv"} <= {
        p.name for p in target.iterdir()
    }
    run_dir = target / "runs" / "breast-cancer"
    evaluated = sorted(run_dir.glob("tasks/*/*/fold_*/evaluate/DONE"))
    assert len(evaluated) == 6 * 5  # logreg + 4 tree variants + centroid, 5 folds
    for model in ("logreg/default", "trees/md4-ne50", "centroid/default"):
        metrics = json.loads(
            (run_dir / "tasks" / model / "fold_00/evaluate/metrics.json").read_text()
        )
        assert 0.8 < metrics["test/roc_auc"] <= 1.0
        assert model.split("/")[0] in out.stdout
    assert "report:" in out.stdout or "report could not be built" in out.stderr
    # the report's numbers, not a bare mean: mean ± std [interval], and which are optimistic
    assert "roc_auc on the test folds: mean ± std [95% interval]" in out.stdout
    trees = next(line for line in out.stdout.splitlines() if "trees/" in line)
    assert " ± " in trees and "over 5 folds (optimistic" in trees
    status = subprocess.run(
        ["foldrun", "status", str(target / "foldrun.toml")], capture_output=True, text=True
    )
    assert status.returncode == 0
    again = subprocess.run(["foldrun", "demo", str(target)], capture_output=True, text=True)
    assert again.returncode == 0 and "0 task(s) run" in again.stdout
