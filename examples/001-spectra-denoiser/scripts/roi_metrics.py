"""Stand-in for the seed's ROI metric script: scores the denoised spectra of one split
against the clean ones and writes one JSON for that split: {"psnr": ..., "sam": ...}
(PSNR, higher is better; SAM, the spectral angle in degrees, lower is better). It knows
nothing of foldrun."""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

p = argparse.ArgumentParser()
p.add_argument("--manifest", required=True)
p.add_argument("--spectra", required=True)
p.add_argument("--denoised-root", required=True)
p.add_argument("--out", required=True)
args = p.parse_args()

data = np.load(args.spectra)
index = {i: n for n, i in enumerate(data["ids"])}
ids = pd.read_csv(args.manifest, dtype={"id": str})["id"]
clean = data["clean"][[index[i] for i in ids]]
denoised = np.array([np.load(Path(args.denoised_root) / f"{i}_denoised.npy") for i in ids])
mse = np.mean((denoised - clean) ** 2)
cos = np.sum(denoised * clean, axis=1) / (
    np.linalg.norm(denoised, axis=1) * np.linalg.norm(clean, axis=1))
roi = {"psnr": float(10 * np.log10(np.ptp(clean) ** 2 / mse)),
       "sam": float(np.degrees(np.arccos(np.clip(cos, -1, 1))).mean())}
Path(args.out).write_text(json.dumps(roi, indent=1))
print(json.dumps(roi))
