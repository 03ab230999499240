"""Stand-in for the seed's Inception model (`inception_official_adapted.py`), one fold at a
time: the seed's `train_model` looped over the folds itself; here foldrun runs each fold.

train: reads the fold's train and val recordings (their mel spectrogram at `path`), fits a
logistic regression on the mean energy of each mel band by mini-batch gradient descent
(--epochs, --batch-size), keeps the epoch with the lowest val loss, and handles the class
imbalance by --method: `none`, `class_weight` (each class weighs as much in the loss) or
`oversample` (PD recordings repeated up to the control count).
predict: the probability of each class for the test and val recordings (foldrun scores
them: roc_auc, balanced accuracy, ...).
"""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

TARGET = "professional-diagnosis"


def features(table: pd.DataFrame) -> np.ndarray:
    """The mean of each mel band over time, per recording, plus a constant."""
    bands = [np.asarray(Image.open(p), float).mean(axis=1) / 255 for p in table["path"]]
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


def train(a: argparse.Namespace) -> None:
    rng = np.random.default_rng(0)
    tr, va = pd.read_csv(a.train), pd.read_csv(a.val)
    x, y, weights = balance(features(tr), tr[TARGET].to_numpy(float), a.method, rng)
    xv, yv = features(va), va[TARGET].to_numpy(float)
    w, best, best_epoch = np.zeros(x.shape[1]), np.zeros(x.shape[1]), 0
    for epoch in range(1, a.epochs + 1):
        for batch in np.array_split(rng.permutation(len(y)), max(1, len(y) // a.batch_size)):
            grad = x[batch].T @ (weights[batch] * (probability(w, x[batch]) - y[batch]))
            w -= a.lr * grad / len(batch)
        if epoch == 1 or log_loss(w, xv, yv) < log_loss(best, xv, yv):
            best, best_epoch = w.copy(), epoch
    np.save(Path(a.out) / "model.npy", best)
    # plain keys are kept as custom values of the fold
    metrics = {"best_epoch": best_epoch, "val_loss": log_loss(best, xv, yv), "n_train": len(tr)}
    (Path(a.out) / "metrics.json").write_text(json.dumps(metrics))


def predict(a: argparse.Namespace) -> None:
    w = np.load(Path(a.out) / "model.npy")
    frames = []
    for path in (a.test, a.val):
        table = pd.read_csv(path, dtype={"record_id": str})
        p = probability(w, features(table))
        frames.append(pd.DataFrame({"id": table["record_id"], "proba_0": 1 - p, "proba_1": p}))
    pd.concat(frames).to_csv(a.predictions, index=False)


parser = argparse.ArgumentParser()
parser.add_argument("step", choices=["train", "predict"])
parser.add_argument("--train")
parser.add_argument("--val")
parser.add_argument("--test")
parser.add_argument("--out", required=True)
parser.add_argument("--predictions")
parser.add_argument("--method", choices=["none", "class_weight", "oversample"], default="none")
parser.add_argument("--epochs", type=int, default=50)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--lr", type=float, default=0.5)
args = parser.parse_args()
train(args) if args.step == "train" else predict(args)
