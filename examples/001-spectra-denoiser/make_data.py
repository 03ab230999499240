"""Writes spectra.csv (one row per spectrum: sample, treatment, exposure features) and
spectra.npz (the noisy spectra and, for scoring only, the clean ones), seeded.

6 treatments x 5 samples x 4 replicates = 120 spectra of 64 wavelengths: each spectrum is
a baseline with absorption dips whose depths depend on the treatment, plus noise.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
rng = np.random.default_rng(1)
wavelength = np.linspace(300, 600, 64)
rows, noisy, clean = [], [], []
for treatment in range(1, 7):
    uva, uvb = rng.uniform(0.5, 2.0), rng.uniform(0.1, 1.0)
    for sample in range(1, 6):
        for replicate in range(1, 5):
            depth = 0.3 * uva + rng.normal(0, 0.05)
            spectrum = (1.0 + 0.001 * (wavelength - 300)
                        - depth * np.exp(-((wavelength - 420) / 15) ** 2)
                        - 0.2 * uvb * np.exp(-((wavelength - 510) / 25) ** 2))
            rows.append({"id": f"t{treatment}-s{sample}-r{replicate}",
                         "sample": f"t{treatment}-s{sample}", "treatment": f"t{treatment}",
                         "cos_theta": round(rng.uniform(0.7, 1.0), 4),
                         "uva_total": round(uva, 4), "uvb_total": round(uvb, 4)})
            clean.append(spectrum)
            noisy.append(spectrum + rng.normal(0, 0.05, wavelength.size))

pd.DataFrame(rows).to_csv(HERE / "spectra.csv", index=False)
np.savez(HERE / "spectra.npz", ids=[r["id"] for r in rows], noisy=np.array(noisy),
         clean=np.array(clean), wavelength=wavelength)
print(f"wrote {len(rows)} spectra to spectra.csv and spectra.npz")
