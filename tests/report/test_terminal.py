"""The terminal summary of `run` and `report` (report/terminal.py): mean ± std, the
interval, "optimistic" and the nested estimate, the very numbers of the report's
cv_summary.json (never a second computation)."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import pytest

from foldrun.cli import main
from foldrun.report import build_report
from foldrun.report.terminal import model_line, summary_lines
from tests.reliability.helpers import table

SPEC = """name = "terminal"
[data]
table = "samples.csv"
id = "id"
target = "target"
[split]
folds = 3
inner = 2
seed = 1
[models.lr]
estimator = "sklearn.linear_model:LogisticRegression"
grid = { C = [0.001, 1.0] }
[models.prior]
estimator = "sklearn.dummy:DummyClassifier"
"""


def foldrun(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    return code, capsys.readouterr().out


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("terminal")
    table(60).to_csv(root / "samples.csv", index=False)
    (root / "foldrun.toml").write_text(SPEC)
    return root / "foldrun.toml"


def test_run_and_report_print_the_reports_numbers(
    spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, ran = foldrun(capsys, "run", str(spec), "--jobs", "2")
    assert code == 0, ran
    summary = build_report(spec).summary
    expected = summary_lines(summary)
    assert expected[0] == "roc_auc on the test folds: mean ± std [95% interval], best first"
    assert ran.splitlines()[-len(expected):] == expected  # what run printed, line for line
    code, reported = foldrun(capsys, "report", str(spec))
    assert code == 0 and reported.splitlines()[-len(expected):] == expected
    lr = next(m for m in summary["models"] if m["model"] == "lr")
    line = next(line for line in expected if "lr/" in line)
    assert f"{lr['mean']:.4f} ± {lr['std']:.4f} [{lr['ci_low']:.4f}, {lr['ci_high']:.4f}]" in line
    assert "over 3 folds (optimistic" in line  # the best of 2 variants, chosen on the test folds
    nested = lr["nested"]
    assert f"; nested {nested['mean']:.4f} [" in line and "(3/3 folds)" in line
    prior = next(line for line in expected if "prior/" in line)
    assert "optimistic" not in prior and "nested" not in prior  # one variant: nothing chosen


def test_a_subset_is_summarised_and_a_failed_run_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table(30).to_csv(tmp_path / "samples.csv", index=False)
    spec = tmp_path / "foldrun.toml"
    spec.write_text(SPEC.replace("inner = 2\n", "").replace('"sklearn.dummy:DummyClassifier"',
                                                            '"sklearn.dummy:NoSuchModel"'))
    code, out = foldrun(capsys, "run", str(spec), "--models", "lr", "--folds", "0")
    assert code == 0 and "lr/" in out and " ± " in out  # the part that ran, summarised
    assert "over 1 folds" in out and "[n/a]" in out  # one fold: no interval, said so
    code, out = foldrun(capsys, "run", str(spec), "--models", "prior", "--folds", "0")
    assert code != 0 and " ± " not in out  # failed tasks: no summary of a partial result


def test_model_line_says_what_is_missing() -> None:
    row = {"rank": 1, "model": "m", "variant": "default", "mean": 0.5, "std": math.nan,
           "ci_low": None, "ci_high": None, "n": 1, "optimistic": False}  # fmt: skip
    assert model_line(row) == "  1. m/default: 0.5000 ± n/a [n/a] over 1 folds"
    assert summary_lines({"primary_metric": "rmse", "models": []}) == [
        "no test scores of rmse yet"]  # fmt: skip
    unscored = [{"model": "m", "variant": "default", "why": "one class in the test part"}]
    assert summary_lines({"primary_metric": "roc_auc", "models": [], "unscored": unscored}) == [
        "no model ranked: roc_auc is undefined (NaN) on every done test fold of",
        "  m/default: one class in the test part"]  # fmt: skip
    assert summary_lines({"primary_metric": "roc_auc", "models": [row], "unscored": unscored}
                         )[-1] == "  m/default: not ranked: roc_auc is undefined (NaN) on " \
        "every done test fold: one class in the test part"  # fmt: skip
    many = {"primary_metric": "rmse", "confidence": 0.9, "models": [row] * 12}
    lines = summary_lines(many)
    assert "[90% interval]" in lines[0] and len(lines) == 12 and "2 more" in lines[-1]


def _aged(root: Path) -> None:
    """Every file 10 s old: the plan of an unchanged spec is kept only then (plan/cache.py),
    so a resume takes it (no planning) as at scale."""
    old = time.time() - 10
    for path in [root, *root.rglob("*")]:
        os.utime(path, (old, old), follow_symlinks=False)


def test_a_resume_prints_the_kept_summary_until_a_metric_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that runs nothing prints the summary kept by the one before it (same lines,
    no tables read); an evaluate's metrics.json edited since is seen: the resume prints
    the new number, and it is cv_summary.json's."""
    import foldrun.results.load as load

    table(40).to_csv(tmp_path / "samples.csv", index=False)
    spec = tmp_path / "foldrun.toml"
    spec.write_text(SPEC.replace("inner = 2\n", "").replace("folds = 3", "folds = 2"))
    code, first = foldrun(capsys, "run", str(spec))
    _aged(tmp_path)
    code, second = foldrun(capsys, "run", str(spec))  # computed and kept
    assert code == 0 and " ± " in first
    lines = [line for line in second.splitlines() if not line.startswith("foldrun:")]
    assert lines == first.splitlines()[-len(lines):]
    real = load.load_results
    monkeypatch.setattr(load, "load_results", _refused)
    code, third = foldrun(capsys, "run", str(spec))
    assert code == 0 and third == second  # the kept lines: nothing loaded
    metrics = next(tmp_path.glob("runs/*/tasks/lr/C1.0/fold_00/evaluate/metrics.json"))
    body = json.loads(metrics.read_text())
    body["test/roc_auc"] = 0.875  # the selected variant's score: its mean moves
    metrics.write_text(json.dumps(body))
    monkeypatch.setattr(load, "load_results", real)
    code, edited = foldrun(capsys, "run", str(spec))
    assert code == 0 and "0 task(s) run" in edited and edited != second
    expected = summary_lines(build_report(spec).summary)
    assert edited.splitlines()[-len(expected):] == expected
    code, again = foldrun(capsys, "run", str(spec))
    assert again == edited


def _refused(*args: object, **kwargs: object) -> object:
    raise AssertionError("the summary of an unchanged run was computed again")
