"""Stand-in for a PyTorch video model: a one-hidden-layer network in numpy.

`train` runs --epochs epochs of full-batch gradient descent and logs the train and val loss
of every epoch with foldrun.log (the report draws them as training curves; MLflow gets them
as metric histories). `predict` writes the probabilities of the test and val rows to
--predictions (foldrun's evaluate scores them) and the per-class precision, recall and F1
of the test rows to the task's own metrics.json.
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

import foldrun

CLASSES = ["fake", "real"]


def arrays(path: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    df = pd.read_csv(path, dtype={"video": str})
    x = df[[c for c in df.columns if c.startswith("emb")]].to_numpy(float)
    return df, x, (df["label"] == "real").to_numpy(float)


def forward(w: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h = np.tanh(x @ w["w1"] + w["b1"])
    return h, 1 / (1 + np.exp(-(h @ w["w2"] + w["b2"])))


def loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def train(a: argparse.Namespace) -> None:
    _, x, y = arrays(a.train)
    _, xv, yv = arrays(a.val)
    rng = np.random.default_rng(a.seed)
    w = {"w1": rng.normal(0, 0.3, (x.shape[1], a.hidden)), "b1": np.zeros(a.hidden),
         "w2": rng.normal(0, 0.3, a.hidden), "b2": np.zeros(1)}
    for epoch in range(1, a.epochs + 1):
        h, p = forward(w, x)
        g = (p - y) / len(y)
        gh = np.outer(g, w["w2"]) * (1 - h**2)
        w["w2"] -= a.lr * h.T @ g
        w["b2"] -= a.lr * g.sum()
        w["w1"] -= a.lr * x.T @ gh
        w["b1"] -= a.lr * gh.sum(axis=0)
        foldrun.log("train_loss", loss(p, y), step=epoch)
        foldrun.log("val_loss", loss(forward(w, xv)[1], yv), step=epoch)
    np.savez(Path(a.out) / "model.npz", **w)


def predict(a: argparse.Namespace) -> None:
    w = dict(np.load(Path(a.out) / "model.npz"))
    frames = []
    for path in (a.test, a.val):
        df, x, _ = arrays(path)
        p = forward(w, x)[1]
        frames.append(pd.DataFrame({"id": df["video"], "proba_fake": 1 - p, "proba_real": p}))
    pd.concat(frames).to_csv(a.predictions, index=False)
    df, x, y = arrays(a.test)
    pred = (forward(w, x)[1] >= 0.5).astype(float)
    per_class = {}
    for k, c in enumerate(CLASSES):
        tp = np.sum((pred == k) & (y == k))
        prec = tp / max(np.sum(pred == k), 1)
        rec = tp / max(np.sum(y == k), 1)
        per_class[f"test/precision_{c}"] = float(prec)
        per_class[f"test/recall_{c}"] = float(rec)
        per_class[f"test/f1_{c}"] = float(2 * prec * rec / max(prec + rec, 1e-12))
    Path(os.environ["FOLDRUN_TASK_DIR"], "metrics.json").write_text(json.dumps(per_class))


p = argparse.ArgumentParser()
p.add_argument("step", choices=["train", "predict"])
p.add_argument("--train")
p.add_argument("--val")
p.add_argument("--test")
p.add_argument("--out", required=True)
p.add_argument("--predictions")
p.add_argument("--epochs", type=int, default=30)
p.add_argument("--hidden", type=int, default=8)
p.add_argument("--lr", type=float, default=0.5)
p.add_argument("--seed", type=int, default=0)
args = p.parse_args()
train(args) if args.step == "train" else predict(args)
