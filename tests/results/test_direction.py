"""Metric direction: built-ins know theirs; `[report] lower_is_better` names the rest."""

from __future__ import annotations

import pytest

from foldrun.results.metrics import greater_is_better


@pytest.mark.parametrize("entry", ["sam", "test/sam", "val/sam"])
@pytest.mark.parametrize("metric", ["sam", "test/sam", "val/sam"])
def test_a_custom_metric_to_minimise_with_or_without_its_prefix(entry: str, metric: str) -> None:
    assert not greater_is_better(metric, [entry])


def test_built_ins_and_other_names_keep_their_direction() -> None:
    assert not greater_is_better("rmse") and greater_is_better("roc_auc")
    assert greater_is_better("psnr", ["test/sam"])
