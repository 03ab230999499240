from __future__ import annotations

import subprocess
from pathlib import Path

from click.testing import CliRunner

from foldrun.cli import cli
from tests.reliability.helpers import invoke  # in-process: each process took 1-2 s


def test_report_cli_with_spec(run_dir: Path, tmp_path: Path) -> None:
    spec = tmp_path / "foldrun.toml"
    spec.write_text(f'name = "x"\noutput = "{run_dir}"\n[report]\nprimary_metric = "accuracy"\n')
    result = CliRunner().invoke(cli, ["report", str(spec)])
    # no [data]: the spec does not load, so the disk is not reported as if it were its run
    assert "required key is missing" in str(result.exception), result.output
    assert not (run_dir / "report").exists()
    result = CliRunner().invoke(cli, ["report", str(run_dir)])  # the run folder as it is
    assert result.exit_code == 0, result.output
    assert f"report: {run_dir / 'report' / 'index.html'}" in result.output
    assert "primary metric: roc_auc" in result.output
    assert "partial run:" in result.output
    assert "1. rf/" in result.output


def test_report_console_script(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    done = subprocess.run(["foldrun", "report", str(run_dir), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (out / "index.html").is_file() and (out / "cv_summary.json").is_file()


def test_report_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    done = invoke("report", str(tmp_path / "nope.toml"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no such spec file or run folder" in done.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [")
    done = invoke("report", str(bad))
    assert done.returncode == 2 and "not valid TOML" in done.stderr
