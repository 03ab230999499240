from __future__ import annotations

import pytest

from foldrun.core.task import Resources
from foldrun.spec.resources import ResourcesSpec, merge_resources, parse_mem, parse_time


@pytest.mark.parametrize(
    ("text", "mb"),
    [("4G", 4096), ("512M", 512), ("1.5G", 1536), ("1T", 1024 * 1024), ("2gb", 2048), (300, 300)],
)
def test_parse_mem(text: str | int, mb: int) -> None:
    assert parse_mem(text) == mb


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("90", 90),
        ("01:00:00", 60),
        ("1-00:00:00", 1440),
        ("2-12", 2 * 1440 + 12 * 60),
        ("10:30", 11),  # MM:SS rounds up
        ("00:00:01", 1),
        (45, 45),
    ],
)
def test_parse_time(text: str | int, minutes: int) -> None:
    assert parse_time(text) == minutes


@pytest.mark.parametrize("bad", ["4X", "", "-1G", "G", True])
def test_parse_mem_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="mem"):
        parse_mem(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["1h", "1:2:3:4", "0", "-5", "x-1"])
def test_parse_time_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match="time"):
        parse_time(bad)


def test_merge_levels_override_field_by_field() -> None:
    defaults = ResourcesSpec(cpus=2, mem="8G", time="02:00:00")
    model = ResourcesSpec(gpus=1, mem="32G")
    stage = ResourcesSpec(cpus=8)
    assert merge_resources(defaults, model, stage) == Resources(
        cpus=8, gpus=1, mem_mb=32768, time_min=120
    )
    assert merge_resources(None) == Resources()
