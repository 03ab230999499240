"""Never lose a byte: report, query and split replace or remove only a folder foldrun can
prove it made (foldrun.core.owned), write only into a run folder, wait for a running run's
lock, follow the umask, say a read-only or full disk in one line, and write CSV cells a
spreadsheet cannot run as formulas. Everything through the console script's main()
(in-process), the umask through the real script."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.reliability.helpers import FOLDRUN, invoke, project, table, tree
from tests.reliability.test_faults import _tmpfs

RUN = Path("runs/toy")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose run is done and reported."""
    root = tmp_path_factory.mktemp("made")
    spec = project(root, folds=2, grid=1)
    assert invoke("run", spec.name, cwd=root).returncode == 0
    assert invoke("report", spec.name, cwd=root).returncode == 0
    return root


@pytest.fixture
def proj(made: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(made, tmp_path / "p", symlinks=True))


def _refused(root: Path, *argv: str, cwd: Path | None = None) -> str:
    """Exit 2, one line on stderr, no traceback, nothing below `root` changed."""
    before = tree(root)
    done = invoke(*argv, cwd=cwd or root)
    assert done.returncode == 2, (done.returncode, done.stdout[-2000:], done.stderr[-3000:])
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert tree(root) == before, "a refused command changed files"
    return lines[0]


# 1. report --out: only a report folder foldrun made


def test_report_out_a_user_folder_keeps_it(proj: Path) -> None:
    (proj / "mydocs").mkdir()
    (proj / "mydocs/thesis.tex").write_text("chapter 1")
    line = _refused(proj, "report", "foldrun.toml", "--out", "mydocs")
    assert "thesis.tex" in line and "mydocs" in line
    assert (proj / "mydocs/thesis.tex").read_text() == "chapter 1"


def test_report_out_the_run_folder_keeps_the_run(proj: Path) -> None:
    line = _refused(proj, "report", "foldrun.toml", "--out", str(RUN))
    assert "run folder" in line
    assert (proj / RUN / "tasks").is_dir()


@pytest.mark.parametrize("out", [".", "runs"])
def test_report_out_the_current_folder_or_a_parent_of_the_run(proj: Path, out: str) -> None:
    line = _refused(proj, "report", "foldrun.toml", "--out", out)
    assert "current folder" in line or "holding the run folder" in line, line


def test_report_replaces_only_its_own_report_folder(proj: Path) -> None:
    report = proj / RUN / "report"
    (report / ".foldrun-report").unlink(missing_ok=True)  # as an older foldrun left it
    assert invoke("report", "foldrun.toml", cwd=proj).returncode == 0
    assert (report / ".foldrun-report").is_file() and (report / "index.html").is_file()
    assert invoke("report", "foldrun.toml", cwd=proj).returncode == 0  # its own: replaced
    (report / "notes.txt").write_text("mine")
    line = _refused(proj, "report", "foldrun.toml")
    assert "notes.txt" in line
    assert invoke("report", "foldrun.toml", "--out", "elsewhere", cwd=proj).returncode == 0
    assert (proj / "elsewhere/index.html").is_file()
    assert not [p for p in (proj / RUN).iterdir() if ".tmp-" in p.name or ".old-" in p.name]


# 2. report / query DIR: DIR must be a run folder


@pytest.mark.parametrize("command", [["report"], ["query", "SELECT 1"]])
def test_report_and_query_refuse_a_folder_that_is_not_a_run(proj: Path, command: list) -> None:
    docs = proj / "mydocs"
    (docs / "report").mkdir(parents=True)
    (docs / "report/draft.md").write_text("draft")
    line = _refused(proj, command[0], "mydocs", *command[1:])
    assert "not a foldrun run folder" in line
    assert (docs / "report/draft.md").read_text() == "draft"


# 3. split --overwrite: only a split folder


def _split(root: Path, out: str, *extra: str) -> subprocess.CompletedProcess[str]:
    if not (root / "t.csv").exists():
        table(40).to_csv(root / "t.csv", index=False)
    return invoke("split", "t.csv", "--out", out, "--folds", "4", *extra, cwd=root)


def test_split_overwrite_refuses_a_folder_that_is_not_a_split(tmp_path: Path) -> None:
    (tmp_path / "mydocs").mkdir()
    (tmp_path / "mydocs/thesis.tex").write_text("chapter 1")
    table(40).to_csv(tmp_path / "t.csv", index=False)
    line = _refused(tmp_path, "split", "t.csv", "--out", "mydocs", "--overwrite")
    assert "thesis.tex" in line
    assert _split(tmp_path, "s").returncode == 0
    (tmp_path / "s/notes.txt").write_text("mine")  # a split with something else in it
    assert "notes.txt" in _refused(
        tmp_path, "split", "t.csv", "--out", "s", "--overwrite", "--seed", "1"
    )


def test_split_overwrite_replaces_its_own_split(tmp_path: Path) -> None:
    assert _split(tmp_path, "s").returncode == 0
    first = (tmp_path / "s/assignments.csv").read_text()
    assert _split(tmp_path, "s", "--seed", "1").returncode == 2  # different: needs --overwrite
    done = _split(tmp_path, "s", "--seed", "1", "--overwrite")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "s/assignments.csv").read_text() != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s", "t.csv"]


# 4. split into a run's split/ takes the run's lock


def test_split_into_a_running_run_is_refused(proj: Path) -> None:
    lock = proj / RUN / ".foldrun/lock"
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "started": "now"}
    lock.write_text(json.dumps(owner))  # this test process is the live runner
    line = _refused(
        proj, "split", "samples.csv", "--out", str(RUN / "split"), "--overwrite", "--folds", "3"
    )
    assert "lock" in line
    lock.unlink()
    done = invoke(
        "split", "samples.csv", "--out", str(RUN / "split"), "--overwrite", "--folds", "3", cwd=proj
    )
    assert done.returncode == 0, done.stderr
    assert not lock.exists()  # taken and given back
    assert json.loads((proj / RUN / "split/details.json").read_text())["n_folds"] == 3


# 5. the report folder follows the umask


def test_report_folder_follows_the_umask(proj: Path) -> None:
    done = subprocess.run(
        ["sh", "-c", f'umask 027 && "{FOLDRUN}" report foldrun.toml'],
        cwd=proj,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert (proj / RUN / "report").stat().st_mode & 0o777 == 0o750


# 6. a read-only run folder, a full disk: one line, exit 2, nothing half-written


@contextlib.contextmanager
def _read_only(folder: Path, fill: Callable[[Path], None]) -> Iterator[None]:
    """`folder`, filled by `fill`, then made read-only (root ignores file modes: a tmpfs
    remounted read-only)."""
    if os.geteuid() != 0:
        fill(folder)
        subprocess.run(["chmod", "-R", "a-w", str(folder)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chmod", "-R", "u+w", str(folder)], check=True)
        return
    with _tmpfs(folder, "64m"):
        fill(folder)
        if subprocess.run(["mount", "-o", "remount,ro", str(folder)]).returncode != 0:
            pytest.skip("cannot remount the tmpfs read-only")
        yield


@pytest.mark.parametrize("command", [["report"], ["query", "SELECT count(*) FROM tasks"],
                                     ["run", "--force"]])  # fmt: skip
def test_read_only_run_folder_is_one_line(made: Path, tmp_path: Path, command: list) -> None:
    def fill(folder: Path) -> None:
        shutil.copytree(made, folder, dirs_exist_ok=True)
        shutil.rmtree(folder / RUN / "results")  # query has to write the tables again

    ro = tmp_path / "ro"
    with _read_only(ro, fill):
        line = _refused(ro, command[0], "foldrun.toml", *command[1:])
        assert "writable" in line and str(ro / RUN) in line, line


def _fill_up(folder: Path) -> None:
    filler = folder / "filler"
    with contextlib.suppress(OSError), open(filler, "wb") as fh:
        while True:
            fh.write(b"\0" * 4096)
            fh.flush()


def test_full_disk_report_is_one_line_and_keeps_the_old_report(made: Path, tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    with _tmpfs(disk, "8m"):
        shutil.copytree(made, disk, dirs_exist_ok=True)
        _fill_up(disk)
        report = tree(disk / RUN / "report")
        done = invoke("report", "foldrun.toml", cwd=disk)
        assert done.returncode == 2, done.stderr[-3000:]
        assert len(done.stderr.splitlines()) == 1 and "space" in done.stderr, done.stderr
        assert tree(disk / RUN / "report") == report
        assert not [p for p in (disk / RUN).rglob("*") if ".tmp-" in p.name]


def test_full_disk_split_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    with _tmpfs(disk, "2m"):
        table(400).to_csv(disk / "t.csv", index=False)
        _fill_up(disk)
        line = _refused(disk, "split", str(disk / "t.csv"), "--out", "out/s", cwd=disk)
        assert "space" in line and "out" in line


# 7. CSV cells a spreadsheet would run as formulas


def test_report_csv_cells_cannot_be_formulas(proj: Path) -> None:
    metrics = proj / RUN / "tasks/toy/k0/fold_00/evaluate/metrics.json"
    values = json.loads(metrics.read_text())
    evil = {'=HYPERLINK("http://x")': 1.0, "+cmd": 2.0, "@SUM(A1)": 3.0, "-2+3": -0.5}
    metrics.write_text(json.dumps({**values, **evil}))
    done = invoke("report", "foldrun.toml", cwd=proj)
    assert done.returncode == 0, done.stderr
    with open(proj / RUN / "report/fold_summary.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    cells = [cell for row in rows for cell in row]
    for name in evil:
        assert "'" + name in rows[0]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    column = rows[0].index("'-2+3")
    assert "-0.5" in [row[column] for row in rows[1:]]  # numbers stay numbers
