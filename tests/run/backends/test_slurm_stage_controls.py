"""[slurm] settings by stage (issue 25): each array gets its stage's throttle, partition,
account, QOS, constraint and extra lines; the dry run shows each array's `%N`; a real
SLURM (scripts/start-local-slurm.sh) holds the throttles."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from foldrun.errors import SpecError
from foldrun.run.backends.slurm import SlurmBackend, load_jobs
from foldrun.spec.slurm import slurm_spec_from_table

from .conftest import FakeSlurm, cv_tasks
from .test_slurm_backend import context

STAGED = """max_concurrent = { train = 15, evaluate = 20 }
qos = { train = "gpu-long" }
accounts = { refit = "lab-cpu" }
account = "lab"
constraints = { train = "a100" }
extra = { evaluate = ["--nice=10"] }
"""


def directives(script: str) -> list[str]:
    return [line.removeprefix("#SBATCH ") for line in script.splitlines() if "#SBATCH" in line]


def scripts_by_stage(run_dir: Path) -> dict[str, list[str]]:
    return {job.stage: directives(Path(job.script).read_text()) for job in load_jobs(run_dir)}


def test_each_array_gets_its_stage_settings(fake_slurm: FakeSlurm, tmp_path: Path) -> None:
    ctx = context(tmp_path, STAGED, wait=False)
    SlurmBackend().execute(cv_tasks(ctx.run_dir, folds=3), ctx)
    found = scripts_by_stage(ctx.run_dir)
    assert "--array=0-2%15" in found["train"] and "--array=0-2%20" in found["evaluate"]
    assert "--array=0-2" in found["predict"] and "--array=0-0" in found["refit"]  # no throttle
    assert "--qos=gpu-long" in found["train"] and not any("--qos" in d for d in found["predict"])
    assert "--constraint=a100" in found["train"]
    assert "--account=lab-cpu" in found["refit"] and "--account=lab" in found["train"]
    assert found["evaluate"][-1] == "--nice=10" and "--nice=10" not in found["train"]


def test_the_number_form_throttles_every_array_as_before(
    fake_slurm: FakeSlurm, tmp_path: Path
) -> None:
    ctx = context(tmp_path, 'max_concurrent = 2\nqos = "normal"\nextra = ["--nice=5"]', wait=False)
    SlurmBackend().execute(cv_tasks(ctx.run_dir, folds=3), ctx)
    for stage, found in scripts_by_stage(ctx.run_dir).items():
        last = 0 if stage == "refit" else 2
        assert f"--array=0-{last}%2" in found, stage
        assert "--qos=normal" in found and found[-1] == "--nice=5"


def test_the_dry_run_shows_each_arrays_throttle_and_resources(
    fake_slurm: FakeSlurm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = context(tmp_path, STAGED, dry_run=True)
    SlurmBackend().execute(cv_tasks(ctx.run_dir, folds=3), ctx)
    printed = capsys.readouterr().out.splitlines()
    assert fake_slurm.calls("sbatch") == []
    shown = {line.split("# ", 1)[1].split(":")[0]: line for line in printed}
    assert "# train: 3 task(s) --array=0-2%15 " in shown["train"]
    assert "# evaluate: 3 task(s) --array=0-2%20 " in shown["evaluate"]
    assert re.search(r"--array=0-2 .*--cpus-per-task=1$", shown["predict"])
    assert "--mem=4096M" in shown["train"] and "--time=01:00:00" in shown["train"]
    # still a shell script that submits them: the summaries are comments
    assert all(line.startswith(f"JOB_{n}=$(sbatch ") for n, line in enumerate(printed))


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ({"max_concurrent": {"trian": 3}}, "slurm.max_concurrent", ["'trian'", "train, predict"]),
        ({"max_concurrent": {"train": 0}}, "slurm.max_concurrent", ["greater than or equal to 1"]),
        ({"max_concurrent": "many"}, "slurm.max_concurrent", ["a number, or a table by stage"]),
        ({"qos": {"train": 3}}, "slurm.qos", ["text, or a table by stage"]),
        ({"accounts": {"fit": "x"}}, "slurm.accounts", ["'fit'"]),
        ({"extra": {"train": ["nice=3"]}}, "slurm.extra", ["'nice=3' is not an sbatch option"]),
        ({"constraints": {"evaluat": "x"}}, "slurm.constraints", ["'evaluat'"]),
    ],
)
def test_bad_stage_tables_are_one_line(
    table: dict[str, object], key: str, words: list[str]
) -> None:
    with pytest.raises(SpecError) as caught:
        slurm_spec_from_table(table, file="f.toml")
    line = caught.value.one_line()
    assert caught.value.key == key and "\n" not in line
    assert all(word in line for word in words), line


# ---------------------------------------------------------------- a real SLURM


def scontrol_field(job: str, name: str) -> str:
    shown = subprocess.run(
        ["scontrol", "show", "job", job], capture_output=True, text=True, timeout=10
    ).stdout
    match = re.search(rf"\b{name}=(\S+)", shown)
    return match.group(1) if match else ""


@pytest.mark.slurm
@pytest.mark.slow
def test_a_real_cluster_holds_each_stages_throttle(cluster: None, tmp_path: Path) -> None:
    ctx = context(tmp_path, "max_concurrent = { train = 1, predict = 2 }", wait=False)
    tasks = [t for t in cv_tasks(ctx.run_dir, folds=3) if t.stage in ("train", "predict")]
    SlurmBackend().execute(tasks, ctx)
    jobs = {job.stage: job.job_id for job in load_jobs(ctx.run_dir)}
    try:
        assert scontrol_field(jobs["train"], "ArrayTaskThrottle") == "1"
        assert scontrol_field(jobs["predict"], "ArrayTaskThrottle") == "2"
    finally:
        subprocess.run(["scancel", *jobs.values()], timeout=10, check=False)
