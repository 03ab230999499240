"""The bundled example table: scikit-learn's breast-cancer data (shipped inside scikit-learn,
no download) with a synthetic `patient` column so that grouping is exercised."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from foldrun.data.table import write_table

if TYPE_CHECKING:
    import pandas as pd

N_PATIENTS = 120


def load_example_table() -> pd.DataFrame:
    """`id`, `patient`, `label` (malignant/benign) and 30 snake_case numeric features."""
    import numpy as np
    import pandas as pd
    from sklearn.datasets import load_breast_cancer

    raw = load_breast_cancer()
    features = pd.DataFrame(raw.data, columns=[_snake(n) for n in raw.feature_names])
    n = len(features)
    labels = np.asarray(raw.target_names)[raw.target]
    table = pd.DataFrame(
        {
            "id": [f"s{i:04d}" for i in range(n)],
            "patient": [f"p{p:03d}" for p in _patients(n)],
            "label": labels,
        }
    )
    return pd.concat([table, features], axis=1)


def _patients(n: int) -> list[int]:
    """Deterministic patient numbers: several samples each, skewed sizes (Zipf-like)."""
    import numpy as np

    rng = np.random.default_rng(20260315)
    weights = 1.0 / np.arange(1, N_PATIENTS + 1) ** 0.8
    patients = rng.choice(N_PATIENTS, size=n, p=weights / weights.sum())
    return [int(p) for p in patients]


def _snake(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def write_example_table(path: str | Path) -> Path:
    """Write the example table (csv, tsv or parquet by suffix); returns the path."""
    write_table(load_example_table(), path)
    return Path(path)
