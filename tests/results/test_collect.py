from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

import foldrun
from foldrun.errors import ReportError, SpecError
from foldrun.results import collect
from tests.fixtures.synthetic_run import RunShape, write_run

CONTRACT_COLUMNS = {
    "tasks": ["model", "variant", "fold", "repeat", "stage", "state", "started", "ended",
              "wall_s", "cpu_s", "peak_mb", "exit_code", "fingerprint", "path"],
    "metrics": ["model", "variant", "fold", "repeat", "stage", "subset", "metric", "value",
                "model_set"],
    "folds": ["id", "repeat", "fold", "subset"],
}  # fmt: skip


def test_tables_have_the_contract_columns(run_dir: Path) -> None:
    res = foldrun.load_results(run_dir)
    for name, cols in CONTRACT_COLUMNS.items():
        assert list(getattr(res, name).columns) == cols
        assert list(pd.read_parquet(run_dir / "results" / f"{name}.parquet").columns) == cols
    assert list(res.predictions.columns[:6]) == [
        "model",
        "variant",
        "fold",
        "repeat",
        "subset",
        "id",
    ]
    assert {"y_true", "pred", "proba_benign", "proba_malignant"} <= set(res.predictions.columns)


def test_states_subsets_and_counts(run_dir: Path) -> None:
    res = foldrun.load_results(run_dir)
    tasks = res.tasks
    failed = tasks[tasks.state == "failed"]
    assert failed[["model", "variant", "fold", "repeat", "stage"]].values.tolist() == [
        ["logreg", "default", 2, 1, "train"]
    ]
    # 5 variants x (2 repeats x 5 folds x 3 stages + refit) = 155 planned; 1 missing, 1 failed
    assert (tasks.state == "done").sum() == 153
    assert set(res.metrics.subset) == {"test", "custom", "pooled", "holdout", "refit"}
    pooled = res.metrics[res.metrics.subset == "pooled"]
    assert (pooled.fold == -1).all() and set(pooled.repeat) == {0, 1}
    holdout = res.metrics[res.metrics.subset == "holdout"]
    assert (holdout.stage == "refit").all() and (holdout.fold == -1).all()
    refit_rows = res.predictions[res.predictions.fold == -1]
    assert set(refit_rows.subset) == {"holdout"}
    # the missing evaluate task has no test predictions
    miss = res.predictions[(res.predictions.variant == "n100-m4") & (res.predictions.fold == 1)]
    assert set(miss.repeat) == {1}


def test_pooled_equals_metric_of_concatenated_predictions(run_dir: Path) -> None:
    from foldrun.results.metrics import compute_metrics

    res = foldrun.load_results(run_dir)
    p = res.predictions
    part = p[(p.model == "logreg") & (p.repeat == 0) & (p.subset == "test") & (p.fold >= 0)]
    expected = compute_metrics(part, "classification")["roc_auc"]
    m = res.metrics
    got = m[
        (m.model == "logreg") & (m.repeat == 0) & (m.subset == "pooled") & (m.metric == "roc_auc")
    ]
    assert got.value.item() == pytest.approx(expected)
    assert len(part) == 120  # every sample once per repeat


def _rewrite_metric(task: Path, value: float) -> None:
    metrics = json.loads((task / "metrics.json").read_text())
    metrics["test/roc_auc"] = value
    (task / "metrics.json").write_text(json.dumps(metrics))
    (task / "DONE").write_text("new fingerprint\n")


def test_incremental_refresh_reads_only_changed_tasks(run_dir: Path, monkeypatch) -> None:
    first = foldrun.load_results(run_dir)
    task = run_dir / "tasks/rf/n300-m8/repeat_01/fold_03/evaluate"
    _rewrite_metric(task, 0.123)
    read: list[Path] = []
    real = collect.metric_rows
    monkeypatch.setattr(
        collect, "metric_rows", lambda ref, texts: read.append(ref.path) or real(ref, texts)
    )
    second = foldrun.load_results(run_dir)
    # the changed task's fold is read again (which stage's metric key counts needs all of it)
    assert sorted(read) == sorted(str(p) for p in task.parent.iterdir())
    m = second.metrics
    row = m[(m.variant == "n300-m8") & (m.repeat == 1) & (m.fold == 3) & (m.metric == "roc_auc")
            & (m.subset == "test")]  # fmt: skip
    assert row.value.item() == 0.123
    assert len(second.metrics) == len(first.metrics)
    assert len(second.predictions) == len(first.predictions)
    # a refresh with nothing changed reads nothing and rewrites nothing
    stamp = os.stat(run_dir / "results/metrics.parquet").st_mtime_ns
    read.clear()
    foldrun.load_results(run_dir)
    assert read == [] and os.stat(run_dir / "results/metrics.parquet").st_mtime_ns == stamp


def test_removed_task_drops_its_rows(run_dir: Path) -> None:
    import shutil

    foldrun.load_results(run_dir)
    shutil.rmtree(run_dir / "tasks/logreg/default/repeat_00/fold_00/evaluate")
    res = foldrun.load_results(run_dir)
    m, p = res.metrics, res.predictions
    sel = (m.model == "logreg") & (m.repeat == 0) & (m.fold == 0) & (m.stage == "evaluate")
    assert not sel.any()
    assert not ((p.model == "logreg") & (p.repeat == 0) & (p.fold == 0)).any()
    # pooled metrics of that group were recomputed from 4 folds
    pooled = m[(m.model == "logreg") & (m.repeat == 0) & (m.subset == "pooled")]
    assert len(pooled) > 0


@pytest.mark.parametrize("damage", ["truncate", "delete", "garbage"])
def test_corrupt_tables_are_rebuilt(run_dir: Path, damage: str) -> None:
    first = foldrun.load_results(run_dir)
    path = run_dir / "results/predictions.parquet"
    if damage == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif damage == "delete":
        path.unlink()
    else:
        path.write_bytes(b"not parquet at all")
    second = foldrun.load_results(run_dir)
    assert len(second.predictions) == len(first.predictions)
    pd.read_parquet(path)  # readable again


def test_temp_folders_and_junk_are_ignored(run_dir: Path) -> None:
    before = len(foldrun.load_results(run_dir).tasks)
    tmp = run_dir / "tasks/rf/n100-m4/repeat_00/fold_00/.train.tmp-123"
    tmp.mkdir()
    (tmp / "DONE").write_text("x")
    (run_dir / "tasks/rf/n100-m4/notafold/train").mkdir(parents=True)
    assert len(foldrun.load_results(run_dir).tasks) == before


def test_no_half_written_files(run_dir: Path) -> None:
    foldrun.load_results(run_dir)
    names = sorted(p.name for p in (run_dir / "results").iterdir())
    assert names == [".index.json", "folds.parquet", "metrics.parquet", "predictions.parquet",
                     "tasks.parquet"]  # fmt: skip


def test_spec_path_resolves_output(tmp_path: Path) -> None:
    write_run(tmp_path / "out" / "x", RunShape(models={"m": 0.5}, grid={}, n_folds=3))
    spec = tmp_path / "foldrun.toml"
    spec.write_text('name = "x"\noutput = "out/x"\n[report]\nprimary_metric = "accuracy"\n')
    # a spec that does not load (no [data]) is refused, never reported from the disk
    with pytest.raises(SpecError, match="required key is missing") as refused:
        foldrun.load_results(spec)
    assert refused.value.key == "data"
    res = foldrun.load_results(tmp_path / "out" / "x")
    assert res.run_dir == (tmp_path / "out/x").resolve()
    with pytest.raises(ReportError, match="no such spec file"):
        foldrun.load_results(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [")
    with pytest.raises(ReportError, match="not valid TOML"):
        foldrun.load_results(bad)


def test_empty_and_missing_run(tmp_path: Path) -> None:
    (tmp_path / "empty/tasks").mkdir(parents=True)  # a run folder with no task done yet
    res = foldrun.load_results(tmp_path / "empty")
    assert res.tasks.empty and res.metrics.empty and res.summary().empty
    (tmp_path / "mydocs").mkdir()  # any other folder: nothing is written into it
    with pytest.raises(ReportError, match="not a foldrun run folder"):
        foldrun.load_results(tmp_path / "mydocs")
    assert not any((tmp_path / "mydocs").iterdir())
    with pytest.raises(ReportError, match="no such spec file or run folder"):
        foldrun.load_results(tmp_path / "absent")


@pytest.mark.parametrize("task", ["regression", "multilabel"])
def test_other_task_kinds(tmp_path: Path, task: str) -> None:
    classes = ("a", "b", "c") if task == "multilabel" else ("x",)
    shape = RunShape(task=task, classes=classes, grid={}, n_folds=3, holdout=10)
    res = foldrun.load_results(write_run(tmp_path / "r", shape))
    assert res.task == task
    pooled = res.metrics[res.metrics.subset == "pooled"]
    expected = {"regression": "rmse", "multilabel": "macro_f1"}[task]
    assert expected in set(pooled.metric)
    assert res.primary == expected


def test_stale_tasks_are_not_summarized(run_dir: Path, monkeypatch) -> None:
    from foldrun.results import load
    from foldrun.results.refresh import Planned

    task = run_dir / "tasks/logreg/default/repeat_00/fold_00/evaluate"
    ref = collect.TaskRef("logreg", "default", 0, 0, "evaluate", str(task))
    monkeypatch.setattr(load, "planned_tasks", lambda source: [Planned(ref, "another-fp")])
    res = foldrun.load_results(run_dir)
    t = res.tasks
    sel = (t.model == "logreg") & (t.fold == 0) & (t.repeat == 0) & (t.stage == "evaluate")
    state = t[sel].state
    assert state.item() == "stale"
    summary = res.summary().set_index(["model", "metric"])
    assert summary.loc[("logreg", "roc_auc"), "n"] == 9  # 10 folds, one stale
    assert len(res.metrics) > len(res.current_metrics)  # still queryable


def test_glob_characters_in_names_and_bulk_reads(tmp_path: Path) -> None:
    # "m[1]*" would be a glob pattern to DuckDB: such paths are read with plain Python,
    # the others in one DuckDB query (more than bulk.BATCH_MIN files)
    from foldrun.results import bulk

    shape = RunShape(models={"m[1]*": 0.5, "plain": 0.6}, grid={}, n_folds=5, n_repeats=4)
    run = write_run(tmp_path / "run", shape)
    res = foldrun.load_results(run)
    done = res.tasks[res.tasks.state == "done"]
    assert set(done.model) == {"m[1]*", "plain"}
    assert len(done) == 2 * (4 * 5 * 3 + 1) > bulk.BATCH_MIN
    per_model = res.metrics[res.metrics.subset == "test"].groupby("model").size()
    assert per_model["m[1]*"] == per_model["plain"] > 0
    assert res.predictions.groupby("model").size().nunique() == 1


def test_fold_ensemble_is_formed_over_the_ids_every_fold_model_predicted() -> None:
    """Fold 0 predicted 5 of the 30 external ids (done before the worker checked them):
    the ensemble is the three models' mean on those 5, never 3 models for some ids and 2
    for others."""
    rows = []
    for fold in range(3):
        ids = range(5) if fold == 0 else range(30)
        for i in ids:
            right = 0.7 if i % 2 else 0.2  # folds 1 and 2 are right on e00..e04 only
            proba = 0.5 if fold == 0 else right if i < 5 else 1 - right
            rows.append({"model": "m", "variant": "v", "fold": fold, "repeat": 0,
                         "subset": "external:ext", "id": f"e{i:02d}", "y_true": i % 2,
                         "proba_0": 1 - proba, "proba_1": proba})  # fmt: skip
    found = collect.ensemble_rows(pd.DataFrame(rows), "classification", n_folds=3)
    accuracy = {r[6]: r[7] for r in found}["accuracy"]
    assert accuracy == 1.0  # e05..e29 (wrong, by two models only) are left out


def test_fold_ensemble_of_a_binary_programs_one_probability_column() -> None:
    """`proba_1` alone: the ensemble's label was the argmax of one column, class 1 for
    every id (its accuracy wrong); it is the class of p >= 0.5, as with both columns."""
    import numpy as np

    rng = np.random.default_rng(2)
    truth, rows = rng.integers(0, 2, 20), []
    for fold in range(3):
        for i in range(20):
            p = float(np.clip(truth[i] * 0.6 + rng.uniform(0, 0.4), 0, 1))
            rows.append({"model": "m", "variant": "v", "fold": fold, "repeat": 0,
                         "subset": "external:ext", "id": f"e{i:02d}", "y_true": truth[i],
                         "proba_1": p})  # fmt: skip
    one = pd.DataFrame(rows)
    both = one.assign(proba_0=1 - one["proba_1"])
    found = {r[6]: r[7] for r in collect.ensemble_rows(one, "classification", n_folds=3)}
    expected = {r[6]: r[7] for r in collect.ensemble_rows(both, "classification", n_folds=3)}
    assert found["accuracy"] == pytest.approx(expected["accuracy"]) and found["accuracy"] > 0.6
    assert found["log_loss"] == pytest.approx(expected["log_loss"])


def test_a_null_metric_is_a_nan_row_and_a_string_none() -> None:
    ref = collect.TaskRef("m", "v", 0, 0, "evaluate", "/x", frozenset({"metrics.json"}))
    text = '{"test/auc": null, "test/acc": NaN, "note": "x", "test/f1": 0.5}'
    rows = collect.metric_rows(ref, {ref.file("metrics.json"): text})
    found = {r[6]: r[7] for r in rows}
    assert set(found) == {"auc", "acc", "f1"} and found["f1"] == 0.5
    assert pd.isna(found["auc"]) and pd.isna(found["acc"])


def test_pooled_metrics_of_a_score_alone_equal_compute_metrics() -> None:
    """Variants whose predictions are a positive-class score (a command model's own column)
    are pooled on numpy arrays, with compute_metrics' keys and values; a variant with a
    missing score or pred goes the general way, a one-class variant gives what it gives."""
    import numpy as np

    from foldrun.results.metrics import compute_metrics

    rng = np.random.default_rng(5)
    parts = []
    for v in range(4):
        n = 30
        part = pd.DataFrame({"model": "m", "variant": f"v{v}", "fold": np.arange(n) % 3,
                             "repeat": 0, "subset": "test", "id": [f"{i:03d}" for i in range(n)],
                             "y_true": rng.choice([0, 1], n) if v != 3 else 1,
                             "score": rng.uniform(size=n).round(2)})  # fmt: skip
        if v == 1:
            part["pred"] = rng.choice([0, 1], n)
        if v == 2:
            part.loc[4, "score"] = np.nan
        parts.append(part)
    preds = pd.concat(parts, ignore_index=True)
    rows = collect.pooled_rows(preds, "classification")
    for v, part in enumerate(parts):
        got = {r[6]: r[7] for r in rows if r[1] == f"v{v}"}
        expected = compute_metrics(part.dropna(axis=1, how="all"), "classification")
        assert got.keys() == expected.keys(), v
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, nan_ok=True), (v, key)


def _prediction_files(root: Path) -> list[collect.TaskRef]:
    """70 evaluate folders (above bulk.BATCH_MIN) of two kinds of predictions: UUID ids,
    ids like `007` (text, never 7), a refit's holdout, files with other columns; each row
    says whose it is (`owner`)."""
    import uuid

    refs = []
    for i in range(70):
        model, variant = ("reg", f"v{i % 3}") if i % 2 else ("clf", f"a{i % 5}")
        fold, stage = (-1, "refit") if i == 69 else (i % 7, "evaluate")
        folder = root / model / variant / f"r{i}" / stage
        folder.mkdir(parents=True)
        n = 3 + i % 4
        ids = [f"{j:03d}" for j in range(n)] if i % 3 else [str(uuid.uuid4()) for _ in range(n)]
        truth = [float(j) for j in range(n)]
        frame = pd.DataFrame({"id": ids, "owner": str(folder), "y_true": truth})
        if model == "reg":
            frame["pred"] = 0.5
        else:
            frame["proba_x"] = 0.25
            frame["subset"] = "val" if i % 4 == 0 else None
        frame.to_parquet(folder / "predictions.parquet", index=False)
        refs.append(collect.TaskRef(model, variant, fold, i, stage, str(folder),
                                    frozenset({"predictions.parquet"})))  # fmt: skip
    return refs


@pytest.mark.parametrize("batch", [1, 10**9])
def test_predictions_are_tagged_with_their_own_tasks_key(
    tmp_path: Path, monkeypatch, batch: int
) -> None:
    """Read in one DuckDB query (batch 1) or file by file (the fallback), every row carries
    the model, variant, fold, repeat and default subset of the task whose file it came
    from, and its id as text; the two ways give the same rows."""
    from foldrun.results import bulk

    refs = _prediction_files(tmp_path)
    monkeypatch.setattr(bulk, "BATCH_MIN", batch)
    table = collect.read_predictions(refs).to_pandas()
    by_path = {r.path: r for r in refs}
    assert len(table) == sum(3 + i % 4 for i in range(70))
    for row in table.itertuples():
        ref = by_path[row.owner]
        assert (row.model, row.variant, row.fold, row.repeat) == ref.key[:4]
        default = "holdout" if ref.stage == "refit" else "test"
        assert row.subset == ("val" if ref.model == "clf" and ref.repeat % 4 == 0 else default)
    assert {"000", "001", "002"} <= set(table["id"])  # never 0, 1, 2
    key = ["owner", "id"]
    if batch == 1:
        monkeypatch.setattr(bulk, "BATCH_MIN", 10**9)
        other = collect.read_predictions(refs).to_pandas()
        pd.testing.assert_frame_equal(
            table.sort_values(key, ignore_index=True)[sorted(table.columns)],
            other.sort_values(key, ignore_index=True)[sorted(other.columns)])


def test_tables_read_by_forked_workers_equal_those_read_here(
    run_template: Path, tmp_path: Path, monkeypatch
) -> None:
    """A refresh from scratch spreads its per-folder reads (listings, stats, texts, task
    and metric rows) over forked workers when there are many folders (collect.each): the
    tables are those of reading every folder here (a failed task, a missing one, repeats,
    a refit's holdout, custom metrics)."""
    import shutil

    from foldrun.core import forked

    calls: list[tuple[int, int]] = []
    real = forked.spread
    monkeypatch.setattr(collect, "spread", lambda work, n, least=16, workers=None: (
        calls.append((n, least)) or real(work, n, least, workers)))  # fmt: skip
    tables = []
    for least, name in ((10**9, "here"), (1, "forked")):
        monkeypatch.setattr(collect, "SPREAD_LEAST", least)
        run = Path(shutil.copytree(run_template, tmp_path / name))
        res = foldrun.load_results(run)
        tasks = res.tasks.assign(path=res.tasks["path"].str.replace(str(run), "", regex=False))
        tables.append((tasks, res.metrics, res.predictions, res.folds))
    assert any(least == 1 and n > 100 for n, least in calls)  # the forked way was taken
    assert set(tables[0][0].state) == {"done", "failed"}
    for here, forked_ in zip(*tables, strict=True):
        pd.testing.assert_frame_equal(here, forked_)


def _index_tasks(run: Path) -> dict[str, list[object]]:
    body = json.loads((run / "results/.index.json").read_text())
    assert set(body) == {"version", "root", "tasks", "files"}
    # a copy's stamps differ (ctime, inode): the key, the signature's kind, DONE, the state
    return {rel: [*entry[:5], str(entry[5]).split("|")[0], *entry[7:]]
            for rel, entry in body["tasks"].items()}  # fmt: skip


def test_an_incremental_refresh_equals_one_from_scratch(
    run_template: Path, tmp_path: Path, monkeypatch
) -> None:
    """A refresh after a metric changed and a task was removed lists and reads only the
    folders of those folds (an unchanged folder keeps its index entry, written before the
    tables are read); its tables and index are those of a refresh from scratch."""
    import shutil

    run = Path(shutil.copytree(run_template, tmp_path / "run"))
    foldrun.load_results(run)
    task = run / "tasks/rf/n300-m8/repeat_01/fold_03/evaluate"
    _rewrite_metric(task, 0.321)
    shutil.rmtree(run / "tasks/logreg/default/repeat_00/fold_00/evaluate")
    listed: list[str] = []
    real = collect._listing
    monkeypatch.setattr(collect, "_listing", lambda folder: listed.append(folder) or real(folder))
    again = foldrun.load_results(run)
    assert {str(Path(p).parent) for p in listed} == {
        str(task.parent), str(run / "tasks/logreg/default/repeat_00/fold_00")}
    scratch = Path(shutil.copytree(run, tmp_path / "scratch"))
    shutil.rmtree(scratch / "results")
    fresh = foldrun.load_results(scratch)
    for name in ("tasks", "metrics", "predictions", "folds"):
        mine, theirs = getattr(again, name), getattr(fresh, name)
        if name == "tasks":
            mine = mine.assign(path=mine["path"].str.replace(str(run), "", regex=False))
            theirs = theirs.assign(path=theirs["path"].str.replace(str(scratch), "", regex=False))
        pd.testing.assert_frame_equal(mine, theirs)
    assert _index_tasks(run) == _index_tasks(scratch)


def test_tables_that_do_not_read_back_under_a_whole_index_are_made_again(
    run_dir: Path, monkeypatch
) -> None:
    """Tables whose stamps the index holds but that do not read back (read_tables: None)
    are made from every task folder, as without an index."""
    from foldrun.results import refresh

    first = foldrun.load_results(run_dir)
    _rewrite_metric(run_dir / "tasks/rf/n300-m8/repeat_01/fold_03/evaluate", 0.5)
    real, calls = refresh.read_tables, []
    monkeypatch.setattr(refresh, "read_tables", lambda layout: (
        calls.append(1) or (None if len(calls) == 1 else real(layout))))  # fmt: skip
    second = foldrun.load_results(run_dir)
    assert calls and len(second.tasks) == len(first.tasks)
    assert not list((run_dir / "results").glob(".*tmp*"))  # the index written in parts: gone
    m = second.metrics
    assert (m[(m.variant == "n300-m8") & (m.repeat == 1) & (m.fold == 3) & (m.subset == "test")
              & (m.metric == "roc_auc")].value == 0.5).all()  # fmt: skip
    monkeypatch.setattr(refresh, "read_tables", real)
    pd.testing.assert_frame_equal(foldrun.load_results(run_dir).metrics, second.metrics)


def test_pooled_metrics_of_an_incremental_refresh_are_those_from_scratch_to_the_bit(
    run_template: Path, tmp_path: Path
) -> None:
    """A refresh that reads two folds again pools their rows with the kept ones in the
    table's order: the pool's sums (brier, log loss) are a refresh's from scratch exactly
    (they were pooled kept rows first, a last-bit difference that depended on which folds
    the refresh read again)."""
    import shutil

    run = Path(shutil.copytree(run_template, tmp_path / "run"))
    foldrun.load_results(run)
    for task in ("rf/n300-m8/repeat_01/fold_00", "logreg/default/repeat_00/fold_03"):
        path = run / "tasks" / task / "evaluate/predictions.parquet"
        shutil.copy(path, path.with_suffix(".copy"))
        path.with_suffix(".copy").rename(path)  # the same rows, another file: read again
    again = foldrun.load_results(run).metrics
    scratch = Path(shutil.copytree(run, tmp_path / "scratch"))
    shutil.rmtree(scratch / "results")
    fresh = foldrun.load_results(scratch).metrics
    pooled = again[again["subset"] == "pooled"].reset_index(drop=True)
    assert len(pooled)
    pd.testing.assert_frame_equal(
        pooled, fresh[fresh["subset"] == "pooled"].reset_index(drop=True), check_exact=True)
