"""Writes videos.csv: a small synthetic stand-in for the per-video feature table (seeded).

240 videos from 80 source clips (a source's real and fake videos stay in one fold), a
label `real` / `fake` and 8 features standing in for the pretrained-network embeddings.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
rng = np.random.default_rng(3)
rows = []
for source in range(80):
    for take in range(3):
        fake = int(rng.random() < 0.5)
        signal = rng.normal(0, 1, 8) + fake * np.array([1.2, -0.8, 0.6, 0, 0, 0.4, 0, 0])
        rows.append({"video": f"clip{source:03d}_{take}", "source": f"clip{source:03d}",
                     "label": "fake" if fake else "real",
                     **{f"emb{j}": round(v, 4) for j, v in enumerate(signal)}})
pd.DataFrame(rows).to_csv(HERE / "videos.csv", index=False)
print(f"wrote {len(rows)} videos to videos.csv")
