"""`Project.run` (the Python API) given what a researcher types in a notebook: one value
where a list is expected, a bad --jobs/--retries/--gpus/--backend. A bad value is one
FoldrunError before anything is written, as the CLI refuses it; one value is a list of it."""

from __future__ import annotations

from pathlib import Path

import pytest

import foldrun.api as fr
from foldrun.errors import FoldrunError
from tests.reliability.helpers import project


@pytest.mark.parametrize(
    "bad",
    [
        {"jobs": 0},
        {"retries": -1},
        {"backend": "bogus"},
        {"jobs": "2"},
        {"jobs": 2.5},
        {"retries": "1"},
        {"gpus": [-1]},
        {"gpus": [0, 0]},
        {"gpus": "abc"},
        {"folds": ["0"]},  # issue 22 item 9: a TypeError traceback
        {"folds": [-1]},
        {"folds": [True]},
        {"folds": [0.0]},
    ],
)
def test_a_bad_option_is_refused_before_anything_is_written(tmp_path: Path, bad: dict) -> None:
    """jobs=0, retries=-1 and an unknown backend were refused only after the split and
    .foldrun/ had been written; jobs="2" was a TypeError; jobs=2.5 and gpus=[-1] ran."""
    spec = project(tmp_path, folds=2, grid=1)
    with pytest.raises(FoldrunError) as caught:
        fr.Project.load(spec).run(**bad)
    assert "\n" not in caught.value.one_line()
    assert not (tmp_path / "runs").exists()


def test_one_value_where_a_list_is_expected_is_that_value(tmp_path: Path) -> None:
    """folds=0 ran every fold (0 is falsy, so no fold was chosen); models="toy" was the
    models "t", "o", "y"; folds=1 was a TypeError."""
    spec = project(tmp_path, folds=2, grid=1)
    proj = fr.Project.load(spec)
    all_keys = {t.key for t in proj.status().tasks}
    fold0 = proj.run(folds=0, stages="train", models="toy", dry_run=True)
    assert fold0.ran and set(fold0.ran) < all_keys
    assert all("/fold_00/train" in key for key in fold0.ran), fold0.ran
    fold1 = proj.run(folds=1, stages="train", dry_run=True)
    assert all("/fold_01/train" in key for key in fold1.ran), fold1.ran
    assert proj.run(gpus="", dry_run=True).ran  # as --gpus "": none
    assert not (tmp_path / "runs").exists()


def test_a_slurm_dry_run_in_json_prints_only_the_json(tmp_path: Path) -> None:
    """The sbatch commands a SLURM dry run shows came on stdout before the JSON object,
    so `--format json` output did not parse."""
    import json

    from tests.reliability.helpers import foldrun

    spec = project(tmp_path, folds=2, grid=1)
    done = foldrun("run", str(spec), "--backend", "slurm", "--dry-run", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["dry_run"] is True
    assert "sbatch" in done.stderr  # still shown, beside the JSON
