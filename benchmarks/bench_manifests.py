"""Manifest benchmark (issue 12 item 8): `foldrun split` of a 1e6-row x 20-column table
end to end (read, assign, write the split folder), against what researchers write by hand
(scikit-learn's StratifiedGroupKFold + pandas to_csv / to_parquet of each fold's train and
test rows).

    .venv/bin/python benchmarks/bench_manifests.py [--rows N] [--runs 3] [--before SRC]
        [--formats parquet,csv] [--manifests csv,parquet] [--cache DIR]

`--formats`: the input tables (Parquet, CSV); `--manifests`: the manifest formats, each
timed for foldrun (`--manifests X`) and the competitor (`to_X`). Each run is a fresh
process; its wall time and peak RSS come from os.wait4 (that child only). `--before SRC`
also times another foldrun source tree (e.g. `git archive HEAD src` unpacked, or a
`git worktree`'s src) in the same run, interleaved, so load changes hit each alike. The tables
are kept in `--cache` (made once: a 1e6-row table takes a while).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_split import skewed_groups, uuids  # noqa: E402

COMPETITOR = """
import sys
import pandas as pd
from pathlib import Path
from sklearn.model_selection import StratifiedGroupKFold
table, out = sys.argv[1], Path(sys.argv[2])
df = pd.read_parquet(table) if table.endswith(".parquet") else pd.read_csv(table, dtype={"id": str})
fmt = sys.argv[3]
cv = StratifiedGroupKFold(5, shuffle=True, random_state=0)
for f, (train, test) in enumerate(cv.split(df, df["y"], df["g"])):
    (out / f"fold_{f:02d}").mkdir(parents=True)
    for name, rows in (("train", train), ("test", test)):
        part, path = df.iloc[rows], out / f"fold_{f:02d}" / f"{name}.{fmt}"
        part.to_parquet(path, index=False) if fmt == "parquet" else part.to_csv(path, index=False)
"""


def make_table(n: int, seed: int = 0) -> pd.DataFrame:
    """n rows x 20 columns: a UUID id, a skewed UUID group (n/10 groups, Pareto sizes),
    5 imbalanced classes, 8 full-precision floats, 4 two-decimal floats (one with missing
    values), 3 integers, 2 short categorical strings (one with commas and quotes)."""
    rng = np.random.default_rng(seed)
    n_groups = max(n // 10, 5)
    cols: dict[str, object] = {
        "id": uuids(rng, n),
        "g": uuids(rng, n_groups)[skewed_groups(rng, n, n_groups, 1.5)],
        "y": np.array(["a", "b", "c", "d", "e"])[
            rng.choice(5, n, p=[0.55, 0.25, 0.12, 0.06, 0.02])
        ].astype(object),
    }
    for i in range(8):
        cols[f"x{i}"] = rng.normal(size=n) * 10.0 ** (i - 3)
    for i in range(4):
        cols[f"m{i}"] = np.round(rng.normal(50, 15, n), 2)
    cols["m3"] = np.where(rng.random(n) < 0.05, np.nan, cols["m3"])
    for i in range(3):
        cols[f"k{i}"] = rng.integers(0, 10 ** (i + 2), n)
    cols["site"] = np.array(["north", "south", "east", "west"])[rng.integers(0, 4, n)]
    cols["note"] = np.array(["plain", "a, b", 'say "hi"', ""])[rng.integers(0, 4, n)]
    df = pd.DataFrame(cols)
    df["note"] = df["note"].replace("", None)
    return df


def timed_child(
    cmd: list[str], env: dict[str, str] | None = None
) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MB, CPU seconds) of one child process: CPU time is the
    steadier figure on a shared machine (other load stretches the wall time)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{cmd} failed:\n{proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def foldrun_cmd(table: Path, out: Path, manifests: str = "csv") -> list[str]:
    cli = "from foldrun.cli import main; main()"
    extra = ["--manifests", manifests] if manifests != "csv" else []  # `before` has no flag
    return [sys.executable, "-c", cli, "split", str(table), "--out", str(out),
            "--id", "id", "--target", "y", "--group", "g", "--folds", "5", *extra]  # fmt: skip


def cached_tables(rows: int, formats: list[str], cache: Path) -> dict[str, Path]:
    """The benchmark table in each input format, made once into `cache`."""
    cache.mkdir(parents=True, exist_ok=True)
    paths = {fmt: cache / f"table_{rows}.{fmt}" for fmt in formats}
    missing = [fmt for fmt, path in paths.items() if not path.is_file()]
    if missing:  # in a child process: the children timed later inherit this process's
        # peak RSS (Linux keeps ru_maxrss across fork and exec), and making the table here
        # raised every foldrun run's "peak" to ~780 MB
        code = "import sys; sys.path.insert(0, sys.argv[1]); import bench_manifests as b; " \
               "b.write_tables(int(sys.argv[2]), sys.argv[3:])"  # fmt: skip
        subprocess.run([sys.executable, "-c", code, str(HERE), str(rows),
                        *(str(paths[fmt]) for fmt in missing)], check=True)  # fmt: skip
    return paths


def write_tables(rows: int, paths: list[str]) -> None:
    """`make_table(rows)` written to each path (its suffix the format), atomically."""
    df = make_table(rows)
    for name in paths:
        path = Path(name)
        tmp = path.with_suffix(".tmp")
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False)
        tmp.rename(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", type=Path, help="src folder of the foldrun to compare")
    parser.add_argument("--no-competitor", action="store_true")
    parser.add_argument("--formats", default="parquet,csv", help="input table formats")
    parser.add_argument("--manifests", default="csv,parquet", help="manifest formats")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/foldrun-bench-manifests"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_manifests_"))
    try:
        tables = cached_tables(args.rows, args.formats.split(","), args.cache)
        for name, path in tables.items():
            print(f"{name}: {path.stat().st_size / 1e6:.0f} MB")
        tools: dict[str, tuple[str, object]] = {}
        for manifests in args.manifests.split(","):
            tools[f"foldrun {manifests}"] = (manifests, None)
            if args.before:  # a tree from before --manifests existed: csv only
                env = {**os.environ, "PYTHONPATH": str(args.before.resolve())}
                tools[f"before {manifests}"] = (manifests, env)
            if not args.no_competitor:
                tools[f"sklearn+to_{manifests}"] = (manifests, "competitor")
        results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
        for fmt, table in tables.items():
            for run in range(args.runs):
                for tool, (manifests, how) in tools.items():
                    out = work / "out"
                    shutil.rmtree(out, ignore_errors=True)
                    if how == "competitor":
                        cmd = [sys.executable, "-c", COMPETITOR, str(table), str(out), manifests]
                        got = timed_child(cmd)
                    else:
                        assert how is None or isinstance(how, dict)
                        got = timed_child(foldrun_cmd(table, out, manifests), how)
                    results.setdefault((fmt, tool), []).append(got)
                    wall, rss, cpu = got
                    load = os.getloadavg()[0]
                    print(f"{fmt} run {run} {tool}: {wall:.2f} s, {rss:.0f} MB, CPU {cpu:.2f} s,"
                          f" load {load:.1f}", flush=True)  # fmt: skip
        print(f"\n{'table':8s} {'tool':18s} {'wall s':>8s} {'CPU s':>8s} {'peak RSS MB':>12s}"
              "  (medians)")  # fmt: skip
        for (fmt, tool), runs in results.items():
            wall, rss, cpu = (statistics.median(r[i] for r in runs) for i in range(3))
            print(f"{fmt:8s} {tool:18s} {wall:8.2f} {cpu:8.2f} {rss:12.0f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
