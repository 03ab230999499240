"""Writes clips.csv and benchmark.csv: small synthetic stand-ins for the training clips
and the benchmark corpus (seeded).

clips.csv: 240 clips cut from 24 tapes (a tape's clips stay in one fold), each a `call`
(the target sound) or `noise` (mined from the same tape), and 6 spectrogram summary
features. benchmark.csv: 80 clips from 8 other tapes (recorded later, a little louder),
the corpus every fold model is benchmarked on and none trains on.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
rng = np.random.default_rng(4)


def clips(tapes: range, level: float) -> pd.DataFrame:
    rows = []
    for tape in tapes:
        loudness = rng.normal(level, 0.5)  # every tape has its own recording level
        for clip in range(10):
            call = int(rng.random() < 0.4)
            bands = rng.normal(loudness, 1, 6) + call * np.array([1.5, 1.0, 0, 0, 0.5, 0])
            rows.append({"clip": f"tape{tape:02d}-{clip:02d}", "tape": f"tape{tape:02d}",
                         "label": "call" if call else "noise",
                         **{f"band{j}": round(v, 4) for j, v in enumerate(bands)}})
    return pd.DataFrame(rows)


for name, frame in (("clips.csv", clips(range(24), 0.0)),
                    ("benchmark.csv", clips(range(24, 32), 0.3))):
    frame.to_csv(HERE / name, index=False)
    print(f"wrote {len(frame)} clips to {name}")
