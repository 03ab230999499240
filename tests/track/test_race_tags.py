"""track/mlflow.py `race_tags`: the MLflow tag of a variant a race stopped, its variant key
read by core/taskid.py (issue 23: no other module cuts a key at "/")."""

from __future__ import annotations

import json
from pathlib import Path

from foldrun.track.mlflow import race_tags


def _raced(run: Path, pruned: list[str]) -> Path:
    (run / ".foldrun").mkdir(parents=True)
    decision = {"model": "m", "variant": "v", "folds": 2, "best": "m/w", "p_holm": 0.01,
                "stopped": True}  # fmt: skip
    record = {"pruned": {k: "f" for k in pruned}, "decisions": [decision]}
    (run / ".foldrun" / "race.json").write_text(json.dumps(record))
    return run


def test_a_stopped_variant_is_tagged_with_its_decision(tmp_path: Path) -> None:
    run = _raced(tmp_path, ["m/v/fold_02/train"])
    assert race_tags(run, "m/v") == {
        "foldrun.race": "stopped after 2 folds: worse than m/w (p = 0.01, Holm)"
    }
    assert race_tags(run, "m/w") == {}  # nothing of it pruned


def test_a_datasets_variant_gets_the_plain_line(tmp_path: Path) -> None:
    """A race's decisions name no dataset: the variant `d/m/v` is not matched to the
    decision of model m, variant v (of whichever dataset it was), as before."""
    run = _raced(tmp_path, ["d/m/v/fold_02/train"])
    assert race_tags(run, "d/m/v") == {
        "foldrun.race": "stopped: every variant made from it was stopped"
    }
