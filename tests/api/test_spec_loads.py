"""One spec load per command: each `foldrun` command (and each `foldrun.api` call) loads the
spec once at its top and hands the loaded spec and its plan down; nothing below loads it
again (a `foldrun run` loaded it 5-6 times: the subset check, the fit check, the plan, the
MLflow export, the summary)."""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest

import foldrun.api as fr
import foldrun.plan.check  # noqa: F401 (holds parse_spec by name: patched there too)
from foldrun.plan import graph
from foldrun.spec import load
from tests.reliability.helpers import invoke, project

mlflow = pytest.importorskip("mlflow", reason="mlflow is not installed")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts of `parse_spec` (every load of a spec goes through it: load_spec, check) and
    `build_plan`, wherever a foldrun module holds them."""
    counts: Counter[str] = Counter()
    for name, module in (("parse_spec", load), ("build_plan", graph)):
        original = getattr(module, name)

        def counting(*args: object, _f: object = original, _n: str = name, **kw: object) -> object:
            counts[_n] += 1
            return _f(*args, **kw)  # type: ignore[operator]

        for held in [m for n, m in sys.modules.items() if n.startswith("foldrun")]:
            if getattr(held, name, None) is original:
                monkeypatch.setattr(held, name, counting)
    return counts


def _with_mlflow(spec: Path) -> Path:
    store = (spec.parent / "mlruns").as_uri()
    spec.write_text(spec.read_text() + f'\n[mlflow]\ntracking_uri = "{store}"\n'
                    'experiment = "toy"\n')  # fmt: skip
    return spec


# (argv, exit code, spec loads, plans at most); a finished run of 2 variants x 4 folds
COMMANDS = {
    "status": (["status", "{spec}"], 0, 1, 1),
    "check": (["check", "{spec}"], 0, 1, 0),
    "check --show": (["check", "{spec}", "--show"], 0, 1, 0),
    "report": (["report", "{spec}"], 0, 1, 1),
    "query": (["query", "{spec}", "select count(*) as n from tasks"], 0, 1, 1),
    "track": (["track", "{spec}"], 0, 1, 1),
    "run --dry-run": (["run", "{spec}", "--dry-run"], 0, 1, 1),
    # a fold's tasks to run again, then the MLflow export and the summary
    "run": (["run", "{spec}", "--jobs", "2"], 0, 1, 1),
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_loads_the_spec_once(name: str, toy_run, calls: Counter[str]) -> None:
    spec = _with_mlflow(toy_run())
    if name == "run":  # a fold's three tasks undone: they run, then export and summary
        shutil.rmtree(spec.parent / "runs/toy/tasks/toy/k0/fold_01")
    argv, code, loads, plans = COMMANDS[name]
    calls.clear()
    done = invoke(*[a.format(spec=spec) for a in argv], cwd=spec.parent)
    assert done.returncode == code, done.stdout + done.stderr
    assert calls["parse_spec"] == loads, name
    assert calls["build_plan"] <= plans, name  # none when a plan is kept from before
    if name == "run":  # what the other loads were for still happens, from the one load
        assert "3 task(s) run" in done.stdout
        assert "mlflow: " in done.stdout and "runs created" in done.stdout
        assert "on the test folds" in done.stdout  # the summary
    if name == "check --show":
        assert "[mlflow]" in done.stdout and "ok:" in done.stdout


def test_a_first_run_loads_once_and_plans_twice(tmp_path: Path, calls: Counter[str]) -> None:
    """A first run plans in memory to check the tasks fit before the split is made (a
    refused run leaves nothing), then plans again writing the split: two plans, one load."""
    spec = project(tmp_path, folds=2, grid=1)
    outcome = fr.Project(spec).run(folds=[0])
    assert outcome.ok and len(outcome.ran) == 3
    assert calls["parse_spec"] == 1 and calls["build_plan"] <= 2


def test_api_calls_load_the_spec_once_each(toy_run, calls: Counter[str]) -> None:
    project_ = fr.Project(toy_run())
    for call in (project_.status, project_.check, lambda: project_.run(dry_run=True),
                 lambda: project_.query("select 1"), project_.report):  # fmt: skip
        calls.clear()
        call()
        assert calls["parse_spec"] == 1, call


def test_a_slurm_run_takes_its_settings_from_the_one_load(
    toy_run, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--backend slurm` hands the backend the [slurm] table of the loaded spec: the
    backend reads no spec file again (it did, for its settings)."""
    import foldrun.run.backends.slurm as slurm

    def read_again(*_: object) -> None:
        raise AssertionError("the SLURM backend read the spec file again")

    monkeypatch.setattr(slurm, "load_slurm_spec", read_again)
    spec = toy_run()
    spec.write_text(spec.read_text() + '\n[slurm]\naccount = "lab-7"\n')
    shutil.rmtree(spec.parent / "runs/toy/tasks/toy/k0/fold_01")
    outcome = fr.Project(spec).run(backend="slurm", dry_run=True)
    assert outcome.ok and outcome.dry_run
    printed = capsys.readouterr()
    assert "lab-7" in printed.out + printed.err + str(outcome.to_dict())
