from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from foldrun.plan import build_plan
from foldrun.spec import load_spec
from tests.spec.helpers import write_spec

MODELS = """
[defaults]
resources = { cpus = 1 }
[models.rf]
estimator = "sklearn.ensemble:RandomForestClassifier"
params = { n_estimators = 50 }
grid = { max_depth = [4, 8] }
[models.cnn]
train = "python train.py --train {train} --out {out} --lr {lr}"
predict = "python predict.py --in {test} --out {predictions} --t {threshold}"
refit = "python train.py --train {train} --out {out} --lr {lr}"
params = { lr = 0.001 }
[models.cnn.stages.predict]
grid = { threshold = [0.3, 0.5] }
"""


def fingerprints(spec_path: Path) -> dict[str, str]:
    return {k: t.fingerprint for k, t in build_plan(load_spec(spec_path)).tasks.items()}


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {k for k in before if k in after and before[k] != after[k]}


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    return write_spec(tmp_path, MODELS)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_same_spec_same_fingerprints(spec: Path) -> None:
    first = fingerprints(spec)
    assert fingerprints(spec) == first
    assert len(set(first.values())) == len(first)  # every task has its own


def test_unrelated_edits_change_nothing(spec: Path) -> None:
    before = fingerprints(spec)
    edit(spec, "resources = { cpus = 1 }", 'resources = { cpus = 3, mem = "1G" }')
    edit(spec, "[models.rf]", '[models.extra]\nentry = "a:b"\n[models.rf]')
    for manifest in (spec.parent / "split").rglob("*.csv"):
        os.utime(manifest, (1, 1))  # mtime alone is not content
    after = fingerprints(spec)
    assert changed(before, after) == set()
    assert set(after) - set(before) == {k for k in after if k.startswith("extra/")}


def test_a_moved_project_keeps_its_fingerprints(spec: Path, tmp_path: Path) -> None:
    before = fingerprints(spec)
    moved = tmp_path.parent / (tmp_path.name + "-moved")
    shutil.copytree(tmp_path, moved)
    assert fingerprints(moved / spec.name) == before


def test_param_change_makes_that_model_stale_downstream(spec: Path) -> None:
    before = fingerprints(spec)
    edit(spec, "lr = 0.001", "lr = 0.01")
    assert changed(before, fingerprints(spec)) == {k for k in before if k.startswith("cnn/")}


def test_grid_value_added_keeps_existing_variants(spec: Path) -> None:
    before = fingerprints(spec)
    edit(spec, "max_depth = [4, 8]", "max_depth = [4, 8, 16]")
    after = fingerprints(spec)
    assert changed(before, after) == set()
    assert {k.split("/")[1] for k in set(after) - set(before)} == {"md16"}


def test_template_change_reaches_later_stages_not_earlier(spec: Path) -> None:
    before = fingerprints(spec)
    edit(spec, "--t {threshold}", "--threshold {threshold}")
    assert changed(before, fingerprints(spec)) == {
        k for k in before if k.startswith("cnn/") and k.endswith(("/predict", "/evaluate"))
    }


def test_train_template_change_makes_predict_stale(spec: Path) -> None:
    before = fingerprints(spec)
    edit(
        spec,
        '--train {train} --out {out} --lr {lr}"\npredict',
        '--train {train} --out {out} --lr {lr} --x 1"\npredict',
    )
    stale = changed(before, fingerprints(spec))
    assert stale == {k for k in before if k.startswith("cnn/") and not k.endswith("/refit")}


def test_manifest_content_change_hits_that_fold(spec: Path) -> None:
    before = fingerprints(spec)
    manifest = spec.parent / "split" / "fold_01" / "test.csv"
    lines = manifest.read_text().splitlines(keepends=True)
    manifest.write_text("".join(lines[:-1]))  # one row less
    stale = changed(before, fingerprints(spec))
    assert stale == {k for k in before if "/fold_01/" in k}


def test_version_change_changes_everything(spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = fingerprints(spec)
    monkeypatch.setattr("foldrun.plan.fingerprint.__version__", "999.0")
    assert changed(before, fingerprints(spec)) == set(before)
