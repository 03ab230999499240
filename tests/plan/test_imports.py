"""`check`'s lookup of `module:Name`: own dependencies read from their source (no import),
everything else imported for real, and both ways agree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from foldrun.plan.imports import import_problem


def _in_fresh_interpreter(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_scikit_learn_estimator_is_found_without_importing_scikit_learn(tmp_path: Path) -> None:
    out = _in_fresh_interpreter(
        "import sys; from pathlib import Path\n"
        "from foldrun.plan.imports import import_problem\n"
        "print(import_problem('sklearn.linear_model:LogisticRegression', Path('.')),"
        " 'sklearn' in sys.modules)"
    )
    assert out == "None False"


def test_a_misspelled_estimator_is_still_named_with_a_suggestion(tmp_path: Path) -> None:
    message = import_problem("sklearn.ensemble:RandomForestClasifier", tmp_path)
    assert message is not None
    assert "has no 'RandomForestClasifier'" in message
    assert "RandomForestClassifier" in message


def test_a_missing_module_of_an_own_dependency_is_reported(tmp_path: Path) -> None:
    message = import_problem("sklearn.nothing_here:X", tmp_path)
    assert message is not None and message.startswith("cannot import 'sklearn.nothing_here'")


def test_a_user_module_that_fails_on_import_is_reported(tmp_path: Path) -> None:
    (tmp_path / "mymodel.py").write_text("import not_installed_pkg\nclass Model: pass\n")
    message = import_problem("mymodel:Model", tmp_path)
    assert message is not None and "ModuleNotFoundError" in message


def test_a_spec_folder_module_named_like_a_dependency_is_imported_for_real(tmp_path: Path) -> None:
    (tmp_path / "numpy.py").write_text("X = 1\n")  # shadows NumPy for this spec's tasks
    # NumPy's own source binds `mean`; this spec's tasks would import the folder's numpy.py
    out = _in_fresh_interpreter(
        "from pathlib import Path; from foldrun.plan.imports import import_problem\n"
        f"print(import_problem('numpy:mean', Path({str(tmp_path)!r})))"
    )
    assert "has no 'mean'" in out


def test_names_bound_under_if_and_try_count_and_dotted_names_do_not(tmp_path: Path) -> None:
    out = _in_fresh_interpreter(
        "from foldrun.plan.imports import defined_in_source as d\n"
        "print(d('sklearn.svm', 'SVC'), d('sklearn.svm', 'SVCX'), d('sklearn', 'svm.SVC'),"
        " d('mymodule', 'Model'))"
    )
    assert out == "True False False False"


def _all_estimator_refs() -> list[str]:
    from sklearn.utils import all_estimators

    refs = []
    for name, cls in all_estimators():
        public = ".".join(p for p in cls.__module__.split(".") if not p.startswith("_"))
        refs.append(f"{public}:{name}")
    return refs


@pytest.mark.parametrize("kind", ["found", "agrees"])
def test_the_source_read_agrees_with_importing_for_every_scikit_learn_estimator(kind: str) -> None:
    """Run in a fresh interpreter (here scikit-learn is already imported, which turns the
    source read off): every estimator the source read finds really exists, and it finds
    nearly all of them, so `check` does not fall back to the one-second import."""
    refs = _all_estimator_refs()
    code = (
        "from foldrun.plan.imports import defined_in_source as d\n"
        f"refs = {refs!r}\n"
        "print(','.join(r for r in refs if d(*r.split(':'))))"
    )
    found = set(_in_fresh_interpreter(code).split(","))
    if kind == "found":
        assert len(found) >= 0.95 * len(refs), sorted(set(refs) - found)
    else:
        import importlib

        for ref in found:
            module, name = ref.split(":")
            assert hasattr(importlib.import_module(module), name), ref


def test_check_and_a_dry_run_of_estimator_models_never_import_scikit_learn(tmp_path: Path) -> None:
    """Before any split is made, `check` and a dry run make the folds in memory and look the
    estimators up: neither needs scikit-learn imported (about a second of each)."""
    from tests.run.helpers import toy_project

    spec = toy_project(tmp_path)
    spec.write_text(spec.read_text() + (
        '[models.lr]\nestimator = "sklearn.linear_model:LogisticRegression"\n'
        '[models.pipe]\nestimator = "sklearn.svm:SVC"\n'
        'preprocess = ["sklearn.preprocessing:StandardScaler"]\n'
    ))  # fmt: skip
    out = _in_fresh_interpreter(
        "import sys; import foldrun.api as foldrun\n"
        f"p = foldrun.load({str(spec)!r})\n"
        "c = p.check(); o = p.run(dry_run=True)\n"
        "print(c.ok, len(o.ran), 'sklearn' in sys.modules)"
    )
    ok, planned, imported = out.split()
    assert (ok, imported) == ("True", "False")
    assert int(planned) > 0
    assert not (tmp_path / "runs").exists()  # a dry run writes nothing
