"""details.json: per-fold sizes, class counts and shares, target statistics and balance
scores. Floats are rounded to fixed digits so the bytes are the same on every run."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from foldrun.core.files import file_sha256

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def num(x: float) -> float | None:
    """A float with 6 significant digits (stable bytes); None for NaN."""
    x = float(x)
    return None if np.isnan(x) else float(f"{x:.6g}")


def sha256_of(source: str | Path | None, table: pd.DataFrame) -> str:
    """sha256 of the input file's bytes, or of the table's contents when there is no file."""
    if source is not None and Path(source).is_file():
        return file_sha256(source)
    rows = pd.util.hash_pandas_object(table, index=False).to_numpy()
    return hashlib.sha256(rows.tobytes()).hexdigest()


def class_stats(values: np.ndarray, whole: pd.Series) -> dict[str, Any]:
    """Counts and shares of every class (all classes listed, zero when absent)."""
    counts = pd.Series(values).value_counts().reindex(whole.index, fill_value=0)
    return count_stats(counts, len(values), whole)


def count_stats(counts: pd.Series, n_rows: int, whole: pd.Series) -> dict[str, Any]:
    """`class_stats` of `n_rows` rows whose class counts (indexed as `whole`) are known."""
    shares = counts / max(n_rows, 1)
    deviation = float(np.abs(shares - whole / whole.sum()).max()) if n_rows else 1.0
    return {
        "class_counts": {str(k): int(v) for k, v in counts.items()},
        "class_shares": {str(k): num(v) for k, v in shares.items()},
        "max_share_deviation": num(deviation),
    }


def target_stats(values: np.ndarray, whole_sorted: np.ndarray) -> dict[str, Any]:
    """Mean, std, quantiles, and the KS distance of this part's distribution to the whole."""
    if len(values) == 0:
        return {"mean": None, "std": None, "quantiles": {}, "ks": None}
    ks = ks_distance(np.sort(values), whole_sorted)
    quantiles = np.quantile(values, QUANTILES)
    return {
        "mean": num(values.mean()),
        "std": num(values.std()),
        "quantiles": {f"{q:g}": num(v) for q, v in zip(QUANTILES, quantiles, strict=True)},
        "ks": num(ks),
    }


def ks_distance(a_sorted: np.ndarray, b_sorted: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic of two sorted samples."""
    points = np.concatenate([a_sorted, b_sorted])
    cdf_a = np.searchsorted(a_sorted, points, side="right") / len(a_sorted)
    cdf_b = np.searchsorted(b_sorted, points, side="right") / len(b_sorted)
    return float(np.abs(cdf_a - cdf_b).max())


def label_stats(labels: np.ndarray, names: list[str], whole: np.ndarray) -> dict[str, Any]:
    shares = labels.mean(axis=0) if len(labels) else np.zeros(len(names))
    return {
        "label_counts": {n: int(c) for n, c in zip(names, labels.sum(axis=0), strict=True)},
        "label_shares": {n: num(s) for n, s in zip(names, shares, strict=True)},
        "max_share_deviation": num(np.abs(shares - whole).max() if len(labels) else 1.0),
    }
