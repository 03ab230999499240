"""What a task folder's predictions read-back costs (helper H, the damaged-page fix).

    cd /tmp && /work/main/.venv/bin/python /work/main/benchmarks/bench_readback.py

CPU microseconds per call on a 200-row predictions.parquet written as a task writes it
(page checksums), medians of 5 interleaved rounds, with the load average:
- core/state.parquet_whole without a recorded stamp (a folder committed before: its ends
  only) and with the stamp .foldrun-outputs records (unchanged file: one fstat more);
- core/state.parquet_reads (a file changed since its commit: every page against its CRC);
- the worker's read-back before DONE: before, the prediction columns without checksum
  verification; now every column, verified (adapters/common._read_parquet, uncached).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from pandas.io._util import arrow_table_to_pandas

from foldrun.core import state
from foldrun.run.adapters.common import _read_parquet, write_predictions

ROWS, ROUNDS = 200, 5


def _file(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"id": [str(i) for i in range(ROWS)], "subset": "test",
                          "pred": rng.integers(0, 2, ROWS), "proba_0": rng.random(ROWS),
                          "proba_1": rng.random(ROWS), "y_true": rng.integers(0, 2, ROWS)})
    return write_predictions(frame, folder)


def _cases(path: Path) -> dict[str, tuple[Callable[[], object], int]]:
    stamp = state.file_stamp(os.stat(path))
    columns = ["id", "subset", "pred", "proba_0", "proba_1"]

    def before() -> object:
        with pq.ParquetFile(path) as parquet:
            table = parquet.read(columns=columns, use_threads=False, use_pandas_metadata=True)
        return arrow_table_to_pandas(table)

    return {
        "state: ends only (no stamp recorded)": (lambda: state.parquet_whole(path), 20000),
        "state: ends + stamp (unchanged file)": (lambda: state.parquet_whole(path, stamp), 20000),
        "state: full read (changed file)": (lambda: state.parquet_reads(path), 2000),
        "worker read-back before": (before, 1000),
        "worker read-back now (all columns, CRC)": (lambda: _read_parquet(path, None), 1000),
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-readback-") as tmp:
        cases = _cases(_file(Path(tmp)))
        found: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(ROUNDS):
            for name, (call, reps) in cases.items():
                call()
                start = time.process_time()
                for _ in range(reps):
                    call()
                found[name].append((time.process_time() - start) / reps * 1e6)
        for name, values in found.items():
            print(f"{name:42s} {statistics.median(values):8.1f} us CPU")
        print("load average", " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
