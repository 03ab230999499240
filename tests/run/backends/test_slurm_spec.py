"""The [slurm] table: defaults, per-stage partitions, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from foldrun.errors import SpecError
from foldrun.spec.load import load_slurm_spec
from foldrun.spec.slurm import SlurmSpec, slurm_spec_from_table


def test_defaults_and_stage_partitions() -> None:
    spec = slurm_spec_from_table({"partition": "gpu", "partitions": {"evaluate": "cpu"}})
    assert spec.partition_for("train") == "gpu" and spec.partition_for("evaluate") == "cpu"
    assert (spec.max_requeues, spec.signal_before_s, spec.python) == (3, 90, None)
    assert SlurmSpec().partition_for("train") is None


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ({"max_concurent": 3}, "slurm", ["did you mean 'max_concurrent'", "valid options:"]),
        ({"partitions": {"trian": "x"}}, "slurm.partitions", ["'trian'", "train, predict"]),
        ({"max_concurrent": 0}, "slurm.max_concurrent", ["greater than or equal to 1"]),
        ({"extra": ["qos=normal"]}, "slurm.extra", ["not an sbatch option"]),
    ],
)
def test_bad_tables_are_one_line(table: dict[str, object], key: str, words: list[str]) -> None:
    with pytest.raises(SpecError) as caught:
        slurm_spec_from_table(table, file="f.toml")
    assert caught.value.key == key
    line = caught.value.one_line()
    assert "\n" not in line and all(word in line for word in words)


def test_load_from_a_spec_file(tmp_path: Path) -> None:
    spec = tmp_path / "foldrun.toml"
    spec.write_text('name = "x"\n[slurm]\naccount = "lab"\nextra = ["--qos=normal"]\n')
    assert load_slurm_spec(spec).account == "lab"
    spec.write_text('name = "x"\n')
    assert load_slurm_spec(spec) == SlurmSpec()
    spec.write_text("name = [\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_slurm_spec(spec)
