"""Every folder of examples/ runs end to end on its small data through the console script's
main() (in-process: helpers.invoke): make_data.py, check, run, status, report; then one
check per example of what its README promises (its numbers, its folds, its audit lines)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.reliability.helpers import invoke

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# what make_data.py and foldrun write: never copied from a checkout that ran an example
IGNORE = shutil.ignore_patterns("runs", "*.csv", "*.npz", "mlruns.db", "__pycache__")


def run_example(name: str, tmp_path: Path) -> tuple[Path, dict]:
    """Copy the example, make its data, then check, run, status and report it; returns the
    folder and the report's cv_summary.json."""
    root = tmp_path / name
    shutil.copytree(EXAMPLES / name, root, ignore=IGNORE)
    made = subprocess.run([sys.executable, "make_data.py"], cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    for args in (["check"], ["run", "--jobs", "2"], ["status"], ["report"]):
        done = invoke(args[0], "foldrun.toml", *args[1:], cwd=root)
        assert done.returncode == 0, f"foldrun {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    spec_name = next(line.split('"')[1] for line in (root / "foldrun.toml").read_text()
                     .splitlines() if line.startswith("output = "))
    summary = json.loads((root / spec_name / "report/cv_summary.json").read_text())
    return root / spec_name, summary


@pytest.mark.slow
def test_000_mri_qc(tmp_path: Path) -> None:
    run, summary = run_example("000-mri-qc", tmp_path)
    (best,) = summary["models"]
    assert (best["model"], best["metric"], best["n"]) == ("qc", "rmse", 5)
    # the script's own test/rmse is the score, and it beats predicting the mean
    scans = pd.read_csv(run.parent.parent / "scans.csv")
    assert 0 < best["mean"] < scans["qu_motion"].std()
    for fold in range(5):
        train = run / f"tasks/qc/default/fold_{fold:02d}/train"
        assert (train / f"qc_fold_{fold}.png").read_bytes()[:4] == b"\x89PNG"
        assert len(pd.read_csv(train / f"qc_fold_{fold}.csv")) > 0
    # subject folds: a subject's scans are in one test fold only
    folds = pd.read_csv(run / "split/assignments.csv")
    assert len(folds) == len(scans)
    assert folds.groupby("subject")["fold"].nunique().max() == 1


@pytest.mark.slow
def test_001_spectra_denoiser(tmp_path: Path) -> None:
    run, summary = run_example("001-spectra-denoiser", tmp_path)
    assert summary["primary_metric"] == "sam" and summary["greater_is_better"] is False
    means = {v["variant"]: v["mean"] for v in summary["variants"] if v["metric"] == "sam"}
    (best,) = summary["models"]
    # lower SAM wins: the selected variant has the lowest mean, over 5 folds, chosen on val
    assert best["variant"] == min(means, key=means.get) and len(means) == 2
    assert (best["n"], best["selected_on"]) == (5, "val")
    # the rotation: 3 samples per treatment train, 1 val, 1 test in every fold
    for fold in range(5):
        for subset, n in (("train", 3), ("val", 1), ("test", 1)):
            rows = pd.read_csv(run / f"split/fold_{fold:02d}/{subset}.csv")
            assert set(rows.groupby("treatment")["sample"].nunique()) == {n}
    # {feat*}, {amp?--amp}, {ema?--ema} and {fold1:02d} reached the seed's CLI as written
    fold = run / "tasks/denoiser/compon2/fold_02/train"
    args = json.loads((fold / "logs/Track_H_fold_03/args.json").read_text())
    assert args["film_features"] == ["cos_theta", "uva_total", "uvb_total"]
    assert (args["amp"], args["ema"]) == (True, False)
    # the ROI script's one JSON per split is the fold's val/ and test/ metrics
    roi = json.loads((fold / "roi_fold_03_test.json").read_text())
    assert json.loads((fold / "metrics.json").read_text())["test/sam"] == roi["sam"]
    assert (run / "tasks/denoiser/compon2/all/refit/mamba_tiny_uv_best.npz").exists()
    audit = (run / "audit.log").read_text()
    assert audit.count("| train | fold completed") == 10
    assert "| params {" in audit and "| finished | out " in audit
    # skip-existing is the resume; --folds runs a subset (0-based)
    again = invoke("run", "foldrun.toml", "--folds", "2", "3", cwd=run.parent.parent)
    assert again.returncode == 0 and "0 task(s) run" in again.stdout


SUBDBS = {1: "50_50", 2: "30_70", 3: "15_85"}  # sub-database: its train file's PD/control


def assert_fold_tables_read_as_listed(root: Path, k: int, share: str) -> None:
    """Every fold's manifests hold the recordings of exactly the patients the files list:
    train from the sub-database's own file, val and test from the common one."""
    recordings = pd.read_csv(root / "recordings.csv", dtype=str)
    common = pd.read_csv(root / "splits/common_val_test_all_subdbs.csv", dtype=str)
    own = pd.read_csv(root / f"splits/subdb{k}_train_{share}.csv", dtype=str)
    assert set(common["subset"]) == {"val", "test"} and set(own["subset"]) == {"train"}
    listed = pd.concat([common, own])
    split = root / f"runs/mpower/split/subdb{k}"
    for fold in range(3):
        for subset in ("train", "val", "test"):
            chosen = (listed["fold_iteration"] == str(fold)) & (listed["subset"] == subset)
            patients = listed.loc[chosen, "healthCode"]
            expected = recordings.loc[recordings["healthCode"].isin(patients), "record_id"]
            manifest = pd.read_csv(split / f"fold_{fold:02d}/{subset}.csv", dtype=str)
            assert sorted(manifest["record_id"]) == sorted(expected) and len(expected) > 0
    # the 3 patients without a survey answer are listed, but have no recording
    details = json.loads((split / "details.json").read_text())
    assert details["fold_table"]["keys_not_in_table"] == 3


@pytest.mark.slow
def test_002_mpower_audio(tmp_path: Path) -> None:
    """The published split read as it is: per sub-database the train patients of its own
    file, the val and test patients of the common file; then the sub-databases compared."""
    root = tmp_path / "002-mpower-audio"
    shutil.copytree(EXAMPLES / "002-mpower-audio", root,
                    ignore=shutil.ignore_patterns("runs", "data", "splits", "compare", "*.csv",
                                                  "__pycache__"))  # fmt: skip
    made = subprocess.run([sys.executable, "make_data.py"], cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    scan = invoke("scan", "data/melSpec", "--pattern", "{healthCode}_{record_id}_{column_id}.jpg",
                   "--labels", "data/Demographics_Survey.csv", "--on", "healthCode",
                   "--out", "recordings.csv", cwd=root)  # fmt: skip
    assert scan.returncode == 0, scan.stderr
    for args in (["check"], ["run", "--jobs", "2"]):  # one spec, one dataset per sub-database
        done = invoke(args[0], "foldrun.toml", *args[1:], cwd=root)
        assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    status = json.loads(invoke("status", "foldrun.toml", "--format", "json", cwd=root).stdout)
    # train_model trains and evaluates itself: one task per method and fold
    assert status["complete"] and status["counts"] == {"done": 9 * len(SUBDBS)}
    table = pd.read_csv(next(root.glob("runs/mpower/tasks/subdb1/inception/*/fold_01/train/"
                                       "fold_table.csv")))  # the seed's combined CSV
    assert {"image_rel_path", "label", "fold", "subset"} <= set(table.columns)
    for k, share in SUBDBS.items():
        assert_fold_tables_read_as_listed(root, k, share)
    across = invoke("report", "foldrun.toml", cwd=root)
    assert across.returncode == 0, across.stderr
    report = root / "runs/mpower/report"
    summary = json.loads((report / "cv_summary.json").read_text())
    methods = [f"inception/method_{m}" for m in ("class_weight", "none", "oversample")]
    assert summary["across"]["datasets"] == ["subdb1", "subdb2", "subdb3"]
    assert sorted(summary["scores"]) == methods
    assert all(0 <= v <= 1 for row in summary["scores"].values() for v in row.values())
    assert sorted(summary["across"]["mean_ranks"]) == methods
    assert summary["across"]["friedman_p"] is not None
    assert (report / "critical_difference.png").read_bytes()[:4] == b"\x89PNG"
    page = (report / "index.html").read_text()
    assert all(f"Ranking on subdb{k}" in page for k in SUBDBS)
    for k in SUBDBS:  # each sub-database's own report, its numbers those of the table
        own = json.loads((report / f"subdb{k}/cv_summary.json").read_text())
        for row in own["models"]:
            unit = f"{row['model']}/{row['variant']}"
            assert abs(summary["scores"][unit][f"subdb{k}"] - row["mean"]) < 1e-12
    rows = pd.read_csv(report / "fold_summary.csv")
    assert rows.groupby("dataset")["variant"].nunique().to_dict() == {
        f"subdb{k}": 3 for k in SUBDBS}
    query = invoke("query", "foldrun.toml", "SELECT dataset, count(*) AS n FROM metrics WHERE "
                    "subset = 'test' AND metric = 'roc_auc' GROUP BY ALL ORDER BY ALL",
                    "--format", "json", cwd=root)  # fmt: skip
    assert json.loads(query.stdout) == [{"dataset": f"subdb{k}", "n": 9} for k in SUBDBS]


@pytest.mark.slow
def test_003_video_models(tmp_path: Path) -> None:
    run, summary = run_example("003-video-21-models", tmp_path)
    root = run.parent.parent
    assert {m["model"] for m in summary["models"]} == {
        "logistic_regression", "svm", "trees", "centroid", "naive_cnn"}
    assert all(m["n"] == 3 for m in summary["models"])
    grids = {m["model"]: (m["n_variants"], m["selected_on"]) for m in summary["models"]}
    assert grids["logistic_regression"] == (2, "val") and grids["trees"] == (4, "val")
    assert {m["mean"] > 0.7 for m in summary["models"]} == {True}  # a learnable signal
    assert (run / "report/heatmap_grid.png").exists()
    status = invoke("status", "foldrun.toml", "--format", "json", cwd=root)
    state = json.loads(status.stdout)
    assert status.returncode == 0 and state["complete"] and state["counts"] == {"done": 83}
    query = invoke("query", "foldrun.toml", "SELECT metric, count(*) AS n FROM metrics "
                    "WHERE model = 'naive_cnn' AND subset = 'test' AND metric LIKE 'recall_%' "
                    "GROUP BY ALL ORDER BY metric", "--format", "json", cwd=root)
    assert json.loads(query.stdout) == [{"metric": "recall_fake", "n": 3},
                                        {"metric": "recall_real", "n": 3}]
    # deep.py's own files, read as they are: the long epoch log and the nested metadata.json
    fold = run / "tasks/naive_cnn/default/fold_00/train"
    lines = [json.loads(line) for line in (fold / "fold_1/metrics.jsonl").read_text().splitlines()]
    assert sum(line["phase"] == "val" and line["metric"] == "loss" for line in lines) == 40
    assert json.loads((fold / "curves.json").read_text())["format"] == "long"
    metadata = json.loads((fold / "fold_1/metadata.json").read_text())
    scores = json.loads((fold / "metrics.json").read_text())
    assert scores["test/recall_fake"] == metadata["metrics"]["recall_class0"]


VARIANTS = {"random": 240, "random_more_noise": 240 + 24 * 4, "quality_balanced": 180}


@pytest.mark.slow
def test_004_animal_calls(tmp_path: Path) -> None:
    root, across = run_example("004-animal-calls", tmp_path)
    # the dataset variants of one spec: each its own table or rows, and its own seed
    assert across["across"]["datasets"] == list(VARIANTS)
    for name, n_clips in VARIANTS.items():
        split = root / "split" / name
        assert json.loads((split / "details.json").read_text())["seed"] == {
            "random": 42, "random_more_noise": 43, "quality_balanced": 911}[name]
        tested = pd.concat([pd.read_csv(split / f"fold_{f:02d}/test.csv") for f in range(3)])
        assert len(tested) == n_clips and tested["clip"].is_unique
        if name == "quality_balanced":
            assert set(tested["quality"]) == {"good"}
    summary = json.loads((root / "report/random/cv_summary.json").read_text())
    check_004_variant(root / "tasks/random", root / "results/random", summary, tmp_path)
    for name in VARIANTS:  # the comparison's numbers are each variant's own report's
        own = json.loads((root / f"report/{name}/cv_summary.json").read_text())
        for row in own["models"]:
            unit = f"{row['model']}/{row['variant']}"
            assert abs(across["scores"][unit][name] - row["mean"]) < 1e-12


def check_004_variant(tasks: Path, results: Path, summary: dict, tmp_path: Path) -> None:
    """One dataset variant: every threshold, spot.py's evaluate, the benchmark corpus."""
    f1 = {v["variant"]: (v["mean"], v["n"]) for v in summary["variants"] if v["metric"] == "f1"}
    # one trained model per fold, one predict + user evaluate per threshold
    assert sorted(f1) == [f"default+thresh{t}" for t in ("0.3", "0.5", "0.7")]
    assert {n for _, n in f1.values()} == {3}
    assert len(list(tasks.glob("spot/default/fold_*/train/DONE"))) == 3
    # the seed's three key=value configs, rendered per task (and per external set)
    evaluate = tasks / "spot/default+thresh0.5/fold_01/evaluate"
    cfg = dict(line.split("=", 1) for line in (evaluate / "eval.benchmark.cfg").read_text()
               .splitlines() if "=" in line and not line.startswith("#"))  # fmt: skip
    assert cfg["output_dir"].endswith("fold_02/benchmark") and cfg["detection_column"] == "pred"
    assert (tasks / "spot/default/fold_01/train/alpaca_server.cfg").is_file()
    # a higher threshold finds fewer calls: recall falls as the threshold rises
    recall = [v["mean"] for t in ("0.3", "0.5", "0.7") for v in summary["metrics"]
              if v["variant"] == f"default+thresh{t}" and v["metric"] == "recall"]
    assert len(recall) == 3 and recall[0] > recall[1] > recall[2]
    (best,) = summary["models"]
    assert best["metric"] == "f1" and best["variant"] == max(f1, key=lambda v: f1[v][0])
    # the benchmark corpus: the seed's evaluation scored every fold model at every threshold
    # on it (its metrics.csv, read after each run); none of it is in the CV means (n = 3)
    m = pd.read_parquet(results / "metrics.parquet")
    bench = m[m["subset"] == "external:benchmark"]
    f1s = bench[bench["metric"] == "f1"]
    assert sorted(f1s.groupby("variant").size()) == [3, 3, 3]
    assert set(f1s["model_set"]) == {"fold"} and sorted(f1s["fold"].unique()) == [0, 1, 2]
    # the corpus has no label column: scored by the seed's evaluation alone (its annotations)
    assert "label" not in pd.read_csv(tmp_path / "004-animal-calls/benchmark.csv").columns
    assert set(bench["model_set"]) == {"fold"} and "f1_call" not in set(bench["metric"])
    truth = pd.Series(json.loads((tmp_path / "004-animal-calls/corpus_index.json").read_text()))
    folder = tasks / "spot/default+thresh0.5/fold_01"
    preds = pd.read_parquet(folder / "predict/predictions.parquet")
    said = preds[preds["subset"] == "external:benchmark"].set_index("id")["pred"] == "call"
    assert set(said.index) == set(truth.index)  # every clip of the corpus, none of the folds
    hit = truth[said.index] == "call"
    expected = 2 * (hit & said).sum() / (hit.sum() + said.sum())
    row = f1s[(f1s["variant"] == "default+thresh0.5") & (f1s["fold"] == 1)]
    assert abs(row["value"].item() - expected) < 1e-9
