"""Stand-in for the seed's `scripts/run_denoise_from_manifest.py`: denoises every spectrum
a manifest lists with a checkpoint, one `<id>_denoised.npy` per entry under --output-root.
It knows nothing of foldrun."""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

p = argparse.ArgumentParser()
p.add_argument("--manifest", required=True)
p.add_argument("--spectra", required=True)
p.add_argument("--checkpoint", required=True)
p.add_argument("--output-root", required=True)
args = p.parse_args()

data, model = np.load(args.spectra), np.load(args.checkpoint)
index = {i: n for n, i in enumerate(data["ids"])}
out = Path(args.output_root)
out.mkdir(parents=True, exist_ok=True)
for spectrum_id in pd.read_csv(args.manifest, dtype={"id": str})["id"]:
    noisy = data["noisy"][index[spectrum_id]]
    denoised = (noisy - model["mean"]) @ model["basis"].T @ model["basis"] + model["mean"]
    np.save(out / f"{spectrum_id}_denoised.npy", denoised)
print(f"denoised {args.manifest} -> {out}")
