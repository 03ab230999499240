"""scan and duplicate label rows (issue 24 item 8): seed 002's survey holds exact duplicate
rows, which collapse (counted in the summary); rows of one key that differ are refused in
one line naming the key and the count, nothing written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from foldrun.cli import cli
from foldrun.errors import DataError

SURVEY = ("healthCode,professional-diagnosis\n"
          "h1,False\nh2,True\nh1,False\nh3,\nh3,\nh1,False\n")  # fmt: skip


def _scan(root: Path, survey: str) -> tuple[int, str]:
    """(exit code, output) as the console script ends (foldrun.cli main: exit 2, one line)."""
    (root / "mel").mkdir()
    for name in ["h1_r1.jpg", "h1_r2.jpg", "h2_r1.jpg", "h3_r1.jpg"]:
        (root / "mel" / name).write_text("x")
    (root / "survey.csv").write_text(survey)
    result = CliRunner().invoke(cli, ["scan", str(root / "mel"), "--pattern",
                                      "{healthCode}_{record}.jpg", "--labels",
                                      str(root / "survey.csv"), "--on", "healthCode", "--out",
                                      str(root / "index.csv")])  # fmt: skip
    if isinstance(result.exception, DataError):  # main() prints it in one line, exit 2
        return 2, result.exception.one_line()
    return result.exit_code, result.output


def test_exact_duplicate_rows_collapse_and_are_counted(tmp_path: Path) -> None:
    code, output = _scan(tmp_path, SURVEY)
    assert code == 0, output
    assert "3 exact duplicate label row(s) collapsed" in output
    table = pd.read_csv(tmp_path / "index.csv")
    assert sorted(table["record"] + table["healthCode"]) == ["r1h1", "r1h2", "r2h1"]
    assert list(table.sort_values("path")["professional-diagnosis"]) == [0, 0, 1]
    assert "1 dropped: 0 without a label row, 1 with an empty" in output  # h3 once, not twice


def test_conflicting_rows_of_a_key_are_one_line_naming_it(tmp_path: Path) -> None:
    code, output = _scan(tmp_path, SURVEY + "h2,False\nh2,\n")
    assert code == 2
    assert "1 key(s) with rows that differ (e.g. 'h2': 3 different rows)" in output
    assert "healthCode" in output and len(output.strip().splitlines()) == 1
    assert not (tmp_path / "index.csv").exists()
