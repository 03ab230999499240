"""Writes scans.csv: a small synthetic stand-in for the MRI QC table (seeded).

One row per scan session; several sessions per subject. `qu_motion` is the continuous
QC score the model predicts and the folds are stratified on; the `f*` columns stand in
for the image-derived inputs.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
rng = np.random.default_rng(0)

subjects = [f"sub-{i:03d}" for i in range(60)]
rows = []
for subject in subjects:
    motion = rng.gamma(2.0, 1.0)  # a subject moves about as much in every session
    for session in range(rng.integers(1, 4)):
        score = max(0.0, motion + rng.normal(0, 0.3))
        features = score * np.array([0.8, -0.5, 0.3, 0.0]) + rng.normal(0, 0.4, 4)
        rows.append({"scan": f"{subject}_ses-{session + 1}", "subject": subject,
                     "qu_motion": round(score, 4),
                     **{f"f{j}": round(v, 4) for j, v in enumerate(features)}})

pd.DataFrame(rows).to_csv(HERE / "scans.csv", index=False)
print(f"wrote {len(rows)} scans of {len(subjects)} subjects to scans.csv")
