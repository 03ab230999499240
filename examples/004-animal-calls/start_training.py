"""Stand-in for ANIMAL-SPOT's `start_training.py <cfg>`: every setting comes from the
alpaca_server.cfg it is given (data_dir: the training clips, model_dir, sequence_len,
n_fft, ...). A logistic detector on the band features (numpy) stands in for the network.
It knows nothing of foldrun."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from spot_cfg import read_cfg

cfg = read_cfg(sys.argv[1])
clips = pd.read_csv(cfg["data_dir"], dtype={"clip": str})
x = np.column_stack([np.ones(len(clips)), clips.filter(like="band").to_numpy(float)])
y = (clips["label"] == "call").to_numpy(float)
w = np.zeros(x.shape[1])
for _ in range(int(cfg["max_train_epochs"])):
    w -= float(cfg["lr"]) * x.T @ (1 / (1 + np.exp(-x @ w)) - y) / len(y)
model_dir = Path(cfg["model_dir"])
model_dir.mkdir(parents=True, exist_ok=True)
np.save(model_dir / "ANIMAL-SPOT.npy", w)
print(f"trained on {len(clips)} clips (sequence_len {cfg['sequence_len']}, n_fft {cfg['n_fft']})")
