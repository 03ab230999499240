"""`foldrun status` on many tasks (issue 26 item 2): above 200 tasks one row per model,
variant and stage with its tasks counted by state (a rich table of 10,000 tasks was 78% of
status's 5.3 s); --tasks prints every task; --format json always lists every task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from foldrun.cli import main


def _spec(root: Path, variants: int) -> Path:
    (root / "samples.csv").write_text(
        "id,x,label\n" + "".join(f"s{i},{i % 7},{i % 2}\n" for i in range(40))
    )
    grid = ", ".join(str(1 + i / 100) for i in range(variants))
    spec = root / "foldrun.toml"
    spec.write_text(
        'name = "many"\noutput = "runs/many"\n'
        '[data]\ntable = "samples.csv"\nid = "id"\ntarget = "label"\ntask = "classification"\n'
        "[split]\nfolds = 5\nseed = 0\n"
        '[models.logreg]\nestimator = "sklearn.linear_model:LogisticRegression"\n'
        f"grid = {{ C = [{grid}] }}\n"
    )
    return spec


def _status(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as ended:
        main(["status", *args])
    return int(ended.value.code or 0), capsys.readouterr().out


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _spec(tmp_path_factory.mktemp("many"), variants=15)  # 15 x 16 = 240 tasks


def test_many_tasks_print_one_row_per_model_variant_stage(
    capsys: pytest.CaptureFixture[str], many: Path
) -> None:
    code, full = _status(capsys, str(many), "--format", "json")
    tasks = json.loads(full)["tasks"]
    assert code == 1 and len(tasks) > 200  # nothing ran: not complete
    code, out = _status(capsys, str(many))
    groups = {(t["model"], t["variant"], t["stage"]) for t in tasks}
    assert code == 1
    assert f"{len(tasks)} tasks in {len(groups)} rows" in out
    assert "fold_" not in out  # no row per fold
    assert out.count("5 pending") == 15 * 3  # train, predict, evaluate of 5 folds per variant
    assert len(out.splitlines()) < len(tasks) / 2


def test_tasks_flag_prints_every_task(capsys: pytest.CaptureFixture[str], many: Path) -> None:
    _, full = _status(capsys, str(many), "--format", "json")
    tasks = json.loads(full)["tasks"]
    _, out = _status(capsys, str(many), "--tasks")
    folds = {t["fold"] for t in tasks if t["fold"].startswith("fold_")}
    assert folds and all(fold in out for fold in folds)
    assert sum(line.count("pending") for line in out.splitlines()) >= len(tasks)


def test_few_tasks_keep_the_table_of_every_task(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = _spec(tmp_path, variants=2)
    _, out = _status(capsys, str(spec))
    assert "fold_0" in out and "rows (--tasks" not in out


@pytest.mark.parametrize("variants", [2, 15])  # every task, one row per group
def test_a_run_folder_named_with_brackets_is_printed_as_it_is(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, variants: int
) -> None:
    """The table's title, the run folder, was read as rich markup: `runs/exp[v2]` was
    printed `runs/exp`, and `runs/a[/b` (the folder `a[` holding `b`) ended status with a
    traceback."""
    spec = _spec(tmp_path, variants)
    for output in ("runs/exp[v2]", "runs/a[/b"):
        spec.write_text(spec.read_text().replace('output = "runs/many"', f'output = "{output}"')
                        .replace('output = "runs/exp[v2]"', f'output = "{output}"'))  # fmt: skip
        code, out = _status(capsys, str(spec))
        assert code == 1
        assert str(tmp_path / output) in "".join(out.split())  # the title may wrap
