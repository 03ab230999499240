"""`foldrun report` killed while its forked workers draw (issue 22 item 7): SIGTERM and
SIGHUP end the workers and remove the temporary report folder; SIGKILL, which no handler
sees, still ends the workers (Linux's parent-death signal). Before, the workers lived on
forever with parent 1, blocked on a pipe, and `.report.tmp-*` stayed in the run folder.
These need the process itself: the console script, killed from here."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.fixtures.synthetic_run import RunShape, write_run

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="fork and prctl: Linux")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough rows and models that the report still draws a few seconds after its
    workers started, on a loaded 2-core machine."""
    from foldrun.report import build_report, figure_cache

    shape = RunShape(models={f"m{i}": 0.3 + 0.1 * i for i in range(4)}, grid={},
                     n_samples=4_000, holdout=0, refit=False, curves=0)  # fmt: skip
    run = write_run(tmp_path_factory.mktemp("signals") / "run", shape)
    build_report(run)  # the result tables made once; the figures drawn again each time
    shutil.rmtree(run / "report")
    shutil.rmtree(run / "results" / figure_cache.CACHE)
    return run


def _hup_default() -> None:
    """SIGHUP as a terminal gives it: a suite started under `nohup` passes SIG_IGN on, which
    the report keeps on purpose (nohup's choice), so the SIGHUP case ran to exit 0."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def _started(run: Path) -> tuple[subprocess.Popen[str], list[psutil.Process]]:
    """The report, once its temporary folder and its forked workers exist."""
    foldrun = str(Path(sys.executable).parent / "foldrun")
    proc = subprocess.Popen([foldrun, "report", str(run)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=_hup_default)  # fmt: skip
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        workers = psutil.Process(proc.pid).children()
        if workers and list(run.glob(".report.tmp-*")):
            return proc, workers
        time.sleep(0.02)
    proc.kill()
    pytest.skip("the report ended before its workers could be caught (machine too fast)")


def _gone(workers: list[psutil.Process], timeout: float = 30) -> bool:
    _, alive = psutil.wait_procs(workers, timeout=timeout)
    return not alive


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_end_the_workers_and_leave_no_temp_folder(
    template: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    run = Path(shutil.copytree(template, tmp_path / "run"))
    proc, workers = _started(run)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err
    assert err == f"foldrun: interrupted by {sig.name}: no report written; run it again\n"
    assert _gone(workers)
    assert not list(run.glob(".report.tmp-*")) and not (run / "report").exists()


def test_sigkill_still_ends_the_workers(template: Path, tmp_path: Path) -> None:
    run = Path(shutil.copytree(template, tmp_path / "run"))
    proc, workers = _started(run)
    proc.kill()
    proc.wait(timeout=60)
    assert _gone(workers), [w.pid for w in workers if w.is_running()]
    # no handler ran: its temporary folder is there until the next report clears it
    assert list(run.glob(".report.tmp-*"))
    from foldrun.report import build_report

    build_report(run)
    assert not list(run.glob(".report.tmp-*")) and (run / "report/index.html").is_file()
