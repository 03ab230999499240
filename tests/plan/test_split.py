from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from foldrun.errors import SpecError
from foldrun.plan import build_plan, ensure_split, scan_split
from foldrun.plan.check import check_spec
from foldrun.spec import load_spec
from tests.spec.helpers import BASE, write_spec, write_split, write_table

OWN_SPLIT = BASE.replace('from = "split"', "folds = 3\nseed = 1")
MODEL = '[models.m]\nentry = "os:getcwd"\n'


def own_split_spec(tmp_path: Path) -> Path:
    """A spec without `from` whose run folder already holds a split (as if made before)."""
    rows = write_table(tmp_path / "samples.csv")
    write_split(tmp_path / "runs" / "demo" / "split", rows)
    return write_spec(tmp_path, MODEL, head=OWN_SPLIT)


def test_scan_split_finds_folds_repeats_and_holdout(tmp_path: Path) -> None:
    rows = write_table(tmp_path / "t.csv")
    files = scan_split(write_split(tmp_path / "s", rows, folds=2, repeats=2, holdout=3))
    assert files.n_repeats == 2
    assert [(f.repeat, f.fold) for f in files.folds] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert files.holdout == tmp_path / "s" / "holdout.csv"
    assert files.folds[0].manifests["val"] is None  # header only: no val set


def test_missing_val_manifest_is_none(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, MODEL)
    (tmp_path / "split" / "fold_00" / "val.csv").unlink()
    task = build_plan(load_spec(spec), write=True).tasks["m/default/fold_00/train"]
    assert task.recipe.inputs["val"] is None


def test_from_missing_or_empty(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, MODEL)
    shutil.rmtree(tmp_path / "split")
    with pytest.raises(SpecError, match="split folder not found") as err:
        ensure_split(load_spec(spec))
    assert err.value.key == "split.from"
    (tmp_path / "split").mkdir()
    with pytest.raises(SpecError, match="no fold folders"):
        ensure_split(load_spec(spec))
    with pytest.raises(SpecError, match="no fold folders"):
        build_plan(load_spec(spec), write=True)


def test_existing_run_split_is_adopted_then_guarded(tmp_path: Path) -> None:
    spec_path = own_split_spec(tmp_path)
    ensure_split(load_spec(spec_path))  # adopts the folder as it is
    ensure_split(load_spec(spec_path))  # and reuses it
    assert build_plan(load_spec(spec_path), write=True).count(stage="train") == 3
    spec_path.write_text(spec_path.read_text().replace("seed = 1", "seed = 2"))
    with pytest.raises(SpecError, match="the \\[split\\] options changed since"):
        ensure_split(load_spec(spec_path))
    lines = [p.line() for p in check_spec(spec_path)]
    assert any("split: the [split] options changed since" in line for line in lines)


def test_table_content_change_is_refused_but_mtime_alone_is_not(tmp_path: Path) -> None:
    spec_path = own_split_spec(tmp_path)
    ensure_split(load_spec(spec_path))
    table = tmp_path / "samples.csv"
    os.utime(table, (5, 5))
    ensure_split(load_spec(spec_path))
    table.write_text(table.read_text() + "s999,p999,1.0,2,1\n")
    with pytest.raises(SpecError, match="the data table changed since"):
        ensure_split(load_spec(spec_path))


def test_data_settings_change_is_refused(tmp_path: Path) -> None:
    spec_path = own_split_spec(tmp_path)
    ensure_split(load_spec(spec_path))
    spec_path.write_text(spec_path.read_text().replace('group = "patient"\n', ""))
    with pytest.raises(SpecError, match=r"\[data\] id/target/group changed since"):
        ensure_split(load_spec(spec_path))


def test_header_only_val_manifest_is_none(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, MODEL)  # the helper writes val.csv with a header only
    task = build_plan(load_spec(spec), write=True).tasks["m/default/fold_00/train"]
    assert task.recipe.inputs["val"] is None
    assert task.recipe.inputs["test"] is not None


MADE_SPLIT = BASE.replace('from = "split"', "folds = 3\nseed = 1\nholdout = 0.2")


def made_split_spec(tmp_path: Path) -> Path:
    write_table(tmp_path / "samples.csv", 60)
    return write_spec(tmp_path, MODEL, head=MADE_SPLIT)


def test_split_is_made_once_then_reused(tmp_path: Path) -> None:
    spec_path = made_split_spec(tmp_path)
    spec = load_spec(spec_path)
    assert ensure_split(spec) is not None
    details = spec.run_dir / "split" / "details.json"
    made = details.stat().st_mtime_ns
    plan = build_plan(load_spec(spec_path), write=True)
    ensure_split(load_spec(spec_path))
    assert details.stat().st_mtime_ns == made  # reused, not rewritten
    assert plan.count(stage="train") == 3
    held = plan.tasks["m/default/all/refit"].recipe.inputs["holdout"]
    assert held == str(spec.run_dir / "split" / "holdout.csv")
    spec_path.write_text(spec_path.read_text().replace("seed = 1", "seed = 3"))
    with pytest.raises(SpecError, match="changed since the run's split was made"):
        build_plan(load_spec(spec_path), write=True)


def test_build_plan_makes_the_split_when_absent_only_when_writing(tmp_path: Path) -> None:
    spec = load_spec(made_split_spec(tmp_path))
    looked = build_plan(spec)
    assert not spec.run_dir.exists()  # a plan that only looks writes nothing
    plan = build_plan(spec, write=True)
    assert (plan.run_dir / "split" / "fold_02" / "test.csv").is_file()
    assert plan.split_dir == plan.run_dir / "split"
    assert {k: t.fingerprint for k, t in looked.tasks.items()} == {
        k: t.fingerprint for k, t in plan.tasks.items()
    }


def test_check_makes_the_folds_in_memory_only(tmp_path: Path) -> None:
    spec_path = made_split_spec(tmp_path)
    assert check_spec(spec_path) == []
    spec_path.write_text(spec_path.read_text().replace("folds = 3", "folds = 40"))
    (problem,) = check_spec(spec_path)
    assert problem.key == "split" and "40 folds need at least 40 groups" in problem.message
    assert not (tmp_path / "runs").exists()
