"""A small command-line model for foldrun's demo: a nearest-centroid classifier.

Plain numpy and the csv module, no foldrun import: any program that reads the fold's
manifests and writes predictions (the README's predictions contract) works the same way.

    python nearest_centroid.py train --train TRAIN.csv --out DIR --target label --drop id patient
    python nearest_centroid.py predict --model DIR/centroids.json --test TEST.csv \\
        --predictions OUT.csv --id id
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np


def read_columns(path: str) -> dict[str, list[str]]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {name: [row[name] for row in rows] for name in (rows[0] if rows else {})}


def numeric(values: list[str]) -> np.ndarray | None:
    try:
        return np.array([float(v) for v in values])
    except ValueError:
        return None


def train(args: argparse.Namespace) -> None:
    table = read_columns(args.train)
    features = [
        c for c in table if c not in {args.target, *args.drop} and numeric(table[c]) is not None
    ]
    X = np.column_stack([numeric(table[c]) for c in features])
    y = np.array(table[args.target])
    mean, std = X.mean(axis=0), X.std(axis=0) + 1e-12
    Z = (X - mean) / std
    classes = sorted(set(y.tolist()))
    centroids = {c: Z[y == c].mean(axis=0).tolist() for c in classes}
    model = {
        "features": features,
        "mean": mean.tolist(),
        "std": std.tolist(),
        "centroids": centroids,
        "temperature": args.temperature,
    }
    out = Path(args.out)
    (out / "centroids.json").write_text(json.dumps(model))
    # a task may add its own metrics: a flat metrics.json in its folder
    (out / "metrics.json").write_text(json.dumps({"n_train": len(y), "n_features": len(features)}))
    print(f"trained on {len(y)} rows, {len(features)} features, classes {classes}")


def predict(args: argparse.Namespace) -> None:
    model = json.loads(Path(args.model).read_text())
    table = read_columns(args.test)
    X = np.column_stack([numeric(table[c]) for c in model["features"]])
    Z = (X - np.array(model["mean"])) / np.array(model["std"])
    names = list(model["centroids"])
    C = np.array([model["centroids"][n] for n in names])
    dist = np.sqrt(((Z[:, None, :] - C[None, :, :]) ** 2).sum(axis=2))
    logits = -dist / model["temperature"]
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    with open(args.predictions, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["id", *[f"proba_{n}" for n in names], "pred"])
        for ident, p in zip(table[args.id], proba, strict=True):
            out.writerow([ident, *[f"{v:.10g}" for v in p], names[int(p.argmax())]])
    print(f"predicted {len(proba)} rows")


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
    if args.step == "train":
        train(args)
    else:
        predict(args)


if __name__ == "__main__":
    main()
