"""The user guide (mkdocs.yml, docs/): it builds with warnings as errors and no network, its
spec reference lists exactly the keys the loader accepts (generated, never hand-copied),
and it has a how-to page per folder of examples/ and a CLI page listing every command."""

from __future__ import annotations

import re
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from foldrun.cli import COMMANDS
from foldrun.spec.load import allowed_keys
from foldrun.spec.model import Spec
from foldrun.spec.schema import reference_markdown

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.parent.name for p in ROOT.glob("examples/*/foldrun.toml"))


def model_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every key the pydantic models accept, walked from their fields (not from the schema):
    `a.b` a table's key, `a.<name>.b` a key of named tables, `a[].b` of a list of tables."""
    found = set()
    for name, field in model.model_fields.items():
        path = prefix + (field.alias or name)
        found.add(path)
        for inner, joiner in _inner_models(field.annotation):
            found |= model_keys(inner, path + joiner)
    return found


def _inner_models(annotation: object) -> list[tuple[type[BaseModel], str]]:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, ".")]
    if origin in (typing.Union, types.UnionType):
        return [pair for arg in args for pair in _inner_models(arg)]
    if origin is typing.Annotated:
        return _inner_models(args[0])
    if origin in (dict, list):
        joiner = ".<name>." if origin is dict else "[]."
        return [(m, joiner) for m, j in _inner_models(args[-1]) if j == "."]
    return []


def reference_keys(markdown: str) -> set[str]:
    """The keys the reference page lists: `## `[parent]`` sections and their table rows."""
    found, parent = set(), ""
    for line in markdown.splitlines():
        section = re.match(r"## (?:`\[(.+)\]`|Top level)", line)
        if section:
            parent = section.group(1) or ""
        row = re.match(r"\| `([^`]+)` \|", line)
        if row:
            found.add(f"{parent}.{row.group(1)}" if parent else row.group(1))
    return found


def test_spec_reference_lists_every_key_the_loader_accepts() -> None:
    listed = reference_keys(reference_markdown())
    accepted = model_keys(Spec)
    assert listed == accepted, (sorted(accepted - listed), sorted(listed - accepted))
    # the loader's own list of a table's keys (its did-you-mean) agrees
    assert {k for k in listed if "." not in k} == set(allowed_keys([]))
    assert {k.split(".")[-1] for k in listed if k.startswith("models.<name>.")
            and k.count(".") == 2} == set(allowed_keys(["models", "m"]))  # fmt: skip


def test_every_key_is_described() -> None:
    """A reference row without a description would be a key the guide cannot explain."""
    rows = [line for line in reference_markdown().splitlines() if line.startswith("| `")]
    bare = [row.split("|")[1].strip() for row in rows
            if not row.rstrip(" |").split("|")[-1].strip()]  # fmt: skip
    assert not bare, f"keys without Field(description=...): {bare}"


def test_a_howto_page_per_example_in_the_nav() -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    nav = str(config["nav"])
    for name in EXAMPLES:
        assert f"how-to/{name}.md" in nav, f"examples/{name} has no how-to page in mkdocs.yml"
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import hooks
    finally:
        sys.path.remove(str(ROOT / "docs"))
    assert set(hooks.HOWTO) == set(EXAMPLES)
    page = hooks.howto_page(ROOT / "examples" / EXAMPLES[0])
    assert (ROOT / "examples" / EXAMPLES[0] / "foldrun.toml").read_text().strip() in page


@pytest.mark.slow
def test_the_guide_builds_strict(tmp_path: Path) -> None:
    """`mkdocs build --strict` (warnings are errors) into a temporary folder."""
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d",
                           str(site)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    cli = (site / "reference/cli/index.html").read_text()
    for command in COMMANDS:
        assert f"foldrun {command}" in cli, f"the CLI reference has no 'foldrun {command}'"
    spec = (site / "reference/spec/index.html").read_text()
    assert "<code>fingerprint_code</code>" in spec and "<code>from</code>" in spec
    for name in EXAMPLES:
        assert (site / f"how-to/{name}/index.html").is_file()
    assert "Nadeau" in (site / "explanation/statistics/index.html").read_text()


def test_readme_is_short_and_points_into_the_guide() -> None:
    """The README says what foldrun is, the two set-up commands (scripts/test.sh is CI's),
    a quickstart and links; every link leads to a file of the repository."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 80
    assert "bash scripts/test.sh" in readme and "bash scripts/demo.sh" in readme
    assert "bash scripts/test.sh" in (ROOT / ".ci/run").read_text()  # the command CI runs
    links = re.findall(r"\]\(([^)#]+)\)", readme)
    assert len(links) >= 10
    for link in links:
        assert (ROOT / link).exists(), f"README links to {link}, which does not exist"
