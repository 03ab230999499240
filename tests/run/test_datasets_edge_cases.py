"""`[datasets.<name>]` attacked: names that collide with the report's files, a report made
twice, `[split] from` beside a filter, a bad dataset after a good one, filters that are no
condition, run folders of datasets and of none mixed, variants that look like fold folders
in audit.log, an edited split of one dataset, a failed task in one dataset. Each bad input
is one line with exit code 2 and writes nothing; nothing foldrun did not make is deleted."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.reliability.helpers import foldrun as cli

HEAD = """name = "h"
[data]
table = "samples.csv"
id = "id"
target = "label"
features = ["a", "b"]
[split]
strategy = "stratified"
folds = 3
seed = 1
"""
LR = """[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
"""
# fails on fold 1 of the dataset `bad` only
ENTRY = """import pandas as pd
from sklearn.linear_model import LogisticRegression
def run_fold(ctx):
    if ctx.dataset == "bad" and ctx.fold == 1:
        raise RuntimeError("boom")
    model = LogisticRegression().fit(ctx.train[ctx.features], ctx.train[ctx.target])
    if ctx.test is None:
        return None
    p = model.predict_proba(ctx.test[ctx.features])
    return pd.DataFrame({"id": ctx.test[ctx.id], "proba_0": p[:, 0], "proba_1": p[:, 1]})
"""


def _table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = (x[:, 0] + 0.7 * rng.normal(size=n) > 0).astype(int)
    return pd.DataFrame({
        "id": [f"{i:04d}" for i in range(n)],
        "site": np.where(np.arange(n) % 20 < 8, "A", "B"),
        "a": x[:, 0], "b": x[:, 1], "label": y,
    })  # fmt: skip


def _project(root: Path, text: str) -> Path:
    _table(60, 0).to_csv(root / "samples.csv", index=False)
    _table(45, 1).to_csv(root / "other.csv", index=False)
    (root / "ent.py").write_text(ENTRY)
    spec = root / "foldrun.toml"
    spec.write_text(text)
    return spec


def _one_line_error(done, *words: str) -> str:  # type: ignore[no-untyped-def]
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    line = done.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, line
    assert all(w in line for w in words), line
    return line


def _checked(done, *words: str) -> None:  # type: ignore[no-untyped-def]
    """`foldrun check`: every problem, one line each; exit code 2."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert any(all(w in line for w in words) for line in done.stderr.splitlines()), done.stderr


def _files(root: Path) -> dict[str, int]:
    """Every file under root with its mtime: what a refused command must leave alone."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


# --- names and specs refused before anything is written ------------------------------------


def test_dataset_names_that_differ_only_in_case_are_refused(tmp_path: Path) -> None:
    # tasks/Site and tasks/site: one folder on macOS and Windows, two datasets' tasks mixed
    spec = _project(tmp_path, HEAD + "[datasets.Site]\n[datasets.site]\n" + LR)
    _one_line_error(cli("run", str(spec)), "'Site'", "'site'", "differ only in case")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("name", ["index.html", "cv_summary.json", "fold_summary.csv"])
def test_a_dataset_named_like_a_report_file_is_refused(tmp_path: Path, name: str) -> None:
    # report/<name>/ would be a folder where the comparison writes its file: the report crashed
    spec = _project(tmp_path, HEAD + f'[datasets."{name}"]\n[datasets.w]\n' + LR)
    _one_line_error(cli("run", str(spec)), "dataset name", name, "rename")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ('[datasets.w]\n[datasets.s]\nfilter = "site == \'A\'"\n', ["datasets.s.filter", "from"]),
        ('[datasets.w]\n[datasets.o]\ntable = "other.csv"\n', ["datasets.o.table", "from"]),
        ('[datasets.w]\nsplit = { from = "elsewhere" }\nfilter = "a > 0"\n',
         ["datasets.w.filter", "from"]),
    ],
)  # fmt: skip
def test_split_from_beside_a_filter_or_table_is_refused(
    tmp_path: Path, extra: str, words: list[str]
) -> None:
    # the folds of a split folder hold their own rows: the filter (or table) was silently
    # ignored, and every dataset ran on the very same rows
    text = HEAD.replace('strategy = "stratified"\nfolds = 3\nseed = 1\n', 'from = "splits"\n')
    spec = _project(tmp_path, text + extra + LR)
    _checked(cli("check", str(spec)), *words)
    _one_line_error(cli("run", str(spec)), *words)
    assert not (tmp_path / "runs").exists()


def test_data_filter_with_split_from_is_refused(tmp_path: Path) -> None:
    text = HEAD.replace('strategy = "stratified"\nfolds = 3\nseed = 1\n', 'from = "splits"\n')
    text = text.replace('target = "label"\n', "target = \"label\"\nfilter = \"site == 'A'\"\n")
    spec = _project(tmp_path, text + LR)
    _one_line_error(cli("run", str(spec)), "data.filter", "from")


def test_a_bad_last_dataset_leaves_no_split_of_the_first(tmp_path: Path) -> None:
    spec = _project(tmp_path, HEAD + "[datasets.w]\n[datasets.s]\nfilter = \"site == 'Z'\"\n" + LR)
    _one_line_error(cli("run", str(spec)), "datasets.s.filter", "keeps no row")
    assert not (tmp_path / "runs").exists()  # split/w/ was written before s failed


@pytest.mark.parametrize("query", ["label", "a + b", "site"])
def test_a_filter_that_is_no_condition_is_refused(tmp_path: Path, query: str) -> None:
    # `label` (0/1) made DataFrame.query pick rows 0 and 1 over and over; `a` dumped values
    spec = _project(tmp_path, HEAD + f'[datasets.s]\nfilter = "{query}"\n' + LR)
    line = _one_line_error(cli("run", str(spec), "--dry-run"), "datasets.s.filter", "no condition")
    assert len(line) < 400
    _checked(cli("check", str(spec)), "datasets.s.filter")
    assert not (tmp_path / "runs").exists()


def test_a_filter_keeps_exactly_its_rows(tmp_path: Path) -> None:
    from foldrun.plan.split import make_split
    from foldrun.spec import load_spec

    spec = _project(tmp_path, HEAD + "[datasets.s]\nfilter = \"site == 'A' or a > 1\"\n" + LR)
    folds = make_split(load_spec(spec).for_dataset("s"))
    table = _table(60, 0)
    want = set(table.loc[(table["site"] == "A") | (table["a"] > 1), "id"])
    ids = list(folds.table["id"])
    assert set(ids) == want and len(ids) == len(want)  # no row twice


# --- one run of two datasets, reported and queried -----------------------------------------


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("two")
    text = (HEAD + "[datasets.w]\n[datasets.o]\ntable = \"other.csv\"\nsplit = { repeats = 2 }\n"
            + LR + '[models.ent]\nentry = "ent:run_fold"\n')  # fmt: skip
    spec = _project(root, text)
    done = cli("run", str(spec), "-j", "2")
    assert done.returncode == 0, done.stderr
    return spec


def test_the_report_can_be_made_again(two: Path) -> None:
    report = two.parent / "runs/h/report"
    for _ in range(2):  # the second found report/w/ and refused the folder it made
        made = cli("report", str(two))
        assert made.returncode == 0, made.stderr
    assert (report / "w/index.html").is_file() and (report / "o/index.html").is_file()
    mine = report / "w" / "mine.png"  # the user's: never deleted
    mine.write_bytes(b"x")
    _one_line_error(cli("report", str(two)), "w/mine.png")
    assert mine.read_bytes() == b"x"
    mine.unlink()
    elsewhere = two.parent / "elsewhere"
    made = cli("report", str(two), "--out", str(elsewhere))
    assert made.returncode == 0, made.stderr
    assert (elsewhere / "o/cv_summary.json").is_file()
    assert cli("report", str(two), "--out", str(elsewhere)).returncode == 0


def test_a_folder_without_the_marker_keeps_its_subfolders(two: Path) -> None:
    # a user's folder that looks like an old report, with a subfolder: not foldrun's
    theirs = two.parent / "theirs"
    (theirs / "notes").mkdir(parents=True)
    for name in ("index.html", "cv_summary.json", "fold_summary.csv"):
        (theirs / name).write_text("mine")
    (theirs / "notes" / "index.html").write_text("mine")
    _one_line_error(cli("report", str(two), "--out", str(theirs)), "notes")
    assert (theirs / "notes/index.html").read_text() == "mine"


def test_repeats_beside_no_repeats_are_scored_from_the_folders(two: Path) -> None:
    from foldrun.results.query import run_query

    root = two.parent / "runs/h/tasks"
    table = run_query(two, "SELECT dataset, model, count(*) AS n, avg(value) AS mean FROM "
                      "metrics WHERE subset = 'test' AND metric = 'roc_auc' AND fold >= 0 "
                      "GROUP BY ALL").set_index(["dataset", "model"])  # fmt: skip
    for dataset, folders in (("w", ["fold_0*"]), ("o", ["repeat_0*/fold_0*"])):
        for model in ("lr", "ent"):
            found = sorted((root / dataset / model / "default").glob(f"{folders[0]}/evaluate"))
            scores = [json.loads((f / "metrics.json").read_text())["test/roc_auc"] for f in found]
            assert len(scores) == (3 if dataset == "w" else 6)
            assert table.loc[(dataset, model), "n"] == len(scores)
            assert np.isclose(table.loc[(dataset, model), "mean"], np.mean(scores))


def test_unknown_dataset_is_named(two: Path) -> None:
    import foldrun
    from foldrun.errors import ReportError

    with pytest.raises(ReportError, match=r"no dataset 'nope'.*datasets w, o"):
        foldrun.Project.load(two).results(dataset="nope")
    site = foldrun.Project.load(two).results(dataset="o")  # the API's view of one dataset
    assert set(site.tasks["fold"]) == {-1, 0, 1, 2} and set(site.tasks["repeat"]) == {0, 1}


def test_a_dataset_removed_from_the_spec_is_left_alone(two: Path, tmp_path: Path) -> None:
    # a copy of the run, so the other tests keep theirs
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(two.parent, root)
    spec = root / "foldrun.toml"
    spec.write_text(spec.read_text().replace('[datasets.o]\ntable = "other.csv"\n'
                                             "split = { repeats = 2 }\n", ""))  # fmt: skip
    before = {k: v for k, v in _files(root / "runs/h").items() if "/o/" in f"/{k}"}
    made = cli("report", str(spec))
    assert made.returncode == 0, made.stderr
    assert "dataset w:" in made.stdout and "dataset o:" not in made.stdout
    shown = cli("query", str(spec), "SELECT DISTINCT dataset FROM tasks", "--format", "csv")
    assert shown.returncode == 0 and shown.stdout.split() == ["dataset", "w"]
    assert cli("run", str(spec)).returncode == 0
    after = _files(root / "runs/h")
    # tasks/o, split/o, results/o: still there, untouched (report/o was foldrun's report)
    assert {k: v for k, v in before.items() if not k.startswith("report/")} == {
        k: after[k] for k in before if not k.startswith("report/")
    }


# --- run folders of datasets and of none are never mixed -----------------------------------


def test_a_plain_run_folder_is_not_taken_by_datasets(tmp_path: Path) -> None:
    spec = _project(tmp_path, HEAD + LR)
    assert cli("run", str(spec)).returncode == 0
    before = _files(tmp_path / "runs/h")
    # `fold_00` would adopt split/fold_00 (a fold of the plain split) as its split
    spec.write_text(HEAD + "[datasets.fold_00]\n[datasets.lr]\n" + LR)
    for args in (("run",), ("run", "--dry-run"), ("status",), ("check",)):
        done = cli(*args, str(spec))
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "datasets" in done.stdout + done.stderr and "Traceback" not in done.stderr
    _one_line_error(cli("report", str(spec)), "datasets")
    _one_line_error(cli("query", str(spec), "SELECT 1"), "datasets")
    assert _files(tmp_path / "runs/h") == before


def test_a_datasets_run_folder_is_not_read_as_a_plain_run(tmp_path: Path) -> None:
    spec = _project(tmp_path, HEAD + "[datasets.w]\n" + LR)
    assert cli("run", str(spec)).returncode == 0
    before = _files(tmp_path / "runs/h")
    spec.write_text(HEAD + LR)  # every dataset removed: an empty report, a misleading error
    _one_line_error(cli("run", str(spec)), "datasets w", "has none")
    _one_line_error(cli("status", str(spec)), "datasets w")
    _one_line_error(cli("report", str(spec)), "datasets w")
    _one_line_error(cli("query", str(spec), "SELECT 1"), "datasets w")
    assert _files(tmp_path / "runs/h") == before


# --- audit.log of a dataset whose variant looks like a fold part ---------------------------


def test_a_variant_like_a_fold_part_keeps_its_audit_lines(tmp_path: Path) -> None:
    from foldrun.core.audit import audit_line, split_key
    from foldrun.results.collect import read_audit

    # grid { inner = ["relu"] } names its variant inner_relu
    assert split_key("d/m/inner_relu/fold_01/train") == ("fold_01", "d/m/inner_relu", "train")
    assert split_key("d/m/v/repeat_01/fold_02/inner_00/predict") == (
        "repeat_01/fold_02/inner_00", "d/m/v", "predict")  # fmt: skip
    assert split_key("all/m/v/all/refit") == ("all", "all/m/v", "refit")
    assert split_key("m/v/fold_00/train") == ("fold_00", "m/v", "train")
    log = tmp_path / "audit.log"
    log.write_text(audit_line("d/m/inner_relu/fold_01/train", "failed", "boom"))
    assert read_audit(log, "d") == {("m", "inner_relu", 1, 0, "train"): "failed"}


# --- an edited split of one dataset --------------------------------------------------------


def test_an_edited_dataset_seed_is_refused_naming_it_even_with_force(tmp_path: Path) -> None:
    text = HEAD + "[datasets.w]\n[datasets.o]\ntable = \"other.csv\"\nsplit = { seed = 5 }\n" + LR
    spec = _project(tmp_path, text)
    assert cli("run", str(spec)).returncode == 0
    before = _files(tmp_path / "runs/h")
    spec.write_text(text.replace("seed = 5", "seed = 6"))
    for args in (("run", "--force"), ("run", "--force", "--datasets", "o"), ("status",)):
        _one_line_error(cli(*args, str(spec)), "datasets.o.split", "[split] options changed")
    assert _files(tmp_path / "runs/h") == before  # no fold of another seed mixed in


# --- a failed task in one dataset ----------------------------------------------------------


def test_a_failed_task_in_one_dataset_is_shown_there(tmp_path: Path) -> None:
    text = HEAD + "[datasets.good]\n[datasets.bad]\n" + '[models.ent]\nentry = "ent:run_fold"\n'
    spec = _project(tmp_path, text)
    done = cli("run", str(spec))
    assert done.returncode != 0 and "bad/ent/default/fold_01/train" in done.stdout + done.stderr
    status = json.loads(cli("status", str(spec), "--format", "json").stdout)
    tasks = status["tasks"]
    failed = {(t["dataset"], t["fold"], t["stage"]) for t in tasks if t["state"] != "done"}
    assert ("bad", "fold_01", "train") in failed and all(d == "bad" for d, _, _ in failed)
    made = cli("report", str(spec))
    assert made.returncode == 0, made.stderr
    report = tmp_path / "runs/h/report"
    index = (report / "index.html").read_text()
    # the comparison's page says which dataset is partial, and how much is missing there
    assert f"bad</a> (partial run: {len(failed)} task(s) not done)" in index
    assert "good</a> (partial" not in index
    # ent has 2 of 3 folds on `bad`: its row there and in the model x dataset table say so,
    # and the JSON names where; on `good` it is complete
    assert "ent (PARTIAL on bad 2/3)" in index
    across = json.loads((report / "cv_summary.json").read_text())
    assert across["partial"] == {"ent": {"bad": "2/3"}}
    rows = pd.read_csv(report / "fold_summary.csv")
    ent = rows[rows["model"] == "ent"].set_index("dataset")
    assert ent.loc["bad", ["folds", "partial"]].tolist() == ["2/3", True]
    assert ent.loc["good", ["folds", "partial"]].tolist() == ["3/3", False]
    own = json.loads((report / "bad/cv_summary.json").read_text())
    assert own["complete"] is False and len(own["missing"]) == len(failed)
    assert json.loads((report / "good/cv_summary.json").read_text())["complete"] is True


# --- `foldrun split` into a dataset's split folder waits for the run's lock -----------------


def test_split_into_a_dataset_split_folder_takes_the_run_lock(tmp_path: Path) -> None:
    _project(tmp_path, HEAD + LR)
    state = tmp_path / "runs/h/.foldrun"
    state.mkdir(parents=True)
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "started": "2026-01-01T00:00:00"}
    (state / "lock").write_text(json.dumps(owner))  # a runner (this process) holds it
    out = tmp_path / "runs/h/split/w"
    done = cli("split", str(tmp_path / "samples.csv"), "--out", str(out), "--id", "id",
               "--folds", "3")  # fmt: skip
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert not out.exists()


# --- external sets: checked against the rows that get into folds ---------------------------


def test_an_external_set_of_the_rows_a_filter_leaves_out(tmp_path: Path) -> None:
    text = HEAD + "[datasets.siteA]\nfilter = \"site == 'A'\"\n[external.siteB]\n"
    spec = _project(tmp_path, text + 'table = "siteB.csv"\n' + LR)
    table = _table(60, 0)
    table[table["site"] == "B"].to_csv(tmp_path / "siteB.csv", index=False)
    # train on site A, test on site B: no row of B ever trains, so it is allowed
    done = cli("run", str(spec))
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "runs/h/tasks/siteA/lr/default/fold_00/evaluate"
    metrics = json.loads((folder / "metrics.json").read_text())
    from sklearn.metrics import roc_auc_score

    rows = pd.read_parquet(folder / "predictions.parquet").query("subset == 'external:siteB'")
    assert set(rows["id"]) == set(table.loc[table["site"] == "B", "id"])
    want = roc_auc_score(rows["y_true"], rows["proba_1"])
    assert np.isclose(metrics["external:siteB/roc_auc"], want)
    # a dataset that trains on every row: refused, naming it, nothing written for it
    spec.write_text(text.replace("[external", "[datasets.whole]\n[external")
                    + 'table = "siteB.csv"\n' + LR)  # fmt: skip
    _one_line_error(cli("run", str(spec)), "external.siteB.table", "dataset whole")
    assert not (tmp_path / "runs/h/split/whole").exists()


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ('strategy = "grouped"', ["needs a group column"]),
        ("folds = 50", ["50 folds"]),
        ("", ["datasets.s.table", "nothere.csv", "[datasets.s] table"]),
        ('stratify = "nosuch"', ["nosuch"]),
    ],
)
def test_a_split_error_of_one_dataset_names_it(
    tmp_path: Path, override: str, words: list[str]
) -> None:
    own = f"split = {{ {override} }}\n" if override else 'table = "nothere.csv"\n'
    spec = _project(tmp_path, HEAD + "[datasets.w]\n[datasets.s]\n" + own + LR)
    for args in (("run",), ("status",), ("run", "--dry-run")):
        found = ["dataset s:", str(spec)] if override else []  # else the key names it
        _one_line_error(cli(*args, str(spec)), *found, *words)
    assert not (tmp_path / "runs").exists()


def test_looking_at_a_dataset_split_from_a_folder_writes_nothing(tmp_path: Path) -> None:
    spec = _project(tmp_path, HEAD + '[datasets.w]\n[datasets.given]\nsplit = { from = "pre" }\n'
                    + LR)  # fmt: skip
    made = cli("split", str(tmp_path / "samples.csv"), "--out", str(tmp_path / "pre"), "--id",
               "id", "--target", "label", "--strategy", "stratified", "--folds", "3")  # fmt: skip
    assert made.returncode == 0, made.stderr
    # a dry run, status and check wrote .foldrun/datasets/given/split_from.json: a run
    # folder of nothing, which then counted as a run of these datasets
    for args in (("run", "--dry-run"), ("status",), ("check",)):
        done = cli(*args, str(spec))
        assert done.returncode in (0, 1) and not done.stderr, (args, done.stderr)  # 1: pending
    assert not (tmp_path / "runs").exists()
    assert cli("run", str(spec)).returncode == 0
    record = tmp_path / "runs/h/.foldrun/datasets/given/split_from.json"
    assert json.loads(record.read_text()) == {"from": str(tmp_path / "pre")}
    assert not (tmp_path / "runs/h/split/given").exists()  # its folds are pre's
    test = tmp_path / "runs/h/tasks/given/lr/default/fold_01/evaluate/predictions.parquet"
    ids = set(pd.read_parquet(test).query("subset == 'test'")["id"])
    assert ids == set(pd.read_csv(tmp_path / "pre/fold_01/test.csv", dtype={"id": str})["id"])


# --- a fold table in one dataset, a strategy in the others ---------------------------------


def test_a_dataset_fold_table_beside_a_shared_strategy_gives_the_folds(tmp_path: Path) -> None:
    from foldrun.plan.split import make_split
    from foldrun.spec import load_spec

    text = HEAD.replace("seed = 1\n", "seed = 1\nrepeats = 2\n")
    text += '[datasets.w]\n[datasets.ft]\ntable = "other.csv"\nsplit = { fold_column = "f.csv" }\n'
    spec = _project(tmp_path, text + LR)
    other = _table(45, 1)
    table = pd.DataFrame({"id": other["id"], "fold": [(i * 7) % 3 for i in range(45)]})
    table.to_csv(tmp_path / "f.csv", index=False)
    loaded = load_spec(spec)
    # the shared stratified strategy made make_folds ignore the fold table, silently
    folds = make_split(loaded.for_dataset("ft"))
    assert folds.details["strategy"] == "predefined" and folds.n_repeats == 1
    for f in range(3):
        want = set(table.loc[table["fold"] == f, "id"])
        assert set(folds.table["id"][folds.test_fold[0] == f]) == want
    whole = make_split(loaded.for_dataset("w"))  # the others keep the shared [split]
    assert whole.details["strategy"] == "stratified" and whole.n_repeats == 2
    # and a dataset's own strategy drops a shared fold table
    shared = HEAD.replace("seed = 1\n", 'seed = 1\nfold_column = "f.csv"\n')
    spec.write_text(shared + '[datasets.ft]\ntable = "other.csv"\n[datasets.k]\n'
                    'table = "other.csv"\nsplit = { strategy = "kfold" }\n' + LR)  # fmt: skip
    own = load_spec(spec).for_dataset("k").split
    assert own.fold_column is None and own.strategy == "kfold"
    assert load_spec(spec).for_dataset("ft").split.fold_column == "f.csv"
