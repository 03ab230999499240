"""Stand-in for the seed's `python -m src.train`, with its own CLI (underscore options,
`--film_features` as a list, `--amp`/`--ema` switches, `--log_dir`/`--checkpoint_dir` named
per fold, an audit log it insists on). It knows nothing of foldrun.

"Training" fits a PCA basis to the noisy training spectra (no clean targets: label-free,
like noise2noise); the checkpoint keeps the first --components components.
"""

import argparse
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

p = argparse.ArgumentParser()
p.add_argument("--model", default="mamba_tiny_uv")
p.add_argument("--train_manifest", required=True)
p.add_argument("--val_manifest")
p.add_argument("--spectra", required=True)
p.add_argument("--film_features", nargs="+", required=True)
p.add_argument("--components", type=int, required=True)
p.add_argument("--epochs", type=int, default=1)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--amp", action="store_true")
p.add_argument("--ema", action="store_true")
p.add_argument("--ema_decay", type=float, default=0.999)
p.add_argument("--log_dir", required=True)
p.add_argument("--checkpoint_dir", required=True)
p.add_argument("--audit_log", required=True)
args = p.parse_args()

log_dir, ckpt_dir = Path(args.log_dir), Path(args.checkpoint_dir)
log_dir.mkdir(parents=True, exist_ok=True)
ckpt_dir.mkdir(parents=True, exist_ok=True)
(log_dir / "args.json").write_text(json.dumps(vars(args), indent=1))  # the run's settings


def audit(event: str) -> None:
    with open(args.audit_log, "a") as f:
        f.write(f"{datetime.now().isoformat(timespec='seconds')} | {event}\n")


audit("Launching training run")
data = np.load(args.spectra)
index = {i: n for n, i in enumerate(data["ids"])}
ids = pd.read_csv(args.train_manifest, dtype={"id": str})["id"]
train = data["noisy"][[index[i] for i in ids]]
mean = train.mean(axis=0)
basis = np.linalg.svd(train - mean, full_matrices=False)[2][: args.components]
checkpoint = ckpt_dir / f"{args.model}_best.npz"
np.savez(checkpoint, mean=mean, basis=basis)
print(f"fitted {args.components} components on {len(train)} spectra; film features "
      f"{args.film_features}; amp={args.amp} ema={args.ema}")
audit("Training completed successfully")
audit(f"Checkpoint ready: {checkpoint}")
