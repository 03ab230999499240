"""One spec, every machine (issue 25): the local backend fits resource requests to --jobs
and the GPUs it finds; a task learns what it got from FOLDRUN_CPUS, OMP_NUM_THREADS, ...
and FOLDRUN_GPUS."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from foldrun.cli import cli
from foldrun.core.task import PlannedTask, Resources
from foldrun.errors import PlanError
from foldrun.run.backends.local import fitted
from foldrun.run.options import RunOptions
from foldrun.run.runner import run_planned
from foldrun.spec.resources import ResourcesSpec, merge_resources
from tests.run.helpers import task, toy_project

VARIABLES = "FOLDRUN_CPUS OMP_NUM_THREADS MKL_NUM_THREADS OPENBLAS_NUM_THREADS"
# each task writes what it got, then its start and end times (to see who ran alongside)
RECORD = (
    'echo "{fold} $FOLDRUN_CPUS $OMP_NUM_THREADS $MKL_NUM_THREADS $OPENBLAS_NUM_THREADS '
    '[$FOLDRUN_GPUS] [$CUDA_VISIBLE_DEVICES] $(date +%s%N)" >> {rec}; sleep 0.3; '
    'echo "{fold} end $(date +%s%N)" >> {rec}'
)


def recorded(run_dir: Path, fold: int, cpus: int, gpus: int, optional: bool) -> PlannedTask:
    made = task(run_dir, "big", "train", fold, command=RECORD,
                params={"rec": str(run_dir / "got.txt")})  # fmt: skip
    return replace(made, resources=Resources(cpus=cpus, gpus=gpus, gpus_optional=optional))


def run(run_dir: Path, tasks: list[PlannedTask], **options: object):  # RunResult
    plan = {t.key: t for t in tasks}
    return run_planned(run_dir / "foldrun.toml", run_dir, plan, RunOptions(**options))


def test_what_a_request_gets() -> None:
    asked = Resources(cpus=4, gpus=1, gpus_optional=True)
    assert fitted(asked, 2, ()) == replace(asked, cpus=2, gpus=0)
    assert fitted(asked, 8, (0, 1)) == asked
    required = Resources(cpus=1, gpus=2)
    assert fitted(required, 2, ()) == required  # refused by check_resources, not shrunk
    assert fitted(replace(required, gpus_optional=True), 2, (3,)).gpus == 1


def test_a_large_gpu_optional_task_runs_alone_on_cpu_with_what_there_is(tmp_path: Path) -> None:
    tasks = [recorded(tmp_path, fold, 4, 1, True) for fold in range(3)]
    result = run(tmp_path, tasks, jobs=2, gpus=())
    assert result.exit_code == 0 and result.counts["done"] == 3
    lines = (tmp_path / "got.txt").read_text().splitlines()
    starts = [line.split() for line in lines if " end " not in line]
    assert sorted(s[0] for s in starts) == ["0", "1", "2"]
    for fields in starts:  # 2 cpus in every variable; no GPU
        assert fields[1:5] == ["2"] * 4 and fields[5:7] == ["[]", "[]"], fields
    # alone: every task ended before the next one started
    events = sorted((int(line.split()[-1]), " end " in line) for line in lines)
    assert [ended for _, ended in events] == [False, True] * 3


def test_a_gpu_optional_task_takes_a_gpu_where_there_is_one(tmp_path: Path) -> None:
    result = run(tmp_path, [recorded(tmp_path, 0, 1, 1, True)], jobs=2, gpus=(3,))
    assert result.exit_code == 0
    fields = (tmp_path / "got.txt").read_text().splitlines()[0].split()
    assert fields[1] == "1" and fields[5:7] == ["[3]", "[3]"]


def test_a_gpu_task_without_gpus_optional_is_refused_on_a_gpu_less_machine(
    tmp_path: Path,
) -> None:
    with pytest.raises(PlanError, match="gpus_optional = true") as caught:
        run(tmp_path, [recorded(tmp_path, 0, 1, 1, False)], jobs=2, gpus=())
    assert caught.value.key == "models.big.resources.gpus"
    assert not (tmp_path / "got.txt").exists() and not (tmp_path / "tasks").exists()


def test_gpus_optional_merges_by_level_and_must_be_a_boolean() -> None:
    levels = [ResourcesSpec(gpus=1, gpus_optional=True), ResourcesSpec(cpus=4)]
    assert merge_resources(*levels) == Resources(cpus=4, gpus=1, gpus_optional=True)
    assert not merge_resources(*levels, ResourcesSpec(gpus_optional=False)).gpus_optional
    with pytest.raises(ValueError, match="valid boolean"):
        ResourcesSpec.model_validate({"gpus_optional": "yes"})


SEED_003_LIKE = "resources = { cpus = 4, gpus = 1, gpus_optional = true, mem = '64G' }\n"


def test_a_cluster_spec_runs_unchanged_with_jobs_2(tmp_path: Path) -> None:
    spec = toy_project(tmp_path, folds=2, grid=1)
    text = spec.read_text()
    runner = CliRunner()
    spec.write_text(text + SEED_003_LIKE.replace(", gpus_optional = true", ""))
    refused = runner.invoke(cli, ["run", str(spec), "--jobs", "2", "--gpus", "", "--dry-run"])
    error = refused.exception  # `foldrun` (cli.main) prints its one line and exits 2
    assert isinstance(error, PlanError) and error.exit_code == 2, refused.output
    assert "gpus_optional = true" in error.one_line() and "\n" not in error.one_line()
    assert not (tmp_path / "runs").exists()  # nothing written
    spec.write_text(text + SEED_003_LIKE)  # under [models.toy]
    dry = runner.invoke(cli, ["run", str(spec), "--jobs", "2", "--gpus", "", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "toy/train: 2 task(s) get cpus=2 (asked 4: each runs alone) gpus=none (asked 1, " \
        "gpus_optional: on CPU)" in dry.stderr
    assert "task(s) get" not in dry.stdout  # stdout: the task keys, a line each
    spec.write_text(text)  # one CPU, no GPU: nothing to tell, stderr stays quiet
    quiet = runner.invoke(cli, ["run", str(spec), "--jobs", "2", "--gpus", "", "--dry-run"])
    assert quiet.exit_code == 0 and quiet.stderr == "" and "task(s) get" not in quiet.output
    spec.write_text(text + SEED_003_LIKE)
    done = runner.invoke(cli, ["run", str(spec), "--jobs", "2"])  # the GPUs found here
    assert done.exit_code == 0, done.output
    assert "6 task(s) run" in done.output  # train, predict, evaluate x 2
