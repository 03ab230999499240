"""`[datasets.<name>]`: every model runs on every dataset of one spec, each dataset in its
own folders (tasks/<dataset>/, split/<dataset>/, results/<dataset>/), with its own table or
filter and split options; status, query and the report carry the dataset; every number is
recomputed here from the task folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.reliability.helpers import invoke as cli  # in-process: each process took 1-2 s

ENTRY = """import pandas as pd
from sklearn.linear_model import LogisticRegression
def run_fold(ctx):
    model = LogisticRegression().fit(ctx.train[ctx.features], ctx.train[ctx.target])
    if ctx.test is None:  # the refit: nothing to predict
        return None
    p = model.predict_proba(ctx.test[ctx.features])
    return pd.DataFrame({"id": ctx.test[ctx.id], "proba_0": p[:, 0], "proba_1": p[:, 1]})
"""
# a command model: writes which dataset it ran on ({dataset} and FOLDRUN_DATASET)
COMMAND = """import os, sys, pandas as pd
stage, a, b, name = sys.argv[1:5]
if stage == "train":
    open(b + "/m.txt", "w").write(str(pd.read_csv(a)["label"].mean()))
    open(b + "/dataset.txt", "w").write(name + " " + os.environ.get("FOLDRUN_DATASET", "?"))
else:
    rows = pd.read_csv(a, dtype={"id": str})
    pd.DataFrame({"id": rows["id"], "pred": (rows["a"] > 0).astype(int),
                  "score": rows["a"]}).to_csv(b, index=False)
"""
SPEC = """name = "many"
[data]
table = "samples.csv"
id = "id"
target = "label"
group = "subject"
features = ["a", "b"]
[split]
strategy = "stratified-grouped"
folds = 3
seed = 1
[datasets.whole]
[datasets.siteA]
filter = "site == 'A'"
[datasets.other]
table = "other.csv"
split = { folds = 4, seed = 7 }
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
[models.ent]
entry = "ent:run_fold"
[models.cmd]
train = "python cmd.py train {train} {out} {dataset}"
predict = "python cmd.py predict {test} {predictions} {dataset}"
"""
DATASETS = {"whole": 3, "siteA": 3, "other": 4}  # name -> folds


def _table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = (x[:, 0] + 0.7 * rng.normal(size=n) > 0).astype(int)
    return pd.DataFrame({
        "id": [f"{i:04d}" for i in range(n)],  # `0007` stays `0007`
        "subject": [f"s{i % 30:03d}" for i in range(n)],
        "site": np.where(np.arange(n) % 30 < 12, "A", "B"),
        "a": x[:, 0], "b": x[:, 1], "label": y,
    })  # fmt: skip


def _project(root: Path) -> Path:
    _table(180, 0).to_csv(root / "samples.csv", index=False)
    _table(120, 1).to_csv(root / "other.csv", index=False)
    (root / "ent.py").write_text(ENTRY)
    (root / "cmd.py").write_text(COMMAND)
    (root / "foldrun.toml").write_text(SPEC)
    return root / "foldrun.toml"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("datasets")
    spec = _project(root)
    done = cli("run", str(spec), "-j", "2")
    assert done.returncode == 0, done.stderr
    return spec


def _ids(path: Path) -> set[str]:
    return set(pd.read_csv(path, dtype={"id": str})["id"])


def test_each_dataset_has_its_own_split_and_task_folders(run: Path) -> None:
    root = run.parent / "runs/many"
    whole = pd.read_csv(run.parent / "samples.csv", dtype={"id": str})
    site_a = set(whole.loc[whole["site"] == "A", "id"])
    for name, n_folds in DATASETS.items():
        folds = sorted(p.name for p in (root / "split" / name).glob("fold_*"))
        assert folds == [f"fold_{i:02d}" for i in range(n_folds)]
        tested = [_ids(root / "split" / name / f / "test.csv") for f in folds]
        every = set().union(*tested)
        if name == "siteA":
            assert every == site_a  # the filter's rows, and only they
        if name == "other":
            assert every == _ids(run.parent / "other.csv")
        for model in ("lr", "ent", "cmd"):
            for f in folds:
                assert (root / "tasks" / name / model / "default" / f / "train" / "DONE").is_file()
    # the dataset is the command's {dataset} and FOLDRUN_DATASET
    text = (root / "tasks/siteA/cmd/default/fold_01/train/dataset.txt").read_text()
    assert text == "siteA siteA"
    manifests = (root / "split/whole/fold_00").glob("*.csv")
    assert "0007" in set().union(*(_ids(m) for m in manifests))  # ids kept as written


def test_no_two_datasets_share_a_task_folder(run: Path) -> None:
    from foldrun.plan import build_plan
    from foldrun.spec import load_spec

    plan = build_plan(load_spec(run))
    folders = [t.task_dir for t in plan.tasks.values()]
    assert len(folders) == len(set(folders)) == len(plan.tasks)
    for task in plan.tasks.values():
        assert task.key.startswith(f"{task.dataset}/")
        assert task.task_dir.relative_to(run.parent / "runs/many/tasks" / task.dataset)
    counts = {d: sum(t.dataset == d for t in plan.tasks.values()) for d in DATASETS}
    # per model: folds x (train, predict, evaluate) + refit (cmd has no refit template)
    assert counts == {d: 3 * (3 * n) + 2 for d, n in DATASETS.items()}


def test_status_json_and_rerun_carry_the_dataset(run: Path) -> None:
    shown = cli("status", str(run), "--format", "json")
    assert shown.returncode == 0, shown.stderr
    status = json.loads(shown.stdout)
    assert {t["dataset"] for t in status["tasks"]} == set(DATASETS)
    assert status["counts"] == {"done": len(status["tasks"])}
    table = cli("status", str(run))
    assert "dataset" in table.stdout.splitlines()[2] and "siteA" in table.stdout
    again = cli("run", str(run))
    assert again.returncode == 0 and "0 task(s) run" in again.stdout


def _fold_scores(root: Path, dataset: str, model: str) -> list[float]:
    """test roc_auc of each fold, from the task folders' predictions."""
    from sklearn.metrics import roc_auc_score

    scores = []
    for f in range(DATASETS[dataset]):
        folder = root / "tasks" / dataset / model / "default" / f"fold_{f:02d}" / "evaluate"
        metrics = json.loads((folder / "metrics.json").read_text())
        if model != "cmd":  # a command's scores are its own; lr and ent give probabilities
            test = pd.read_parquet(folder / "predictions.parquet").query("subset == 'test'")
            auc = roc_auc_score(test["y_true"], test["proba_1"])
            assert np.isclose(metrics["test/roc_auc"], auc)
        scores.append(metrics["test/roc_auc"])
    return scores


def test_query_has_a_dataset_column_recomputed_from_the_folders(run: Path) -> None:
    from foldrun.results.query import run_query

    root = run.parent / "runs/many"
    sql = ("SELECT dataset, model, avg(value) AS mean, count(*) AS n FROM metrics WHERE "
           "subset = 'test' AND metric = 'roc_auc' AND fold >= 0 GROUP BY ALL")  # fmt: skip
    table = run_query(run, sql).set_index(["dataset", "model"])
    assert len(table) == 3 * 3
    for dataset, n in DATASETS.items():
        for model in ("lr", "ent", "cmd"):
            scores = _fold_scores(root, dataset, model)
            assert table.loc[(dataset, model), "n"] == n
            assert np.isclose(table.loc[(dataset, model), "mean"], np.mean(scores))
    shown = cli("query", str(run), "SELECT DISTINCT dataset FROM tasks ORDER BY 1", "--format",
                "csv")  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["dataset", "other", "siteA", "whole"]


def test_results_of_a_dataset_and_the_report_across_them(run: Path) -> None:
    import foldrun
    from foldrun.errors import ReportError

    root = run.parent / "runs/many"
    with pytest.raises(ReportError, match="has datasets whole, siteA, other"):
        foldrun.load_results(run)
    site = foldrun.load_results(run, dataset="siteA")
    auc = site.summary().query("metric == 'roc_auc'").set_index("model")["mean"]
    assert np.isclose(auc["lr"], np.mean(_fold_scores(root, "siteA", "lr")))
    made = cli("report", str(run))
    assert made.returncode == 0, made.stderr
    assert "dataset siteA:" in made.stdout
    report = root / "report"
    html = (report / "index.html").read_text()
    assert 'href="siteA/index.html"' in html and "Models across datasets" in html
    own_page = (report / "siteA/index.html").read_text()
    assert "<title>foldrun report: many, dataset siteA</title>" in own_page
    across = json.loads((report / "cv_summary.json").read_text())
    for dataset in DATASETS:
        own = json.loads((report / dataset / "cv_summary.json").read_text())
        lr = next(m for m in own["models"] if m["model"] == "lr")
        assert np.isclose(lr["mean"], np.mean(_fold_scores(root, dataset, "lr")))
        assert np.isclose(across["scores"]["lr"][dataset], lr["mean"])
        assert own["complete"] is True
    # 3 datasets: the Friedman test ran over the models' ranks
    assert across["across"]["friedman_p"] is not None


def test_one_dataset_first_then_the_rest_leaves_it_untouched(tmp_path: Path) -> None:
    spec = _project(tmp_path)
    first = cli("run", str(spec), "--datasets", "siteA", "--models", "lr")
    assert first.returncode == 0, first.stderr
    tasks = tmp_path / "runs/many/tasks"
    assert sorted(p.name for p in tasks.iterdir()) == ["siteA"]
    done = tasks / "siteA/lr/default/fold_00/train/DONE"
    stamp = done.stat().st_mtime_ns
    rest = cli("run", str(spec), "--models", "lr")
    assert rest.returncode == 0, rest.stderr
    assert done.stat().st_mtime_ns == stamp  # not redone
    assert sorted(p.name for p in tasks.iterdir()) == ["other", "siteA", "whole"]
    wrong = cli("run", str(spec), "--datasets", "nope")
    assert wrong.returncode == 2 and "no dataset 'nope'" in wrong.stderr
    assert "whole, siteA, other" in wrong.stderr


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        ("filter = \"site == 'A'\"", None),
        ("filter = \"nosuchcolumn > 1\"", ["datasets.siteA.filter", "nosuchcolumn"]),
        ("filter = \"site == 'Z'\"", ["datasets.siteA.filter", "keeps no row"]),
    ],
)
def test_a_bad_filter_is_one_line_and_nothing_is_written(
    tmp_path: Path, edit: str, words: list[str] | None
) -> None:
    spec = _project(tmp_path)
    spec.write_text(SPEC.replace("filter = \"site == 'A'\"", edit))
    done = cli("run", str(spec), "--datasets", "siteA", "--dry-run")
    if words is None:
        assert done.returncode == 0, done.stderr
        assert not (tmp_path / "runs").exists()  # a dry run writes nothing
        return
    assert done.returncode == 2
    line = done.stderr.strip()
    assert "\n" not in line and all(w in line for w in words), line
    again = cli("run", str(spec))
    assert again.returncode == 2 and not (tmp_path / "runs/many/tasks").exists()


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("[datasets.'a/b']\n", ["dataset name", "a/b"]),
        ("[datasets.'.hidden']\n", ["dataset name", ".hidden"]),
        ("[race]\nafter = 2\n", ["[race] with [datasets]"]),
        ("[datasets.bad]\nsplit = { folds = 1 }\n", ["folds"]),
        ("[datasets.bad]\ntabel = 'x.csv'\n", ["tabel"]),
    ],
)
def test_bad_datasets_tables_are_refused(tmp_path: Path, extra: str, words: list[str]) -> None:
    spec = _project(tmp_path)
    spec.write_text(SPEC + extra)
    done = cli("run", str(spec))
    assert done.returncode == 2
    line = done.stderr.strip()
    assert "\n" not in line and all(w in line for w in words), line
    assert not (tmp_path / "runs").exists()


def test_an_edited_filter_after_a_run_is_refused(tmp_path: Path) -> None:
    spec = _project(tmp_path)
    assert cli("run", str(spec), "--models", "lr", "--datasets", "siteA").returncode == 0
    spec.write_text(SPEC.replace("site == 'A'", "site == 'B'"))
    done = cli("run", str(spec), "--models", "lr")
    assert done.returncode == 2
    assert "the filter changed" in done.stderr and "\n" not in done.stderr.strip()


def test_check_counts_every_dataset_and_names_the_one_at_fault(tmp_path: Path) -> None:
    spec = _project(tmp_path)
    ok = cli("check", str(spec))
    assert ok.returncode == 0, ok.stderr
    # lr, ent, cmd: 3 x (3 stages x folds) + 2 refits, per dataset
    total = sum(3 * 3 * n + 2 for n in DATASETS.values())
    assert f"{total} task(s) over 3/3/4 fold(s) in 3 dataset(s)" in ok.stdout
    pd.read_csv(tmp_path / "other.csv").drop(columns="b").to_csv(tmp_path / "other.csv",
                                                                  index=False)  # fmt: skip
    spec.write_text(SPEC.replace("site == 'A'", "sitex == 'A'"))
    bad = cli("check", str(spec))
    assert bad.returncode == 2
    lines = bad.stderr.strip().splitlines()
    assert any("datasets.siteA.filter" in x and "dataset siteA" in x for x in lines), lines
    assert any("column 'b'" in x and "dataset other" in x and "other.csv" in x for x in lines)
    assert not any("dataset whole" in x for x in lines)
    assert not (tmp_path / "runs").exists()


def test_several_runs_with_datasets_compare_every_dataset(run: Path, tmp_path: Path) -> None:
    second = _project(tmp_path)
    second.write_text(SPEC.replace('name = "many"', 'name = "again"'))
    assert cli("run", str(second), "--models", "lr").returncode == 0
    made = cli("report", str(run), str(second), "--out", str(tmp_path / "cmp"))
    assert made.returncode == 0, made.stderr
    summary = json.loads((tmp_path / "cmp/cv_summary.json").read_text())
    names = [f"{r}/{d}" for r in ("many", "again") for d in DATASETS]
    assert summary["across"]["datasets"] == names
    for root, name in ((tmp_path / "runs/again", "again"), (run.parent / "runs/many", "many")):
        lr = np.mean(_fold_scores(root, "other", "lr"))  # from the task folders
        assert np.isclose(summary["scores"]["lr"][f"{name}/other"], lr)
    shown = cli("query", str(run), str(second), "SELECT DISTINCT dataset FROM tasks ORDER BY 1",
                "--format", "csv")  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split()[1:] == sorted(names)


def test_the_python_api_runs_one_dataset_and_reads_its_tables(tmp_path: Path) -> None:
    import foldrun.api as fr
    from foldrun.errors import RunError

    spec = _project(tmp_path)
    project = fr.Project.load(spec)
    outcome = project.run(datasets=["siteA"], models=["lr"], jobs=2)
    assert outcome.ok and len(outcome.ran) == 3 * 3 + 1
    assert all(key.startswith("siteA/lr/") for key in outcome.ran)
    status = project.status()
    done = {t.dataset for t in status.tasks if t.state == "done"}
    assert done == {"siteA"} and not status.complete
    tasks = project.results(dataset="siteA").tasks
    done_rows = tasks[tasks["state"] == "done"]
    assert len(done_rows) == 10 and set(done_rows["model"]) == {"lr"}
    assert len(tasks) == 3 * 3 * 3 + 2  # the dataset's plan: the rest is pending
    with pytest.raises(RunError, match="no dataset 'nope'"):
        project.run(datasets=["nope"])


def test_the_table_the_splits_share_is_not_kept_after_planning(tmp_path: Path) -> None:
    from foldrun.data.table import _last_read
    from foldrun.plan import build_plan
    from foldrun.spec import load_spec

    spec = _project(tmp_path)
    plan = build_plan(load_spec(spec))  # no split yet: each dataset's made in memory
    assert {t.dataset for t in plan.tasks.values()} == set(DATASETS)
    assert _last_read.cache_info().currsize == 0  # a long run must not hold the table
    assert not (tmp_path / "runs").exists()


def test_the_datasets_reports_drawn_in_parallel_are_the_ones_drawn_alone(
    run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each dataset's report is built in a forked worker (two here): every file is the same
    bytes as a report built wholly in this process, and the figure cache is kept per
    dataset as before."""
    import shutil

    from foldrun.report import build_report, figure_cache, figure_pool

    results = run.parent / "runs/many/results"

    def fresh(out: Path) -> dict[str, bytes]:
        for cache in results.glob(f"*/{figure_cache.CACHE}"):
            shutil.rmtree(cache)
        build_report(run, out)
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
                if p.is_file()}  # fmt: skip

    monkeypatch.setattr(figure_pool, "WORKERS", 1)
    alone = fresh(tmp_path / "alone")
    monkeypatch.setattr(figure_pool, "WORKERS", 2)
    spread = fresh(tmp_path / "spread")
    assert spread == alone
    assert {f"{d}/index.html" for d in DATASETS} <= set(spread)
    assert all(any((results / d / figure_cache.CACHE).glob("*.png")) for d in DATASETS)
    assert figure_pool.WORKERS == 2  # restored after the datasets were spread
