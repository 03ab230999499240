"""Stand-in for ANIMAL-SPOT's `start_prediction.py <cfg>`: predict.cfg names the model, the
clips to scan (input_file), where the detections go (output_file: clip, prob, detection)
and the benchmark setting (sequence_len, hop, threshold). It knows nothing of foldrun."""

import sys

import numpy as np
import pandas as pd
from spot_cfg import read_cfg

cfg = read_cfg(sys.argv[1])
clips = pd.read_csv(cfg["input_file"], dtype={"clip": str})
w = np.load(cfg["model_path"])
x = np.column_stack([np.ones(len(clips)), clips.filter(like="band").to_numpy(float)])
prob = 1 / (1 + np.exp(-x @ w))
detection = np.where(prob >= float(cfg["threshold"]), "call", "noise")
pd.DataFrame({"clip": clips["clip"], "prob": prob, "detection": detection}).to_csv(
    cfg["output_file"], index=False)
