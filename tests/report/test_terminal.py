"""The terminal summary of `run` and `report` (report/terminal.py): mean ± std, the
interval, "optimistic" and the nested estimate, the very numbers of the report's
cv_summary.json (never a second computation)."""

from __future__ import annotations

import math
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
    many = {"primary_metric": "rmse", "confidence": 0.9, "models": [row] * 12}
    lines = summary_lines(many)
    assert "[90% interval]" in lines[0] and len(lines) == 12 and "2 more" in lines[-1]
