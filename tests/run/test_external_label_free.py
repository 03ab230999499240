"""External sets without labels (issue 25 item 4): a benchmark corpus with no target column
is valid when the models' own evaluate scores it (seed 004: event-level scoring against the
author's annotations); its metrics can be the primary metric the models are ranked on."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import foldrun
from foldrun.errors import ReportError
from foldrun.spec import load_spec

# train: the mean label; predict: a score from feature `a` shifted by --bias; evaluate: on the
# folds, accuracy against {test}'s labels; on the corpus ({external} set), F1 against the
# author's own annotation file, since the corpus table has no label column
SPOT = """import json, math, os, sys
from pathlib import Path
import pandas as pd
step, args = sys.argv[1], dict(zip(sys.argv[2::2], sys.argv[3::2]))
if step == "train":
    Path(args["--out"], "m.txt").write_text(str(pd.read_csv(args["--train"])["label"].mean()))
elif step == "predict":
    rows = pd.read_csv(args["--test"], dtype={"id": str})
    score = 1 / (1 + (-(rows["a"] + float(args["--bias"]))).map(math.exp))
    pd.DataFrame({"id": rows["id"], "score": score, "pred": (score >= 0.5).astype(int)}).to_csv(
        args["--preds"], index=False)
else:
    pred = pd.read_parquet(args["--preds"]).set_index("id")["pred"]
    if args["--set"]:
        truth = pd.read_csv("events.csv", dtype={"id": str}).set_index("id")["call"]
        hit = int(((pred == 1) & (pred.index.map(truth) == 1)).sum())
        value = 2 * hit / max(int((pred == 1).sum()) + int((truth == 1).sum()), 1)
        metrics = {"f1": value}
    else:
        truth = pd.read_csv(args["--test"], dtype={"id": str}).set_index("id")["label"]
        metrics = {"test/hits": float((pred == pred.index.map(truth)).mean())}
    Path(os.environ["FOLDRUN_TASK_DIR"], "metrics.json").write_text(json.dumps(metrics))
"""
MODEL = """[models.{name}]
train = "python spot.py train --train {{train}} --out {{out}}"
predict = "python spot.py predict --test {{test}} --preds {{predictions}} --bias {bias}"
evaluate = "python spot.py evaluate --preds {{predictions}} --test {{test}} --set '{{external}}'"
"""
SPEC = """name = "bench"
[data]
table = "samples.csv"
id = "id"
target = "label"
[split]
folds = 3
[external.benchmark]
table = "bench.csv"
[report]
primary_metric = "external:benchmark/f1"
"""


def _table(n: int, start: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    y = (a + 0.5 * rng.normal(size=n) > 0).astype(int)
    return pd.DataFrame({"id": [f"{i:04d}" for i in range(start, start + n)], "a": a.round(4),
                         "label": y})  # fmt: skip


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of a good model (no bias) and a bad one (calls everything) on a corpus whose
    table has no label: its annotations are the program's own file."""
    root = tmp_path_factory.mktemp("labelfree")
    _table(60, 0, 0).to_csv(root / "samples.csv", index=False)
    bench = _table(40, 5000, 1)
    bench.drop(columns="label").to_csv(root / "bench.csv", index=False)
    bench.rename(columns={"label": "call"})[["id", "call"]].to_csv(root / "events.csv",
                                                                   index=False)  # fmt: skip
    (root / "spot.py").write_text(SPOT)
    models = MODEL.format(name="good", bias=0.0) + MODEL.format(name="bad", bias=5.0)
    (root / "foldrun.toml").write_text(SPEC + models)
    outcome = foldrun.Project(root / "foldrun.toml").run(jobs=2)
    assert outcome.exit_code == 0, outcome.to_dict()
    return root


def copy_of(finished: Path, tmp_path: Path) -> Path:
    shutil.copytree(finished, tmp_path / "run", symlinks=True)
    return tmp_path / "run" / "foldrun.toml"


def test_the_program_scores_the_corpus_and_foldrun_does_not(finished: Path) -> None:
    m = foldrun.load_results(finished / "foldrun.toml").metrics
    ext = m[m["subset"] == "external:benchmark"]
    assert set(ext["metric"]) == {"f1"}  # the program's; foldrun has no labels to score
    assert sorted(ext.loc[ext["model"] == "good", "model_set"]) == ["fold"] * 3  # no ensemble
    assert ext["value"].between(0, 1).all() and ext["value"].notna().all()
    assert set(m.loc[m["subset"] == "test", "metric"]) >= {"hits"}


def test_models_rank_on_the_corpus_metric(finished: Path) -> None:
    results = foldrun.load_results(finished / "foldrun.toml")
    assert results.primary == "external:benchmark/f1" and results.greater_is_better
    summary = results.summary()
    rows = summary[summary["metric"] == "external:benchmark/f1"].set_index("model")
    assert rows.loc["good", "n"] == 3 and rows.loc["good", "mean"] > rows.loc["bad", "mean"]
    m = results.metrics
    f1 = m[(m["subset"] == "external:benchmark") & (m["model"] == "good")]["value"].mean()
    assert rows.loc["good", "mean"] == pytest.approx(f1)
    assert results.selected().set_index("model").loc["good", "variant"] == "default"


def test_a_primary_metric_no_program_writes_is_named(finished: Path, tmp_path: Path) -> None:
    spec = copy_of(finished, tmp_path)
    spec.write_text(spec.read_text().replace("external:benchmark/f1", "external:benchmark/f2"))
    with pytest.raises(ReportError, match=r"'external:benchmark/f2'.*external:benchmark/f1"):
        _ = foldrun.load_results(spec).primary


def test_a_label_free_set_needs_every_model_to_score_it(finished: Path, tmp_path: Path) -> None:
    spec = copy_of(finished, tmp_path)
    text = spec.read_text() + '[models.plain]\nestimator = "sklearn.dummy:DummyClassifier"\n'
    spec.write_text(text)
    problems = foldrun.Project(spec).check().problems
    assert any("external.benchmark" in line and "no column 'label'" in line and "'plain'" in line
               for line in problems), problems  # fmt: skip
    assert load_spec(spec)  # the spec itself is fine: the data is what lacks the labels


@pytest.mark.slow
def test_the_report_ranks_on_the_corpus_metric(finished: Path, tmp_path: Path) -> None:
    spec = copy_of(finished, tmp_path)
    foldrun.Project(spec).report()
    summary = (spec.parent / "runs/bench/report/cv_summary.json").read_text()
    assert '"primary_metric": "external:benchmark/f1"' in summary
    page = (spec.parent / "runs/bench/report/index.html").read_text()
    assert "external:benchmark/f1" in page


def test_a_primary_metric_on_a_set_the_spec_lacks_is_one_line(tmp_path: Path) -> None:
    from foldrun.spec import parse_spec

    (tmp_path / "bench.csv").write_text("id,a\n9000,1\n")
    spec = tmp_path / "foldrun.toml"
    spec.write_text(SPEC.replace("external:benchmark/f1", "external:bench/f1")
                    + MODEL.format(name="good", bias=0.0))  # fmt: skip
    _, problems = parse_spec(spec)
    assert [p.line().split(": ", 1)[1] for p in problems] == [
        "[report] primary_metric 'external:bench/f1' must be external:<set>/<metric> with a "
        "set of [external] (here: benchmark)"
    ]
