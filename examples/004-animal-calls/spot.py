"""Stand-in for the seed's detector (training, prediction and evaluation scripts).

train: a logistic regression by gradient descent (numpy) on the band features, the
sequence length and FFT settings being accepted as the real trainer's are.
predict: the call probability of every test clip and the decision at --threshold.
evaluate: precision, recall and F1 of the decisions, written to metrics.json as test/<m>.
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

p = argparse.ArgumentParser()
p.add_argument("step", choices=["train", "predict", "evaluate"])
p.add_argument("--train")
p.add_argument("--test")
p.add_argument("--out")
p.add_argument("--predictions")
p.add_argument("--sequence-len", type=int)
p.add_argument("--n-fft", type=int)
p.add_argument("--hop", type=float)
p.add_argument("--threshold", type=float)
args = p.parse_args()


def features(df: pd.DataFrame) -> np.ndarray:
    x = df[[c for c in df.columns if c.startswith("band")]].to_numpy(float)
    return np.column_stack([np.ones(len(x)), x])


if args.step == "train":
    df = pd.read_csv(args.train, dtype={"clip": str})
    x, y = features(df), (df["label"] == "call").to_numpy(float)
    w = np.zeros(x.shape[1])
    for _ in range(300):
        w -= 0.1 * x.T @ (1 / (1 + np.exp(-x @ w)) - y) / len(y)
    np.save(Path(args.out) / "detector.npy", w)
elif args.step == "predict":
    df = pd.read_csv(args.test, dtype={"clip": str})
    w = np.load(Path(args.out) / "detector.npy")
    score = 1 / (1 + np.exp(-features(df) @ w))
    pred = np.where(score >= args.threshold, "call", "noise")
    pd.DataFrame({"id": df["clip"], "score": score, "pred": pred}).to_csv(
        args.predictions, index=False)
else:
    pred = pd.read_parquet(args.predictions)
    truth = pd.read_csv(args.test, dtype={"clip": str}).set_index("clip")["label"]
    hit, said = pred["id"].map(truth) == "call", pred["pred"] == "call"
    precision = (hit & said).sum() / max(said.sum(), 1)
    recall = (hit & said).sum() / max(hit.sum(), 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    metrics = {"test/precision": precision, "test/recall": recall, "test/f1": f1}
    Path(os.environ["FOLDRUN_TASK_DIR"], "metrics.json").write_text(
        json.dumps({k: float(v) for k, v in metrics.items()}))
