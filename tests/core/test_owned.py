"""The one rule for replacing a folder (foldrun.core.owned): only a folder foldrun can
prove it made, never the current folder, home, /, the run folder or a folder above it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from foldrun.core.owned import Kind, check_replaceable, disk_problem, staging, strangers
from foldrun.errors import FoldrunError

KIND = Kind("test folder", ".made", (".made", "a.txt", "*.png", "fold_[0-9][0-9]*/x.csv"))
LEGACY = Kind("test folder", ".made", KIND.patterns, marker_required=False)


def _folder(root: Path, *files: str) -> Path:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root


def _listing(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in root.rglob("*") if p.is_file()}


def test_a_missing_or_empty_folder_may_be_replaced(tmp_path: Path) -> None:
    check_replaceable(tmp_path / "new", KIND)
    (tmp_path / "empty").mkdir()
    check_replaceable(tmp_path / "empty", KIND)


def test_a_folder_with_the_marker_and_only_its_files_may_be_replaced(tmp_path: Path) -> None:
    check_replaceable(_folder(tmp_path / "f", ".made", "a.txt", "p.png", "fold_03/x.csv"), KIND)


@pytest.mark.parametrize(
    "extra", ["thesis.tex", "fold_03/notes.txt", "other/x.csv", "fold_0/x.csv"]
)
def test_any_other_file_is_refused_and_named(tmp_path: Path, extra: str) -> None:
    folder = _folder(tmp_path / "f", ".made", "a.txt", extra)
    with pytest.raises(FoldrunError, match=extra.split("/")[0]):
        check_replaceable(folder, KIND)


def test_a_link_inside_is_not_ours(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "f", ".made")
    (folder / "a.txt").symlink_to(tmp_path)
    assert strangers(folder, KIND) == ["a.txt"]


def test_the_marker_is_needed_unless_an_older_foldrun_made_none(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "f", "a.txt")
    with pytest.raises(FoldrunError, match=r"\.made"):
        check_replaceable(folder, KIND)
    check_replaceable(folder, LEGACY)


def test_never_cwd_home_root_run_folder_or_a_parent(tmp_path: Path, monkeypatch) -> None:
    run = tmp_path / "runs" / "toy"
    run.mkdir(parents=True)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path / "runs")
    for target, why in [
        (Path("."), "current folder"),
        (home, "home"),
        (Path("/"), "holding"),
        (run, "run folder"),
        (tmp_path, "holding"),
        (Path(".."), "holding"),
    ]:
        with pytest.raises(FoldrunError, match=why):
            check_replaceable(target, LEGACY, keep=[run])


def test_a_file_or_a_link_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(_folder(tmp_path / "f", ".made"))
    for name in ("file", "link"):
        with pytest.raises(FoldrunError, match="not a folder"):
            check_replaceable(tmp_path / name, KIND)


def test_staging_replaces_its_own_folder_and_writes_the_marker(tmp_path: Path) -> None:
    target = _folder(tmp_path / "f", ".made", "a.txt", "old.png")
    with staging(target, KIND) as tmp:
        (tmp / "a.txt").write_text("new")
    assert _listing(target) == {"a.txt": "new", ".made": _listing(target)[".made"]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]  # no temp or old folder left


def test_staging_refuses_before_writing_and_cleans_up_on_error(tmp_path: Path) -> None:
    target = _folder(tmp_path / "f", ".made", "thesis.tex")
    with pytest.raises(FoldrunError, match=r"thesis\.tex"), staging(target, KIND):
        raise AssertionError("never reached")
    assert _listing(target) == {".made": ".made", "thesis.tex": "thesis.tex"}
    deep = tmp_path / "a" / "b" / "c"
    with pytest.raises(OSError), staging(deep, KIND) as tmp:
        (tmp / "a.txt").write_text("half")
        raise OSError("disk gone")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]  # parents it made are gone


def test_staging_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        with staging(tmp_path / "f", KIND):
            pass
    finally:
        os.umask(old)
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o750


def test_disk_problems_are_recognised() -> None:
    import errno

    assert disk_problem(OSError(errno.ENOSPC, "No space left on device")) == "full"
    assert disk_problem(OSError("Error writing bytes: No space left on device")) == "full"
    assert disk_problem(OSError(errno.EROFS, "Read-only file system")) == "read-only"
    assert disk_problem(OSError(errno.ENOENT, "No such file")) is None


def test_staging_clears_what_a_killed_foldrun_left_on_this_machine_only(tmp_path: Path) -> None:
    """Issue 22 item 7: a report killed by SIGKILL (no handler runs) left its temp folder
    beside the target forever. The next staging removes it when it is this machine's, its
    process is gone and it holds only files of the kind; nothing else."""
    import subprocess
    import sys

    from foldrun.core import owned

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    host = owned._host()
    target = tmp_path / "out"

    def tmp(host: str, pid: object, *files: str) -> Path:
        folder = tmp_path / f".out.tmp-{host}-{pid}-0123abcd"
        folder.mkdir()
        return _folder(folder, *files)

    abandoned = tmp(host, gone, "a.txt", "p.png")
    users = tmp(host, gone + "0", "a.txt", "notes.doc")  # a file foldrun never writes there
    live = tmp(host, os.getpid(), "a.txt")  # a process still filling it
    other = tmp(host + "x", gone, "a.txt")  # another machine's, on a shared disk
    with staging(target, KIND) as new:
        (new / "a.txt").write_text("x")
    assert not abandoned.exists()
    assert users.exists() and live.exists() and other.exists()
    assert (target / "a.txt").read_text() == "x"
