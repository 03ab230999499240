"""A small command-line model for foldrun's demo: a nearest-centroid classifier.

Plain numpy and pandas, no foldrun import: any program that reads the fold's manifests
and writes predictions (DESIGN.md's predictions contract) works the same way.

    python nearest_centroid.py train --train TRAIN.csv --out DIR --target label --drop id patient
    python nearest_centroid.py predict --model DIR/centroids.json --test TEST.csv \\
        --predictions OUT.csv --id id
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd


def train(args: argparse.Namespace) -> None:
    frame = pd.read_csv(args.train)
    features = [
        c for c in frame.select_dtypes("number").columns if c not in {args.target, *args.drop}
    ]
    X = frame[features].to_numpy(dtype=float)
    mean, std = X.mean(axis=0), X.std(axis=0) + 1e-12
    Z = (X - mean) / std
    classes = sorted(frame[args.target].unique().tolist())
    centroids = {
        str(c): Z[(frame[args.target] == c).to_numpy()].mean(axis=0).tolist() for c in classes
    }
    out = Path(args.out)
    model = {
        "features": features,
        "mean": mean.tolist(),
        "std": std.tolist(),
        "centroids": centroids,
        "temperature": args.temperature,
    }
    (out / "centroids.json").write_text(json.dumps(model))
    (out / "metrics.json").write_text(
        json.dumps({"n_train": len(frame), "n_features": len(features)})
    )
    print(f"trained on {len(frame)} rows, {len(features)} features, classes {classes}")


def predict(args: argparse.Namespace) -> None:
    model = json.loads(Path(args.model).read_text())
    frame = pd.read_csv(args.test)
    Z = (frame[model["features"]].to_numpy(dtype=float) - model["mean"]) / model["std"]
    names = list(model["centroids"])
    C = np.array([model["centroids"][n] for n in names])
    dist = np.sqrt(((Z[:, None, :] - C[None, :, :]) ** 2).sum(axis=2))
    logits = -dist / model["temperature"]
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    preds = pd.DataFrame({"id": frame[args.id]})
    for i, name in enumerate(names):
        preds[f"proba_{name}"] = proba[:, i]
    preds["pred"] = np.asarray(names)[proba.argmax(axis=1)]
    preds.to_csv(args.predictions, index=False)
    print(f"predicted {len(preds)} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="step", required=True)
    tr = sub.add_parser("train")
    tr.add_argument("--train", required=True)
    tr.add_argument("--out", required=True)
    tr.add_argument("--target", required=True)
    tr.add_argument("--drop", nargs="*", default=[])
    tr.add_argument("--temperature", type=float, default=1.0)
    pr = sub.add_parser("predict")
    pr.add_argument("--model", required=True)
    pr.add_argument("--test", required=True)
    pr.add_argument("--predictions", required=True)
    pr.add_argument("--id", default="id")
    args = parser.parse_args()
    train(args) if args.step == "train" else predict(args)


if __name__ == "__main__":
    main()
