"""Stand-in for the seed's denoiser (`src.train` + `run_denoise_from_manifest.py`).

"Training" fits a PCA basis to the noisy training spectra (no clean targets: label-free,
like noise2noise); denoising projects a spectrum onto the first --components components.
It denoises the val and test manifests, writes the denoised arrays into --out and scores
them against the clean spectra with PSNR (higher is better) and SAM, the spectral angle in
degrees (lower is better), as `val/<m>` and `test/<m>` in --out/metrics.json.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

p = argparse.ArgumentParser()
p.add_argument("--train-manifest", required=True)
p.add_argument("--val-manifest")
p.add_argument("--test-manifest")
p.add_argument("--spectra", required=True)
p.add_argument("--out", required=True)
p.add_argument("--fold-name", required=True)
p.add_argument("--film-features", nargs="+", required=True)
p.add_argument("--components", type=int, required=True)
p.add_argument("--epochs", type=int, default=1)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--amp", action="store_true")
p.add_argument("--ema", action="store_true")
p.add_argument("--ema-decay", type=float, default=0.999)
args = p.parse_args()

out = Path(args.out)
(out / "args.json").write_text(json.dumps(vars(args), indent=1))  # what reached the program
data = np.load(args.spectra)
index = {i: n for n, i in enumerate(data["ids"])}


def rows(manifest: str) -> np.ndarray:
    ids = pd.read_csv(manifest, dtype={"id": str})["id"]
    return np.array([index[i] for i in ids])


train = data["noisy"][rows(args.train_manifest)]
mean = train.mean(axis=0)
basis = np.linalg.svd(train - mean, full_matrices=False)[2][: args.components]
np.savez(out / "denoiser.npz", mean=mean, basis=basis)  # the checkpoint
print(f"{args.fold_name}: fitted {args.components} components on {len(train)} spectra; "
      f"film features {args.film_features}; amp={args.amp} ema={args.ema}")


def psnr(x: np.ndarray, ref: np.ndarray) -> float:
    mse = np.mean((x - ref) ** 2)
    return float(10 * np.log10(np.ptp(ref) ** 2 / mse))


def sam(x: np.ndarray, ref: np.ndarray) -> float:
    cos = np.sum(x * ref, axis=1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(ref, axis=1))
    return float(np.degrees(np.arccos(np.clip(cos, -1, 1))).mean())


metrics: dict[str, float] = {}
for subset, manifest in (("val", args.val_manifest), ("test", args.test_manifest)):
    if not manifest:  # the final refit has no held-out rows
        continue
    idx = rows(manifest)
    denoised = (data["noisy"][idx] - mean) @ basis.T @ basis + mean
    np.save(out / f"{subset}_denoised.npy", denoised)
    metrics[f"{subset}/psnr"] = psnr(denoised, data["clean"][idx])
    metrics[f"{subset}/sam"] = sam(denoised, data["clean"][idx])
(out / "metrics.json").write_text(json.dumps(metrics, indent=1))
print(json.dumps(metrics))
