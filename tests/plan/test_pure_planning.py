"""Planning only looks: check, status, report --out elsewhere and run --dry-run leave a run
folder byte for byte as it was, and create none when there is none yet."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.reliability.helpers import invoke, project


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder below root: sha256 of files, mode of folders."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[rel] = oct(path.stat().st_mode)
    return found


LOOKING = [
    ("check", "foldrun.toml"),
    ("status", "foldrun.toml"),
    ("run", "--dry-run", "foldrun.toml"),
    ("run", "--dry-run", "--force", "foldrun.toml"),
]


@pytest.mark.parametrize("argv", LOOKING, ids=[" ".join(a) for a in LOOKING])
def test_looking_creates_no_run_folder(tmp_path: Path, argv: tuple[str, ...]) -> None:
    project(tmp_path, folds=2, grid=1)
    before = snapshot(tmp_path)
    done = invoke(*argv, cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "runs").exists()


def test_looking_leaves_a_run_folder_byte_for_byte(tmp_path: Path) -> None:
    project(tmp_path, folds=2, grid=1)
    assert invoke("run", "foldrun.toml", "--models", "toy", "--folds", "0",
                  cwd=tmp_path).returncode == 0
    assert invoke("report", "foldrun.toml", cwd=tmp_path).returncode == 0
    before = snapshot(tmp_path)
    for argv in LOOKING:
        done = invoke(*argv, cwd=tmp_path)
        assert done.returncode in (0, 1), (argv, done.stderr)
        assert snapshot(tmp_path) == before, argv


def test_dry_run_lists_the_tasks_a_run_then_runs(tmp_path: Path) -> None:
    project(tmp_path, folds=2, grid=1)
    dry = invoke("run", "--dry-run", "foldrun.toml", cwd=tmp_path)
    planned = [line for line in dry.stdout.splitlines() if line.startswith("toy/")]
    assert len(planned) == 6, dry.stdout
    done = invoke("run", "foldrun.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "6 task(s) run" in done.stdout
    again = invoke("run", "--dry-run", "foldrun.toml", cwd=tmp_path)
    assert "would run 0 task(s); 6 already done" in again.stdout
