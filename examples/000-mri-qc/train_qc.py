"""Stand-in for the seed's training script, written as its author wrote it.

It reads the whole input CSV and the flat `fold_assignments.json` ({subject: fold}) that
step 1 wrote, trains on every subject outside --fold and evaluates on the subjects of
--fold. A ridge regression (numpy) from the `f*` columns to the QC score stands in for the
network. Like the real script it writes a checkpoint, `<model>_fold_<N>.csv` (the held-out
scans: true and predicted score) and `<model>_fold_<N>.png` (predicted vs true) into its
output folder. It knows nothing of foldrun.
"""

import argparse
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

p = argparse.ArgumentParser()
p.add_argument("--csv", required=True, help="the input table, one row per scan")
p.add_argument("--fold-assignments", required=True, help="fold_assignments.json: subject -> fold")
p.add_argument("--fold", type=int, required=True)
p.add_argument("--output-dir", required=True)
p.add_argument("--alpha", type=float, default=1.0)
p.add_argument("--model-name", default="model")
args = p.parse_args()

scans = pd.read_csv(args.csv, dtype={"subject": str})
folds = json.loads(Path(args.fold_assignments).read_text())
held_out = scans["subject"].map(folds) == args.fold
train, test = scans[~held_out], scans[held_out]
cols = [c for c in train.columns if c.startswith("f")]


def design(df: pd.DataFrame) -> np.ndarray:
    return np.column_stack([np.ones(len(df)), df[cols].to_numpy(float)])


X, y = design(train), train["qu_motion"].to_numpy(float)
weights = np.linalg.solve(X.T @ X + args.alpha * np.eye(X.shape[1]), X.T @ y)
pred = design(test) @ weights
truth = test["qu_motion"].to_numpy(float)

out = Path(args.output_dir)
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

print(f"fold {args.fold}: trained on {len(train)} scans, tested on {len(test)}")
