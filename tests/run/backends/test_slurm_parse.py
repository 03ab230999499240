"""Parsers of scheduler output, against real output captured from a SLURM 22.05."""

from __future__ import annotations

import pytest

from foldrun.core.task import TaskState
from foldrun.errors import SchedulerError
from foldrun.run.backends.slurm.parse import (
    classify,
    expand_array_spec,
    parse_job_id,
    parse_sacct,
    parse_sbatch,
    parse_squeue,
)

from .conftest import FIXTURES


def read(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20", ("20", None)),
        ("20_3", ("20", (3,))),
        ("20_[2-7%5]", ("20", (2, 3, 4, 5, 6, 7))),
        ("20_[1,3,5-7]", ("20", (1, 3, 5, 6, 7))),
        ("20_[0-8:4]", ("20", (0, 4, 8))),
        ("48123456_999", ("48123456", (999,))),
        ("48123456_0.batch", ("48123456", (0,))),
    ],
)
def test_job_ids(text: str, expected: tuple[str, tuple[int, ...] | None]) -> None:
    assert parse_job_id(text) == expected


def test_bad_job_id_is_a_scheduler_error() -> None:
    with pytest.raises(SchedulerError, match="unexpected SLURM job id"):
        parse_job_id("x_1")


def test_array_spec_drops_the_throttle() -> None:
    assert expand_array_spec("0-999%10") == tuple(range(1000))


def test_sbatch_output_shapes() -> None:
    assert parse_sbatch(read("sbatch_parsable.txt")) == read("sbatch_parsable.txt").strip()
    assert parse_sbatch("48123456;cluster-a\n") == "48123456"
    assert parse_sbatch("Submitted batch job 77\n") == "77"
    with pytest.raises(SchedulerError, match="no job id"):
        parse_sbatch("sbatch: warning: something\n")


def test_real_squeue_early() -> None:
    records = parse_squeue(read("squeue_early.txt"))
    whole = next(r for r in records if r.indices == tuple(range(8)))  # 39_[0-7%1]
    assert whole.state == "PENDING" and whole.name == "foldrun-fixture-train"
    assert any(r.reason == "Dependency" and r.indices == (7,) for r in records)
    assert {r.state for r in records} == {"PENDING", "COMPLETED"}


def test_real_squeue_later_has_failures_and_never_satisfied() -> None:
    records = parse_squeue(read("squeue_later.txt"))
    failed = [r for r in records if r.state == "FAILED"]
    assert failed and all(r.reason == "NonZeroExitCode" for r in failed)
    never = [r for r in records if r.reason == "DependencyNeverSatisfied"]
    assert never
    state, reason = classify(never[0].state, never[0].reason)
    assert state is TaskState.FAILED and "upstream" in reason
    assert classify(failed[0].state, failed[0].reason) == (
        TaskState.FAILED,
        "FAILED (NonZeroExitCode)",
    )


def test_long_squeue_output() -> None:
    lines = [f"9{n:07d}_{n % 50}|RUNNING|None|foldrun-r-0a0a0a-train" for n in range(5000)]
    lines.append("99999999_[50-4999%100]|PENDING|JobArrayTaskLimit|foldrun-r-0a0a0a-train")
    records = parse_squeue("\n".join(lines))
    assert len(records) == 5001
    assert records[-1].indices == tuple(range(50, 5000))


def test_sacct_with_slurmdbd_shape() -> None:
    records = {
        r.indices[0]: r
        for r in parse_sacct(read("sacct_slurmdbd_shape.txt"))
        if r.job_id == "48123456" and r.indices and len(r.indices) == 1
    }
    assert records[1].state == "FAILED" and records[1].reason == "exit code 1:0"
    assert records[3].state == "CANCELLED"  # "CANCELLED by 40213"
    assert classify(records[2].state, "")[0] is TaskState.FAILED  # TIMEOUT
    assert classify(records[0].state, "")[0] is None  # COMPLETED: the DONE file decides


def test_sacct_of_the_jobcomp_log_has_raw_ids() -> None:
    records = parse_sacct(read("sacct_c.stdout"))
    assert records and all(r.indices is None for r in records)
    assert not parse_sacct(read("sacct_disabled.stdout"))


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("PENDING", TaskState.PENDING),
        ("REQUEUED", TaskState.PENDING),
        ("RUNNING", TaskState.RUNNING),
        ("COMPLETING", TaskState.RUNNING),
        ("NODE_FAIL", TaskState.FAILED),
        ("PREEMPTED", TaskState.FAILED),
        ("COMPLETED", None),
    ],
)
def test_state_map(state: str, expected: TaskState | None) -> None:
    assert classify(state, "None")[0] is expected
