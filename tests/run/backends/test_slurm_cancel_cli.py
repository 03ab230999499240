"""`foldrun cancel SPEC`, through click and through the real console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from foldrun.cli import cli
from foldrun.errors import SpecError
from foldrun.run.backends.slurm import save_jobs, slurm_run_id
from foldrun.run.backends.slurm.jobs import Submission

from .conftest import FakeSlurm

FOLDRUN = str(Path(sys.executable).parent / "foldrun")


def submitted_run(tmp_path: Path, fake: FakeSlurm) -> Path:
    spec = tmp_path / "my spec.toml"
    spec.write_text('name = "demo"\n')
    run_dir = (tmp_path / "runs" / "demo").resolve()
    save_jobs(
        run_dir,
        slurm_run_id(run_dir),
        [Submission("41", "train", ("m/v/fold_00/train", "m/v/fold_01/train"))],
    )
    name = f"foldrun-{slurm_run_id(run_dir)}-train"
    fake.answer("squeue", f"41_[0-1]|PENDING|Priority|{name}\n")
    return spec


def test_cancel_through_click(fake_slurm: FakeSlurm, tmp_path: Path) -> None:
    spec = submitted_run(tmp_path, fake_slurm)
    result = CliRunner().invoke(cli, ["cancel", str(spec)])
    assert result.exit_code == 0, result.output
    assert "cancelled 2 queued or running task(s)" in result.output
    assert fake_slurm.calls("scancel") == ["41_0 41_1"]
    assert (
        f"--name=foldrun-{slurm_run_id(tmp_path / 'runs' / 'demo')}-train,"
        in fake_slurm.calls("squeue")[0]
    )


def test_cancel_console_script_with_nothing_queued(fake_slurm: FakeSlurm, tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text('name = "empty"\n')
    done = subprocess.run([FOLDRUN, "cancel", str(spec)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "nothing queued or running" in done.stdout
    assert fake_slurm.calls("scancel") == []


def test_cancel_console_script_reports_scheduler_errors(
    fake_slurm: FakeSlurm, tmp_path: Path
) -> None:
    spec = submitted_run(tmp_path, fake_slurm)
    fake_slurm.fail("squeue", "slurm_load_jobs error: Unable to contact slurm controller\n")
    done = subprocess.run([FOLDRUN, "cancel", str(spec)], capture_output=True, text=True)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("foldrun: error: squeue -h -t all --name=")
    assert "exited with code 1: slurm_load_jobs error: Unable to contact" in lines[0]


def test_cancel_bad_spec_is_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text("name = [\n")
    result = CliRunner().invoke(cli, ["cancel", str(spec)])
    assert isinstance(result.exception, SpecError)
    assert "not valid TOML" in result.exception.one_line()
