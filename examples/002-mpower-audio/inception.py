"""Stand-in for the seed's Inception model (`inception_official_adapted.py`), written as its
author wrote it: `train_model(csv_file, fold, config)` reads ONE combined CSV of every fold
(columns `image_rel_path`, `label`, `fold`, `subset`), trains on the fold's `train` rows,
keeps the epoch with the lowest loss on its `val` rows, scores its `val` and `test` rows and
writes `{method}_fold{fold}_predictions.csv` (`record_id,prob`) and
`{method}_cv_summary.json`. `fold=-1` loops over every fold of the CSV, as the seed's
runner calls it; foldrun calls it one fold at a time. It knows nothing of foldrun.

The model: a logistic regression on the mean energy of each mel band, by mini-batch
gradient descent (--epochs, --batch-size), with three ways to handle the class imbalance
(--method): `none`, `class_weight` (each class weighs as much in the loss) or `oversample`
(PD recordings repeated up to the control count).
"""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image


def features(table: pd.DataFrame) -> np.ndarray:
    """The mean of each mel band over time, per recording, plus a constant."""
    bands = [np.asarray(Image.open(p), float).mean(axis=1) / 255 for p in table["image_rel_path"]]
    return np.column_stack([np.ones(len(table)), np.array(bands)])


def probability(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x @ w))


def log_loss(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(probability(w, x), 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def balance(x: np.ndarray, y: np.ndarray, method: str, rng) -> tuple:
    """(x, y, row weights) after the imbalance method."""
    if method == "oversample" and 0 < y.sum() < len(y) / 2:
        sick = np.flatnonzero(y == 1)
        extra = rng.choice(sick, int(len(y) - 2 * y.sum()), replace=True)
        x, y = np.vstack([x, x[extra]]), np.r_[y, y[extra]]
    weights = np.ones(len(y))
    if method == "class_weight":
        for label in (0, 1):
            share = max((y == label).mean(), 1e-9)
            weights[y == label] = 0.5 / share
    return x, y, weights


def fit(train: pd.DataFrame, val: pd.DataFrame, config: dict) -> tuple[np.ndarray, int]:
    """The weights of the epoch with the lowest val loss, and that epoch."""
    rng = np.random.default_rng(0)
    x, y, weights = balance(features(train), train["label"].to_numpy(float), config["method"], rng)
    xv, yv = features(val), val["label"].to_numpy(float)
    w, best, best_epoch = np.zeros(x.shape[1]), np.zeros(x.shape[1]), 0
    n_batches = max(1, len(y) // config["batch_size"])
    for epoch in range(1, config["epochs"] + 1):
        for batch in np.array_split(rng.permutation(len(y)), n_batches):
            grad = x[batch].T @ (weights[batch] * (probability(w, x[batch]) - y[batch]))
            w -= config["lr"] * grad / len(batch)
        if epoch == 1 or log_loss(w, xv, yv) < log_loss(best, xv, yv):
            best, best_epoch = w.copy(), epoch
    return best, best_epoch


def train_model(csv_file: str, fold: int, config: dict) -> dict:
    """Train and evaluate one fold of the combined CSV (every fold when fold == -1)."""
    table = pd.read_csv(csv_file, dtype={"record_id": str})
    folds = sorted(table["fold"].unique()) if fold == -1 else [fold]
    out, method = Path(config["out_dir"]), config["method"]
    summary = {"method": method, "folds": []}
    for k in folds:
        rows = table[table["fold"] == k]
        part = {s: rows[rows["subset"] == s] for s in ("train", "val", "test")}
        w, best_epoch = fit(part["train"], part["val"], config)
        np.save(out / f"{method}_fold{k}_model.npy", w)
        scored = pd.concat([part["val"], part["test"]])
        prob = probability(w, features(scored))
        pd.DataFrame({"record_id": scored["record_id"], "prob": prob}).to_csv(
            out / f"{method}_fold{k}_predictions.csv", index=False)
        val_loss = log_loss(w, features(part["val"]), part["val"]["label"].to_numpy(float))
        summary["folds"].append({"fold": int(k), "best_epoch": best_epoch, "val_loss": val_loss,
                                 "n_train": len(part["train"])})
    (out / f"{method}_cv_summary.json").write_text(json.dumps(summary, indent=1))
    return summary


parser = argparse.ArgumentParser()
parser.add_argument("--csv-file", required=True, help="every fold; fold and subset columns")
parser.add_argument("--fold", type=int, default=-1, help="-1: every fold of the CSV")
parser.add_argument("--out-dir", required=True)
parser.add_argument("--method", choices=["none", "class_weight", "oversample"], default="none")
parser.add_argument("--epochs", type=int, default=50)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--lr", type=float, default=0.5)
args = parser.parse_args()
train_model(args.csv_file, args.fold, {"use_fold_column": True, **vars(args)})
