"""Faults other than a killed runner: the task process killed, a task over its memory
limit, the output disk full, the results Parquet files deleted or truncated. Each leaves
no task counted as done that is not, and a rerun ends with the results of a clean run."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.reliability.helpers import (
    check_folders,
    counts,
    done_keys,
    invoke,
    project,
    results,
    tasks_dir,
)

pytestmark = [pytest.mark.faults, pytest.mark.slow]

KEY = "toy/k1/2/train"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("whole")
    assert invoke("run", str(project(root, grid=2, folds=3)), "--jobs", "2").returncode == 0
    return results(root)


def _plant(root: Path, key: str, action: str) -> None:
    (root / ("fault-" + key.replace("/", "_"))).write_text(action)


def _fails_then_recovers(root: Path, spec: Path, reference: dict, *words: str) -> None:
    first = invoke("run", str(spec), "--jobs", "2")
    assert first.returncode == 1, first.stderr
    assert "toy/k1/fold_02/train" in first.stderr
    assert any(w in first.stderr for w in words), first.stderr
    assert "toy/k1/2/train" not in done_keys(root)
    assert len(done_keys(root)) == 18 - 3  # the failed train, its predict and evaluate
    check_folders(root)
    done_before = done_keys(root)
    before = counts(root)
    second = invoke("run", str(spec), "--jobs", "2")
    assert second.returncode == 0, second.stderr
    after = counts(root)
    rerun = {k for k in after if after[k] > before.get(k, 0)}
    assert rerun == {"toy/k1/2/train", "toy/k1/2/predict"}
    assert not rerun & done_before
    assert results(root) == reference


def test_task_process_killed(tmp_path: Path, reference: dict) -> None:
    spec = project(tmp_path, grid=2, folds=3)
    _plant(tmp_path, KEY, "kill")
    _fails_then_recovers(tmp_path, spec, reference, "signal", "code -9")


def test_task_over_its_memory_limit(tmp_path: Path, reference: dict) -> None:
    # every task runs under `ulimit -v` (1.5 GB of address space); one asks for 2 GiB
    spec = project(tmp_path, grid=2, folds=3, prefix="ulimit -v 1500000; ")
    _plant(tmp_path, KEY, "memory")
    _fails_then_recovers(tmp_path, spec, reference, "MemoryError")


@contextlib.contextmanager
def _tmpfs(path: Path, size: str) -> Iterator[None]:
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_output_disk_full(tmp_path: Path, reference: dict) -> None:
    spec = project(tmp_path, grid=2, folds=3)
    runs = tmp_path / "runs"
    with _tmpfs(runs, "2m"):
        assert invoke("run", str(spec), "--folds", "0").returncode == 0
        # leave ~40 kB free: the next tasks run out of space part way
        filler = runs / "filler"
        with contextlib.suppress(OSError), open(filler, "wb") as fh:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
        filler.write_bytes(filler.read_bytes()[: -40 * 1024])
        first = invoke("run", str(spec), "--jobs", "2")
        assert first.returncode in (1, 2), first.stderr
        # task logs are quoted indented; foldrun's own output never holds a traceback
        assert not [line for line in first.stderr.splitlines() if line.startswith("Traceback")]
        assert "space" in first.stderr.lower(), first.stderr
        check_folders(tmp_path)
        done_before = done_keys(tmp_path)
        before = counts(tmp_path)
        filler.unlink()  # the user frees space, then reruns
        second = invoke("run", str(spec), "--jobs", "2")
        assert second.returncode == 0, second.stderr
        after = counts(tmp_path)
        assert not {k for k in after if after[k] > before.get(k, 0)} & done_before
        assert results(tmp_path) == reference


def _tables(run: Path) -> dict[str, pd.DataFrame]:
    from foldrun import load_results

    loaded = load_results(run)
    return {"metrics": loaded.metrics, "predictions": loaded.predictions}


def test_results_parquet_deleted_or_truncated_are_rebuilt(tmp_path: Path) -> None:
    spec = project(tmp_path, grid=2, folds=3)
    assert invoke("run", str(spec), "--jobs", "2").returncode == 0
    assert invoke("report", str(spec)).returncode == 0
    run = tmp_path / "runs/toy"
    wanted = {p.name: pd.read_parquet(p) for p in sorted((run / "results").glob("*.parquet"))}
    assert set(wanted) >= {"tasks.parquet", "metrics.parquet", "predictions.parquet"}
    (run / "results/metrics.parquet").unlink()
    data = (run / "results/predictions.parquet").read_bytes()
    (run / "results/predictions.parquet").write_bytes(data[: len(data) // 2])
    (run / "results/tasks.parquet").write_bytes(b"")
    again = invoke("report", str(spec))
    assert again.returncode == 0, again.stderr
    for name, frame in wanted.items():
        got = pd.read_parquet(run / "results" / name)
        timing = [c for c in ("started", "ended", "wall_s", "cpu_s", "peak_mb") if c in got]
        pd.testing.assert_frame_equal(got.drop(columns=timing), frame.drop(columns=timing))
    # load_results rebuilds from the task folders as well
    (run / "results/metrics.parquet").write_bytes(b"PAR1garbage")
    tables = _tables(run)
    pd.testing.assert_frame_equal(
        tables["metrics"].reset_index(drop=True),
        wanted["metrics.parquet"].reset_index(drop=True),
        check_dtype=False,
    )
    assert len(list(tasks_dir(tmp_path).glob("*/*/*/*/DONE"))) == 18
