"""kill -9 of the real `foldrun run` (local backend, --jobs 2) at random moments, then
reruns until done. From the tasks' own side effects (counter.txt): a task runs again only
if it had not committed DONE; every DONE folder is whole; the final task results equal an
uninterrupted run's byte for byte (timing fields aside)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.reliability.helpers import (
    FOLDRUN,
    check_folders,
    counts,
    done_keys,
    kill_seeds,
    project,
    results,
)

pytestmark = [pytest.mark.faults, pytest.mark.slow]

# 3 of the 25 seeds by default (seed 0 also reruns a finished run); FOLDRUN_KILL_SEEDS=all
SEEDS = kill_seeds(25, default=(0, 7, 19))


def _run(spec: Path, kill_after: float | None) -> int | None:
    """One `foldrun run`; kill -9 it after kill_after seconds (None: let it finish)."""
    proc = subprocess.Popen(
        [FOLDRUN, "run", str(spec), "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return proc.wait(timeout=kill_after if kill_after is not None else 300)
    except subprocess.TimeoutExpired:
        if kill_after is None:
            raise
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("whole")
    assert _run(project(root), None) == 0
    assert set(counts(root).values()) == {1}
    return results(root)


@pytest.mark.parametrize("seed", SEEDS)
def test_kill_runner_at_random_moments(tmp_path: Path, seed: int, reference: dict) -> None:
    rng = random.Random(seed)
    spec = project(tmp_path)
    kills = 0
    for attempt in range(12):
        before_done = done_keys(tmp_path)
        before = counts(tmp_path)
        # deterministic delays: early ones catch the split/plan, later ones the tasks
        delay = rng.uniform(0.2, 3.0) if kills < 2 and attempt < 10 else None
        code = _run(spec, delay)
        time.sleep(0.05)
        after = counts(tmp_path)
        rerun = {k for k in after if after[k] > before.get(k, 0)}
        redone = rerun & before_done
        assert not redone, f"seed {seed}: tasks done before run {attempt} ran again: {redone}"
        check_folders(tmp_path)
        if code is None:
            kills += 1
            continue
        assert code == 0
        break
    else:
        pytest.fail("the run never finished")
    assert len(done_keys(tmp_path)) == 24
    assert results(tmp_path) == reference
    if seed % 5:
        return
    # a plain rerun after completion runs nothing
    before = counts(tmp_path)
    assert _run(spec, None) == 0
    assert counts(tmp_path) == before
