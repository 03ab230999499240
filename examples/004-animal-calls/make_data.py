"""Writes clips.csv: a small synthetic stand-in for the training clips (seeded).

240 clips cut from 24 tapes (a tape's clips stay in one fold), each a `call` (the target
sound) or `noise` (mined from the same tape), and 6 spectrogram summary features.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
rng = np.random.default_rng(4)
rows = []
for tape in range(24):
    loudness = rng.normal(0, 0.5)  # every tape has its own recording level
    for clip in range(10):
        call = int(rng.random() < 0.4)
        bands = rng.normal(loudness, 1, 6) + call * np.array([1.5, 1.0, 0, 0, 0.5, 0])
        rows.append({"clip": f"tape{tape:02d}-{clip:02d}", "tape": f"tape{tape:02d}",
                     "label": "call" if call else "noise",
                     **{f"band{j}": round(v, 4) for j, v in enumerate(bands)}})
pd.DataFrame(rows).to_csv(HERE / "clips.csv", index=False)
print(f"wrote {len(rows)} clips to clips.csv")
