"""Stand-in for the seed's PyTorch video models (`_train_pytorch_model_fold`), written as
its author wrote them: one fold per call, trained on the train rows and evaluated on the
validation rows (the held-out fold), everything under `<output-dir>/fold_<N>/`:

- `model.npz`: the checkpoint (a one-hidden-layer network in numpy stands in);
- `metrics.jsonl`: the ExperimentTracker's epoch history, one line per metric log
  (`run_id, timestamp, step, epoch, phase, metric, value`);
- `metadata.json`: the fold summary, its metrics nested under `metrics` (`val_acc`,
  `val_auc`, `val_f1`, `precision_class0`, ...).

It knows nothing of foldrun.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

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


class Tracker:
    """The seed's ExperimentTracker: metrics.jsonl, one JSON line per logged value."""

    def __init__(self, path: Path, run_id: str) -> None:
        self.file, self.run_id = path.open("w"), run_id

    def log(self, epoch: int, phase: str, metric: str, value: float) -> None:
        line = {"run_id": self.run_id, "timestamp": time.time(), "step": epoch,
                "epoch": epoch, "phase": phase, "metric": metric, "value": value}
        self.file.write(json.dumps(line) + "\n")


def fit(a: argparse.Namespace, fold_dir: Path) -> dict:
    _, x, y = arrays(a.train_csv)
    _, xv, yv = arrays(a.val_csv)
    rng = np.random.default_rng(a.seed)
    w = {"w1": rng.normal(0, 0.3, (x.shape[1], a.hidden)), "b1": np.zeros(a.hidden),
         "w2": rng.normal(0, 0.3, a.hidden), "b2": np.zeros(1)}
    tracker = Tracker(fold_dir / "metrics.jsonl", f"{a.model_type}_fold{a.fold}")
    for epoch in range(1, a.epochs + 1):
        h, p = forward(w, x)
        g = (p - y) / len(y)
        gh = np.outer(g, w["w2"]) * (1 - h**2)
        w["w2"] -= a.lr * h.T @ g
        w["b2"] -= a.lr * g.sum()
        w["w1"] -= a.lr * x.T @ gh
        w["b1"] -= a.lr * gh.sum(axis=0)
        tracker.log(epoch, "train", "loss", loss(p, y))
        tracker.log(epoch, "val", "loss", loss(forward(w, xv)[1], yv))
    np.savez(fold_dir / "model.npz", **w)
    return w


def auc(score: np.ndarray, y: np.ndarray) -> float:
    """The probability that a random positive scores above a random negative."""
    pos, neg = score[y == 1], score[y == 0]
    return float(((pos[:, None] > neg) + 0.5 * (pos[:, None] == neg)).mean())


def evaluate(w: dict, path: str) -> dict:
    _, x, y = arrays(path)
    p = forward(w, x)[1]
    pred = (p >= 0.5).astype(float)
    found = {"val_acc": float((pred == y).mean()), "val_auc": auc(p, y)}
    for k in range(len(CLASSES)):
        tp = np.sum((pred == k) & (y == k))
        prec, rec = tp / max(np.sum(pred == k), 1), tp / max(np.sum(y == k), 1)
        found[f"precision_class{k}"] = float(prec)
        found[f"recall_class{k}"] = float(rec)
        found[f"f1_class{k}"] = float(2 * prec * rec / max(prec + rec, 1e-12))
    found["val_f1"] = found["f1_class1"]
    return found


p = argparse.ArgumentParser()
p.add_argument("--model-type", required=True)
p.add_argument("--train-csv", required=True)
p.add_argument("--val-csv", required=True, help="the held-out fold")
p.add_argument("--fold", type=int, required=True, help="1-based, as the fold_N folders")
p.add_argument("--output-dir", required=True)
p.add_argument("--epochs", type=int, default=30)
p.add_argument("--hidden", type=int, default=8)
p.add_argument("--lr", type=float, default=0.5)
p.add_argument("--seed", type=int, default=0)
args = p.parse_args()
fold_dir = Path(args.output_dir) / f"fold_{args.fold}"
fold_dir.mkdir(parents=True, exist_ok=True)
weights = fit(args, fold_dir)
metadata = {"model_type": args.model_type, "fold": args.fold, "epochs": args.epochs,
            "metrics": evaluate(weights, args.val_csv)}
(fold_dir / "metadata.json").write_text(json.dumps(metadata, indent=1))
