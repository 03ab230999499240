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


def test_a_slurm_job_does_not_put_its_submit_folder_on_the_path() -> None:
    """The job script ran `python -m foldrun.run.worker` in the folder sbatch was called
    from, first on the path: a random.py there broke every task, as it did locally."""
    from foldrun.run.backends.slurm.script import render_script
    from tests.run.backends.test_slurm_script import CASES

    for case in CASES.values():
        text = render_script(**case)
        lines = [line for line in text.splitlines() if "foldrun.run.worker" in line]
        assert lines and all('"$PYTHON" -P -m foldrun.run.worker' in line for line in lines)
