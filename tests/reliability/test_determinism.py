"""Same input + same seed -> the same bytes: split folders across runs and PYTHONHASHSEED
values; report tables across `--jobs 1` and `--jobs 2` (timing columns aside)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.reliability.helpers import invoke, project, table

TIMING = ["started", "ended", "wall_s", "cpu_s", "peak_mb", "host", "path"]


def _table() -> pd.DataFrame:
    frame = table(60)
    rng = np.random.default_rng(1)
    frame["patient"] = [f"p{i // 3}" for i in range(60)]
    frame["y"] = rng.normal(size=60).round(3)
    frame["l1"] = rng.integers(0, 2, 60)
    frame["l2"] = rng.integers(0, 2, 60)
    frame["site"] = rng.choice(["a", "b", "c"], 60)
    return frame


STRATEGIES = {
    "auto-grouped": ["--target", "target", "--group", "patient", "--val", "next-fold"],
    "continuous": ["--target", "y", "--strategy", "continuous", "--holdout", "0.2"],
    "multilabel": ["--target", "l1", "--target", "l2", "--strategy", "multilabel"],
    "repeated": ["--target", "target", "--stratify", "site", "--strategy",
                 "repeated-stratified", "--repeats", "2", "--inner", "2"],
}


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_split_bytes_identical_across_runs_and_hash_seeds(tmp_path: Path, strategy: str) -> None:
    _table().to_csv(tmp_path / "t.csv", index=False)
    outputs = []
    for n, hashseed in enumerate(["0", "1", "12345"]):
        done = invoke("split", "t.csv", "--out", f"out{n}", "--id", "id", "--folds", "3",
                       "--seed", "7", *STRATEGIES[strategy], cwd=tmp_path,
                       env={"PYTHONHASHSEED": hashseed})
        assert done.returncode == 0, done.stderr
        outputs.append(_files(tmp_path / f"out{n}"))
    assert len(outputs[0]) >= 5
    assert outputs[0] == outputs[1] == outputs[2]


def _report_tables(root: Path, jobs: str) -> dict[str, object]:
    spec = project(root, folds=3, grid=2)
    assert invoke("run", str(spec), "--jobs", jobs).returncode == 0
    assert invoke("report", str(spec)).returncode == 0
    run = root / "runs/toy"
    out: dict[str, object] = {}
    for path in sorted((run / "results").glob("*.parquet")):
        frame = pd.read_parquet(path)
        out[path.name] = frame.drop(columns=[c for c in TIMING if c in frame])
    summary = pd.read_csv(run / "report/fold_summary.csv")
    out["fold_summary.csv"] = summary.drop(
        columns=[c for c in summary if any(t in c for t in TIMING)]
    )
    out["cv_summary.json"] = json.loads((run / "report/cv_summary.json").read_text())
    return out


@pytest.mark.slow
def test_report_tables_identical_across_jobs(tmp_path: Path) -> None:
    # one folder (fingerprints hold the paths), emptied between the two runs
    one = _report_tables(tmp_path, "1")
    shutil.rmtree(tmp_path / "runs")
    two = _report_tables(tmp_path, "2")
    assert set(one) == set(two)
    for name in one:
        if isinstance(one[name], pd.DataFrame):
            pd.testing.assert_frame_equal(one[name], two[name], check_exact=True)
        else:
            assert one[name] == two[name], name
