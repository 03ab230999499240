"""Several runs compared as datasets: every number of the comparison is recomputed here
from the runs' own results, and the Friedman / Nemenyi figures from scipy."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.datasets import make_classification

import foldrun
from foldrun.results.across import compare_across
from tests.reliability.helpers import invoke as cli  # main() in this process

SPEC = """name = "{name}"
[data]
table = "samples.csv"
id = "id"
target = "label"
[split]
folds = 2
seed = {seed}
[models.logreg]
estimator = "sklearn.linear_model:LogisticRegression"
[models.stump]
estimator = "sklearn.tree:DecisionTreeClassifier"
params = {{ max_depth = 1 }}
[models.prior]
estimator = "sklearn.dummy:DummyClassifier"
"""


def _run(root: Path, name: str, seed: int) -> Path:
    root.mkdir()
    X, y = make_classification(n_samples=80, n_features=4, random_state=seed)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(4)]).assign(label=y)
    frame.insert(0, "id", [f"{name}-{i:03d}" for i in range(len(frame))])
    frame.to_csv(root / "samples.csv", index=False)
    (root / "foldrun.toml").write_text(SPEC.format(name=name, seed=seed))
    done = cli("run", str(root / "foldrun.toml"), "--stages", "train,predict,evaluate")
    assert done.returncode == 0, done.stderr
    return root / "foldrun.toml"


def test_report_over_four_runs_ranks_and_tests_as_demsar(tmp_path: Path) -> None:
    specs = [_run(tmp_path / f"d{i}", f"d{i}", i) for i in range(4)]
    done = cli("report", *map(str, specs), "--out", str(tmp_path / "cmp"))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "cmp/cv_summary.json").read_text())
    # the model x dataset table from each run's own results
    means = {}
    for spec in specs:
        s = foldrun.load_results(spec).summary()
        auc = s[s["metric"] == "roc_auc"].set_index("model")["mean"]
        means[spec.parent.name] = auc
    table = pd.DataFrame(means)
    for model, row in table.iterrows():
        for dataset, value in row.items():
            assert math.isclose(summary["scores"][model][dataset], value)
    ranks = table.rank(axis=0, ascending=False).mean(axis=1)
    across = summary["across"]
    for model, rank in ranks.items():
        assert math.isclose(across["mean_ranks"][model], rank)
    stat, p = stats.friedmanchisquare(*table.to_numpy())
    assert math.isclose(across["friedman_p"], p)
    assert math.isclose(across["friedman_statistic"], stat)
    assert math.isclose(across["critical_difference"], 2.344 * math.sqrt(3 * 4 / (6 * 4)),
                        rel_tol=1e-3)  # Demšar's table: q_0.05 = 2.343 for 3 models
    assert (tmp_path / "cmp/critical_difference.png").stat().st_size > 1000
    html = (tmp_path / "cmp/index.html").read_text()
    assert "Ranking on d3" in html and "Friedman test" in html
    assert "<script" not in html.lower()


def test_two_runs_rank_without_a_test_and_need_out(tmp_path: Path) -> None:
    specs = [_run(tmp_path / f"d{i}", f"d{i}", i) for i in range(2)]
    refused = cli("report", *map(str, specs))
    assert refused.returncode == 2 and "pass --out" in refused.stderr
    done = cli("report", *map(str, specs), "--out", str(tmp_path / "cmp"))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "cmp/cv_summary.json").read_text())
    assert summary["across"]["friedman_p"] is None
    assert "3 or more datasets" in summary["across"]["note"]
    assert not (tmp_path / "cmp/critical_difference.png").exists()


@pytest.mark.parametrize("greater", [True, False])
def test_cliques_join_models_closer_than_the_critical_difference(greater: bool) -> None:
    rng = np.random.default_rng(0)
    base = np.array([0.9, 0.89, 0.6, 0.5])[:, None] + rng.normal(0, 0.005, (4, 12))
    scores = pd.DataFrame(base if greater else -base, index=list("abcd"))
    across = compare_across(scores, greater_is_better=greater)
    assert across.friedman_p is not None and across.friedman_p < 0.05
    assert list(across.mean_ranks.index[:2]) in (["a", "b"], ["b", "a"])
    assert ["a", "b"] in [sorted(c) for c in across.cliques()]  # 1 vs 2: within the CD
    assert not any({"a", "d"} <= set(c) for c in across.cliques())
