"""An estimator class of the researcher's own, in a module beside foldrun.toml, run with
foldrun started from another folder (a job script, a Makefile a level up)."""

from __future__ import annotations

from pathlib import Path

from tests.reliability.helpers import foldrun, table
from tests.run.test_user_code import HEAD

MODULE = """from sklearn.linear_model import LogisticRegression


class Model(LogisticRegression):
    pass
"""


def test_an_estimator_beside_the_spec_predicts_from_another_folder(tmp_path: Path) -> None:
    """train fitted it (importing the module with the spec's folder on the path), but
    predict unpickled model.joblib without that: ModuleNotFoundError: No module named
    'usercode' for every fold (it passed only when run from the spec's folder, which
    python -m put on the task server's path)."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    table().to_csv(project / "samples.csv", index=False)
    (project / "usercode.py").write_text(MODULE)
    (project / "foldrun.toml").write_text(HEAD + '[models.est]\nestimator = "usercode:Model"\n')
    done = foldrun("run", str(project / "foldrun.toml"), cwd=elsewhere)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(list((project / "runs/toy/tasks").rglob("DONE"))) == 7
