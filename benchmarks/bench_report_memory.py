"""Peak memory of `foldrun report` on a run with many pooled out-of-fold rows.

    .venv/bin/python benchmarks/bench_report_memory.py [--rows 1000000] [--dir /tmp/x]

The run: one model, 5 folds, binary classification, ROWS samples (all of them pooled:
no holdout, no refit), so the report's pooled metrics and its bootstrap interval (the
default 1,000 resamples) see ROWS rows. `foldrun report RUN --out OUT` runs as the console
script; a sampler adds up the resident memory of it and of its forked workers every
0.05 s. Prints the wall time, the peak of that sum, and the largest peak of any one
process (getrusage of the waited children).
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.synthetic_run import RunShape, write_run


def make_run(root: Path, rows: int) -> Path:
    marker = root / ".complete"
    if marker.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    shape = RunShape(models={"logreg": 0.8}, grid={}, n_samples=rows, holdout=0, refit=False,
                     curves=0)  # fmt: skip
    write_run(root, shape)
    marker.write_text("ok")
    return root


def tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of `proc` and every process below it (0 once it has ended)."""
    total = 0
    try:
        for p in [proc, *proc.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):  # a worker that just ended
                total += p.memory_info().rss
    except psutil.Error:
        return 0
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/foldrun-bench-memory"))
    args = parser.parse_args()
    start = time.perf_counter()
    run = make_run(args.dir / f"run-{args.rows}", args.rows)
    print(f"run: {run} ({args.rows} pooled rows; ready in {time.perf_counter() - start:.0f} s)")
    shutil.rmtree(run / "results", ignore_errors=True)  # from scratch
    out = args.dir / "report-out"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(Path(sys.executable).parent / "foldrun"), "report", str(run), "--out", str(out)]
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    proc, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        peak = max(peak, tree_rss(proc))
        time.sleep(0.05)
    wall = time.perf_counter() - start
    err = child.stderr.read().decode() if child.stderr else ""
    if child.returncode != 0:
        raise SystemExit(f"report failed ({child.returncode}): {err}")
    one = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # KiB on Linux
    print(f"report: {wall:.1f} s; peak RSS, report and its workers together: "
          f"{peak / 2**30:.2f} GiB; largest single process: {one / 2**30:.2f} GiB")  # fmt: skip


if __name__ == "__main__":
    main()
