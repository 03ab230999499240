from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from foldrun.errors import FoldrunError, SpecError
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


FOLD_TABLE_SPEC = """name = "ft"
[data]
table = "data.csv"
id = "id"
target = "label"
[split]
fold_column = "folds.csv"
{extra}
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
"""


def _fold_table_project(root: Path, extra: str = "") -> Path:
    """150 ids written `000`..`149`; the fold table keys them as numbers (`7`), so only
    `100`..`149` match and 100 rows are in no fold (issue 22)."""
    import pandas as pd

    ids = [f"{i:03d}" for i in range(150)]
    pd.DataFrame({"id": ids, "x": range(150), "label": [i % 2 for i in range(150)]}).to_csv(
        root / "data.csv", index=False
    )
    rows = [(i, f, "test" if i % 2 == f else "train") for i in range(150) for f in (0, 1)]
    pd.DataFrame(rows, columns=["id", "fold", "subset"]).to_csv(root / "folds.csv", index=False)
    spec = root / "foldrun.toml"
    spec.write_text(FOLD_TABLE_SPEC.format(extra=extra))
    return spec


@pytest.mark.parametrize("command", ["check", "run"])
def test_fold_table_that_leaves_rows_in_no_fold_is_refused(tmp_path: Path, command: str) -> None:
    from click.testing import CliRunner

    from foldrun.cli import cli

    spec = _fold_table_project(tmp_path)
    result = CliRunner().invoke(cli, [command, str(spec)])
    if isinstance(result.exception, FoldrunError):  # `foldrun run`: main prints it, exit 2
        assert result.exception.exit_code == 2
        lines = [result.exception.one_line()]
    else:
        assert result.exit_code == 2, result.output
        lines = [line for line in result.output.splitlines() if "fold table" in line]
    assert len(lines) == 1, result.output
    line = lines[0]
    assert "50 of the 150 keys of fold table folds.csv match a 'id' value" in line
    assert "(not: '0', '1', '2')" in line
    assert "100 row(s) of the data table are in no fold (e.g. '000', '001', '002')" in line
    assert 'unlisted = "sit out"' in line
    assert not (tmp_path / "runs").exists()  # nothing written


def test_unlisted_rows_sit_out_when_the_spec_says_so(tmp_path: Path) -> None:
    spec = _fold_table_project(tmp_path, 'unlisted = "sit out"')
    assert problem_lines_of(spec) == []
    plan = build_plan(load_spec(spec))
    assert {t.fold for t in plan.tasks.values()} == {-1, 0, 1}


def problem_lines_of(spec: Path) -> list[str]:
    return [p.line() for p in check_spec(spec)]


def test_unlisted_takes_error_or_sit_out_only(tmp_path: Path) -> None:
    spec = _fold_table_project(tmp_path, 'unlisted = "skip"')
    lines = problem_lines_of(spec)
    assert len(lines) == 1 and "split.unlisted" in lines[0] and "sit out" in lines[0]


def test_a_filter_may_drop_rows_the_fold_table_lists(tmp_path: Path) -> None:
    """Keys of rows a `filter` dropped are expected; a row the table leaves in no fold is
    still refused."""
    import pandas as pd

    spec = _fold_table_project(tmp_path)
    rows = [(f"{i:03d}", f, "test" if i % 2 == f else "train") for i in range(150)
            for f in (0, 1)]  # fmt: skip
    pd.DataFrame(rows, columns=["id", "fold", "subset"]).to_csv(tmp_path / "folds.csv",
                                                                index=False)  # fmt: skip
    spec.write_text(spec.read_text().replace('id = "id"', 'id = "id"\nfilter = "x < 100"'))
    assert problem_lines_of(spec) == []
    listed = pd.DataFrame(rows[:180], columns=["id", "fold", "subset"])  # rows 90..99 unlisted
    listed.to_csv(tmp_path / "folds.csv", index=False)
    lines = problem_lines_of(spec)
    assert len(lines) == 1 and "10 row(s) of the data table are in no fold" in lines[0]
