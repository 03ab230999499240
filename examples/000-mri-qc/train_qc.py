"""Stand-in for the seed's training script: trains on one fold, evaluates itself.

A ridge regression (numpy) from the `f*` columns to the QC score. It writes, like the
real script, a per-fold CSV of predictions and a per-fold PNG (predicted vs true) into
--out, and its own metrics.json there with `test/<metric>` keys, which foldrun reads as
this fold's scores.
"""

import argparse
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

p = argparse.ArgumentParser()
p.add_argument("--train", required=True)
p.add_argument("--test", required=True)
p.add_argument("--out", required=True)
p.add_argument("--fold", type=int, required=True)
p.add_argument("--alpha", type=float, default=1.0)
p.add_argument("--model-name", default="model")
args = p.parse_args()

train, test = pd.read_csv(args.train), pd.read_csv(args.test)
cols = [c for c in train.columns if c.startswith("f")]


def design(df: pd.DataFrame) -> np.ndarray:
    return np.column_stack([np.ones(len(df)), df[cols].to_numpy(float)])


X, y = design(train), train["qu_motion"].to_numpy(float)
weights = np.linalg.solve(X.T @ X + args.alpha * np.eye(X.shape[1]), X.T @ y)
pred = design(test) @ weights
truth = test["qu_motion"].to_numpy(float)

out = Path(args.out)
stem = f"{args.model_name}_fold_{args.fold}"
np.save(out / f"{stem}.npy", weights)  # the checkpoint (the seed's .pt)
pd.DataFrame({"scan": test["scan"], "qu_motion": truth, "predicted": pred}).to_csv(
    out / f"{stem}.csv", index=False
)


def png(path: Path, xs: np.ndarray, ys: np.ndarray, size: int = 96) -> None:
    """A scatter of predicted vs true as a grey-scale PNG, written with zlib alone."""
    img = np.full((size, size), 255, np.uint8)
    lo, hi = min(xs.min(), ys.min()), max(xs.max(), ys.max()) + 1e-9
    img[np.arange(size)[::-1], np.arange(size)] = 200  # the diagonal
    cx = ((xs - lo) / (hi - lo) * (size - 1)).astype(int)
    cy = (size - 1 - (ys - lo) / (hi - lo) * (size - 1)).astype(int)
    img[cy, cx] = 0
    raw = b"".join(b"\x00" + row.tobytes() for row in img)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


png(out / f"{stem}.png", truth, pred)

err = pred - truth
metrics = {
    "test/rmse": float(np.sqrt(np.mean(err**2))),
    "test/mae": float(np.mean(np.abs(err))),
    "test/pearson": float(np.corrcoef(truth, pred)[0, 1]),
    "n_train": len(train),
}
(out / "metrics.json").write_text(json.dumps(metrics, indent=1))
print(f"fold {args.fold}: rmse {metrics['test/rmse']:.3f} on {len(test)} scans")
