"""The plan of an unchanged spec kept in .foldrun/plan/ (plan/cache.py): what it gives is
what planning gives, and anything planning read that changed (the spec, the table, the
model's code), a damaged cache file, or a task folder changed after it was kept, is seen."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import foldrun as fr
from foldrun.errors import FoldrunError
from foldrun.plan import build_plan, cache
from foldrun.run import runner
from foldrun.spec import load_spec
from tests.reliability.helpers import invoke, main_in_process

QUERY = "SELECT model, variant, fold, stage, state FROM tasks ORDER BY ALL"
METRICS = ("SELECT fold, metric, value FROM metrics WHERE stage = 'evaluate' AND fold >= 0 "
           "ORDER BY ALL")


def _age(root: Path) -> None:
    """Every file and folder 10 s old: a cache is kept only when its inputs are not recent
    (files written within the clock's step could change unseen)."""
    old = time.time() - 10
    for path in [root, *root.rglob("*")]:
        os.utime(path, (old, old), follow_symlinks=False)


@pytest.fixture
def spec(toy_run: Callable[..., Path]) -> Path:
    path = toy_run(folds=2, grid=2)
    _age(path.parent)
    return path


def _kept(spec: Path) -> Path:
    return cache.cache_file(load_spec(spec))


def _run(*args: str) -> str:
    done = invoke(*args)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def _planned(spec: Path) -> list[cache.PlanRow]:
    return [cache.row_of(t) for t in build_plan(load_spec(spec)).tasks.values()]


def test_a_kept_plan_gives_what_planning_gives(spec: Path) -> None:
    cold_status = _run("status", str(spec), "--format", "json")
    cold_query = _run("query", str(spec), QUERY, "--format", "csv")
    assert _kept(spec).is_file()  # query keeps it; status never writes
    rows, plan = cache.rows(load_spec(spec), keep=False)
    assert plan is None and rows == _planned(spec)  # from the cache: keys and fingerprints
    assert _run("status", str(spec), "--format", "json") == cold_status
    assert _run("query", str(spec), QUERY, "--format", "csv") == cold_query
    assert cold_query.count(",done") == 12


def test_status_alone_keeps_no_plan(spec: Path) -> None:
    _run("status", str(spec))
    assert not _kept(spec).exists()


def test_an_edited_spec_plans_again(spec: Path) -> None:
    _run("query", str(spec), QUERY)
    spec.write_text(spec.read_text().replace("k = [0, 1]", "k = [0, 2]"))
    rows, plan = cache.rows(load_spec(spec), keep=False)
    assert plan is not None and rows == _planned(spec)
    out = _run("query", str(spec), QUERY, "--format", "csv")
    assert "k2" in out and "k1" not in out and out.count(",pending") == 6


def test_an_edited_table_is_refused_as_before(spec: Path) -> None:
    _run("query", str(spec), QUERY)
    table = spec.parent / "samples.csv"
    lines = table.read_text().splitlines()
    lines[1] = lines[1][:-1] + ("0" if lines[1][-1] != "0" else "1")  # one label, same size
    table.write_text("\n".join(lines) + "\n")
    done = invoke("query", str(spec), QUERY)
    assert done.returncode == 2 and "data table changed" in done.stderr, done.stderr


def test_edited_code_plans_again_and_its_tasks_are_stale(spec: Path) -> None:
    _run("query", str(spec), QUERY)
    model = spec.parent / "model.py"
    model.write_text(model.read_text() + "\n# changed\n")
    planned = invoke("status", "foldrun.toml", "--format", "json", cwd=spec.parent).stdout
    stale = [t for t in json.loads(planned)["tasks"] if t["stage"] == "train"]
    assert {(t["state"], t["why"]) for t in stale} == {("stale", "changed: model.py")}
    _age(spec.parent)
    _run("query", str(spec), QUERY)  # kept again, keyed on the edited code
    assert cache.rows(load_spec(spec), keep=False)[1] is None
    kept = invoke("status", "foldrun.toml", "--format", "json", cwd=spec.parent).stdout
    assert kept == planned  # stale tasks from the cache: why from the plan, as before


def test_a_metrics_file_edited_after_the_cache_is_seen(spec: Path) -> None:
    _run("query", str(spec), QUERY)
    before = _run("query", str(spec), METRICS, "--format", "csv")
    assert _kept(spec).is_file()
    metrics = next(spec.parent.glob("runs/toy/tasks/toy/k0/fold_00/evaluate/metrics.json"))
    values = json.loads(metrics.read_text())
    values["test/accuracy"] = 0.123
    metrics.write_text(json.dumps(values))
    after = _run("query", str(spec), METRICS, "--format", "csv")
    assert after != before and "0,accuracy,0.123" in after and "0,accuracy,0.123" not in before


def test_a_corrupt_task_after_the_cache_is_seen(spec: Path) -> None:
    _run("query", str(spec), QUERY)
    metrics = next(spec.parent.glob("runs/toy/tasks/toy/k1/fold_01/evaluate/metrics.json"))
    metrics.write_text('{"test/accuracy": 0.5')  # cut short
    status = json.loads(_run("status", str(spec), "--format", "json"))
    states = {t["key"]: t["state"] for t in status["tasks"]}
    assert states["toy/k1/fold_01/evaluate"] == "corrupt"
    assert "toy,k1,1,evaluate,corrupt" in _run("query", str(spec), QUERY, "--format", "csv")


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"version": 1}', b"\x00" * 64])
def test_a_damaged_cache_is_planned_again_and_rewritten(spec: Path, damage: bytes) -> None:
    _run("query", str(spec), QUERY)
    kept = _kept(spec)
    kept.write_bytes(damage)
    rows, plan = cache.rows(load_spec(spec), keep=False)
    assert plan is not None and rows == _planned(spec)
    _run("query", str(spec), QUERY)
    assert json.loads(kept.read_text())["version"] == cache.VERSION
    assert cache.rows(load_spec(spec), keep=False)[1] is None


def test_a_cache_of_other_rows_is_not_trusted_once_its_key_changes(spec: Path) -> None:
    """A cache whose rows were altered still keys on the inputs: an input changed since
    plans again (the rows are never patched, only replaced whole)."""
    _run("query", str(spec), QUERY)
    kept = _kept(spec)
    body = json.loads(kept.read_text())
    body["rows"] = body["rows"][:1]
    kept.write_text(json.dumps(body))
    (spec.parent / "samples.csv").touch()
    rows, plan = cache.rows(load_spec(spec), keep=False)
    assert plan is not None and len(rows) == 12


def test_recent_inputs_are_not_kept(toy_run: Callable[..., Path]) -> None:
    spec = toy_run(folds=2, grid=2)
    spec.write_text(spec.read_text() + "\n")  # written now: could change again unseen
    _run("query", str(spec), QUERY)
    assert not _kept(spec).exists()


def test_a_spec_the_cache_cannot_key_is_planned_as_before(
    spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(_spec: object) -> str:
        raise RuntimeError("no JSON form")

    monkeypatch.setattr(cache, "_spec_digest", fails)
    rows, plan = cache.rows(load_spec(spec), keep=True)
    assert plan is not None and rows == _planned(spec) and not _kept(spec).exists()


def _counted(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Each planning the cache does (foldrun.plan.build_plan, which cache.rows calls)."""
    import foldrun.plan

    planned: list[object] = []
    real = foldrun.plan.build_plan

    def counting(spec: object, *args: object, **kwargs: object) -> object:
        planned.append(spec)
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(foldrun.plan, "build_plan", counting)
    return planned


def test_report_and_query_after_a_report_use_the_kept_plan(
    spec: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hostile r4: writing report/ (or results/) in the run folder changed its mtime, and
    the cache was keyed on it, so report after report and query after report planned."""
    _run("query", str(spec), QUERY)
    assert _kept(spec).is_file()
    planned = _counted(monkeypatch)
    for args in (("report", str(spec)), ("report", str(spec)), ("query", str(spec), QUERY)):
        code, _out, err = main_in_process(capsys, *args)
        assert code == 0, err
    assert (spec.parent / "runs/toy/report").is_dir() and planned == []
    assert cache.rows(load_spec(spec), keep=False)[1] is None and planned == []


@pytest.mark.parametrize("edit", ["samples.csv", "runs/toy/split/fold_00/test.csv",
                                  "runs/toy/split/folds.parquet", "runs/toy/new.txt"])
def test_an_input_changed_after_a_report_plans_again(
    spec: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    edit: str,
) -> None:
    """Leaving foldrun's outputs out of the key leaves every input in: the data table, a
    split file, or a new name in the run folder (planning may look for it) plans again."""
    _run("query", str(spec), QUERY)
    assert main_in_process(capsys, "report", str(spec))[0] == 0
    path = spec.parent / edit
    with path.open("ab") as out:  # appended: a changed size, whatever the clock
        out.write(b"\n")
    planned = _counted(monkeypatch)
    with contextlib.suppress(FoldrunError):  # planning may refuse the edit: it planned
        cache.rows(load_spec(spec), keep=False)
    assert len(planned) == 1


def test_a_run_keeps_the_plan_it_ran_for_the_next_status(
    spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`foldrun run` (foldrun.api.Project.run) keeps its plan: the status after it plans
    nothing, and shows what a cold status shows."""
    fr.Project(spec).run()  # _age moved the table's mtime: planning records it (just now)
    _age(spec.parent / "runs")  # (the table left as it is: its mtime is in those records)
    cold = fr.Project(spec).status()
    assert not _kept(spec).exists()
    fr.Project(spec).run()  # all done: nothing runs, the plan is kept
    planned = _counted(monkeypatch)
    assert fr.Project(spec).status() == cold and planned == []
    assert cache.rows(load_spec(spec), keep=False) == (_planned(spec), None)


def test_a_run_whose_code_changed_while_it_ran_keeps_no_plan(
    spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan was made before the tasks ran: an input edited meanwhile (the model's code
    during a long run) must not be kept as that plan's key."""
    real = runner.run_planned

    def editing(*args: object, **kwargs: object) -> object:
        model = spec.parent / "model.py"
        with model.open("a") as out:
            out.write("\n# edited while the run ran\n")
        _age(model)  # long ago, as in a long run: only the key's compare can see it
        return real(*args, **kwargs)

    fr.Project(spec).run()  # _age moved the table's mtime: planning records it (just now)
    _age(spec.parent / "runs")
    monkeypatch.setattr(runner, "run_planned", editing)
    fr.Project(spec).run()
    assert not _kept(spec).exists()


def _cache_after_resumes(spec: Path) -> Path:
    """The kept plan of a finished run, written by its first resume."""
    fr.Project(spec).run()  # _age moved the table's mtime: planning records it (just now)
    _age(spec.parent / "runs")
    fr.Project(spec).run()  # all done: nothing runs, the plan is kept
    return _kept(spec)


def test_a_resume_of_an_unchanged_run_plans_nothing_and_keeps_the_cache_as_it_is(
    spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A no-op resume (every task done, the kept plan current) takes the kept plan's rows:
    no planning, and the cache file is not written again (same inode, same mtime)."""
    kept = _cache_after_resumes(spec)
    before = os.stat(kept)
    planned = _counted(monkeypatch)
    monkeypatch.setattr(runner, "build_plan", foldrun_plan_refused)
    outcome = fr.Project(spec).run()
    assert planned == [] and outcome.ran == () and outcome.already_done == len(_planned(spec))
    after = os.stat(kept)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert outcome.counts["done"] == outcome.already_done


def foldrun_plan_refused(*args: object, **kwargs: object) -> object:
    raise AssertionError("a no-op resume of an unchanged spec planned")


def test_a_resume_still_sees_a_task_folder_removed_or_failed(spec: Path) -> None:
    """The kept plan spares planning only when every task is done: a removed task folder
    (or a DONE lost) is run again, through the plan, and the kept cache is still not
    rewritten since it still holds."""
    kept = _cache_after_resumes(spec)
    before = os.stat(kept)
    rows = cache.kept_rows(load_spec(spec))
    assert rows is not None
    gone = next(r for r in rows if r.stage == "train")
    (Path(gone.task_dir) / "DONE").unlink()
    outcome = fr.Project(spec).run()
    assert gone.key in outcome.ran and outcome.ok
    assert os.stat(kept).st_ino == before.st_ino


def test_a_resume_with_a_stale_task_is_refused_as_before(spec: Path) -> None:
    """A DONE of another fingerprint (stale) is not done: the resume plans and refuses it."""
    kept = _cache_after_resumes(spec)
    assert kept.exists()
    rows = cache.kept_rows(load_spec(spec))
    assert rows is not None
    (Path(rows[0].task_dir) / "DONE").write_text("0" * 64 + "\n")
    done = invoke("run", str(spec))
    assert done.returncode == 2 and "stale" in done.stderr
