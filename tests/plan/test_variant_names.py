"""A variant name is a folder name: never empty, `.`, `..`, hidden, nor one that leaves
tasks/<model>/ (`grid = { "." = ["."] }` used to make the variant `..`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from foldrun.plan.variants import chain, expand
from tests.reliability.helpers import foldrun, project

HOSTILE = [
    {".": ["."]},
    {".": [".", ".."]},
    {"a": ["..", ".x", "a..b", "../../etc"]},
    {"k": ["", "/", "/..", "."]},
    {"..": [1, 2]},
]


@pytest.mark.parametrize("grid", HOSTILE, ids=[str(g) for g in HOSTILE])
def test_names_stay_in_their_folder(grid: dict) -> None:
    names = [v.name for v in expand(grid)]
    names += [v.name for v in chain(expand({"k": [1]})[0], grid)]
    assert len(set(names)) == len(names)
    for name in names:
        for part in name.split("+"):
            assert part and not part.startswith(".") and ".." not in part, name
        assert "/" not in name and name == Path(name).name, name


def test_hash_names_are_stable() -> None:
    assert expand({".": ["."]}) == expand({".": ["."]})
    assert expand({".": ["."]})[0].name.startswith("v")


def test_run_with_dot_grid_writes_only_under_its_model(tmp_path: Path) -> None:
    spec = project(tmp_path, folds=2, grid=1)
    spec.write_text(spec.read_text().replace("grid = { k = [0] }", 'grid = { "." = ["."] }'))
    done = foldrun("run", spec.name, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    tasks = tmp_path / "runs/toy/tasks"
    assert sorted(p.name for p in tasks.iterdir()) == ["toy"]
    (variant,) = [p.name for p in (tasks / "toy").iterdir() if not p.name.startswith(".")]
    assert variant == expand({".": ["."]})[0].name
    assert len(list((tasks / "toy" / variant).glob("fold_*/evaluate/DONE"))) == 2
    assert not (tmp_path / "runs/toy/fold_00").exists()  # `..` would have put it there
