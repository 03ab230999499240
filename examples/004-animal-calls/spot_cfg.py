"""The ANIMAL-SPOT scripts' config reader: `key=value` lines, `#` comments."""

from pathlib import Path


def read_cfg(path: str) -> dict[str, str]:
    found = {}
    for line in Path(path).read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip()
    return found
