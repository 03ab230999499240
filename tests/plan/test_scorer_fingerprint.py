"""A `[report] scorers` module is code of the stages that score (hostile r4 #3): editing it,
or a local module it imports, makes evaluate stale and status names the file; the tasks
that do not score stay done. A spec without scorers plans as before
(tests/plan/test_fingerprints_pinned.py)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.reliability.helpers import invoke, project

SCORER = "import scorehelp\n\ndef st(y_true, pred):\n    return scorehelp.VALUE\n"


def _statuses(root: Path) -> dict[str, tuple[str, str]]:
    out = invoke("status", "foldrun.toml", "--format", "json", cwd=root)
    return {t["key"]: (t["state"], t.get("why") or "") for t in json.loads(out.stdout)["tasks"]}


def test_an_edited_scorer_module_makes_evaluate_stale_not_train(tmp_path: Path) -> None:
    spec = project(tmp_path, folds=2, grid=1)
    spec.write_text(spec.read_text() + '\n[report]\nscorers = { st = "myscore:st" }\n')
    (tmp_path / "myscore.py").write_text(SCORER)
    (tmp_path / "scorehelp.py").write_text("VALUE = 1000.0\n")
    assert invoke("run", "foldrun.toml", cwd=tmp_path).returncode == 0
    fold = tmp_path / "runs/toy/tasks/toy/k0/fold_00"
    code = json.loads((fold / "evaluate/code.json").read_text())
    assert sorted(code) == ["myscore.py", "scorehelp.py"]
    assert "myscore.py" not in json.loads((fold / "train/code.json").read_text())
    assert all(state == "done" for state, _ in _statuses(tmp_path).values())

    (tmp_path / "scorehelp.py").write_text("VALUE = 5.0\n")  # imported by the scorer
    found = _statuses(tmp_path)
    stale = {key.rsplit("/", 1)[1] for key, (state, _) in found.items() if state == "stale"}
    assert stale == {"evaluate"}
    assert {why for state, why in found.values() if state == "stale"} == {"changed: scorehelp.py"}
    assert invoke("run", "foldrun.toml", "--force", cwd=tmp_path).returncode == 0
    metrics = json.loads((fold / "evaluate/metrics.json").read_text())
    assert metrics["test/st"] == 5.0
