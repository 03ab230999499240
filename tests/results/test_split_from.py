"""A run that reuses a split (`[split] from`) reads that split's folds table and
details.json in its results and report, as a run with its own split does."""

from __future__ import annotations

import json
from pathlib import Path

import foldrun
from tests.reliability.helpers import foldrun as cli
from tests.reliability.helpers import project


def test_split_from_keeps_folds_table_and_details(tmp_path: Path) -> None:
    spec = project(tmp_path, folds=3, grid=2)
    made = cli("split", "samples.csv", "--out", "shared_split", "--id", "id", "--target",
               "target", "--folds", "3", cwd=tmp_path)  # fmt: skip
    assert made.returncode == 0, made.stderr
    text = spec.read_text().replace("folds = 3\nseed = 0", 'from = "shared_split"')
    spec.write_text(text)
    done = cli("run", str(spec))
    assert done.returncode == 0, done.stderr
    results = foldrun.load_results(spec)
    assert not results.folds.empty  # n_test / n_train for the t-test come from it
    assert set(results.folds["fold"]) == {0, 1, 2}
    reported = cli("report", str(spec))
    assert reported.returncode == 0, reported.stderr
    html = (tmp_path / "runs/toy/report/index.html").read_text()
    assert "No split/details.json found" not in html
    details = json.loads((tmp_path / "shared_split/details.json").read_text())
    assert f"{details['n_rows']}" in html
