"""The JSON Schema of foldrun.toml (spec/schema.py, `foldrun schema`): the shipped copy is
the command's output, it accepts every spec the loader accepts (the examples', the demo's,
the specs the tests write) and rejects a misspelt key, as the loader does."""

from __future__ import annotations

import ast
import json
import textwrap
import tomllib
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from foldrun.cli import main
from foldrun.spec.model import Spec
from foldrun.spec.schema import keys, schema_text, spec_schema
from tests.spec.helpers import BASE

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "docs" / "foldrun.schema.json"
FILES = sorted([*ROOT.glob("examples/*/foldrun.toml"), *ROOT.glob("tests/**/foldrun.toml"),
                ROOT / "src/foldrun/example/foldrun.toml"])  # fmt: skip


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = spec_schema()
    jsonschema.Draft202012Validator.check_schema(schema)  # a valid draft 2020-12 schema
    return jsonschema.Draft202012Validator(schema)


def test_shipped_schema_is_the_commands_output(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["schema"])
    assert done.value.code == 0
    printed = capsys.readouterr().out
    assert printed == schema_text()
    assert SHIPPED.read_text(encoding="utf-8") == printed, (
        "docs/foldrun.schema.json is out of date: run `foldrun schema > docs/foldrun.schema.json`"
    )
    taplo = tomllib.loads((ROOT / ".taplo.toml").read_text())
    assert (ROOT / taplo["rule"][0]["schema"]["path"]).resolve() == SHIPPED


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.parent.name)
def test_every_spec_file_is_valid(path: Path, validator: jsonschema.Draft202012Validator) -> None:
    document = tomllib.loads(path.read_text())
    assert not list(validator.iter_errors(document))


def test_specs_the_tests_write_are_valid(validator: jsonschema.Draft202012Validator) -> None:
    """Every TOML text in the test suite that the spec's models accept, the schema accepts."""
    accepted = 0
    for document in _test_specs():
        try:
            Spec.model_validate(document)
        except (ValidationError, ValueError):
            continue
        accepted += 1
        errors = [e.message for e in validator.iter_errors(document)]
        assert not errors, f"{errors[0]} in\n{json.dumps(document)[:300]}"
    assert accepted > 30


def _test_specs() -> list[dict]:
    """The string constants of tests/ that are specs, or models tables put after BASE."""
    found = []
    for file in sorted(ROOT.glob("tests/**/*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and "[models." in node.value:  # fmt: skip
                text = textwrap.dedent(node.value)
                for candidate in (text, BASE + text):
                    try:
                        document = tomllib.loads(candidate)
                    except tomllib.TOMLDecodeError:
                        continue
                    if "name" in document:
                        found.append(document)
                        break
    return found


@pytest.mark.parametrize(("misspelt", "where"), [
    ('nmae = "x"\n', ""),
    ('[data]\ntable = "t.csv"\ntargte = "y"\n', "data"),
    ("[models.m.stages.train]\ngird = { a = [1] }\n", "models/m/stages/train"),
    ("[split]\nfold = 5\n", "split"),
    ('[slurm]\npartiton = "gpu"\n', "slurm"),
    ("[report]\nprimary = \"auc\"\n", "report"),
    ("[defaults.resources]\ncpu = 2\n", "defaults/resources"),
])  # fmt: skip
def test_a_misspelt_key_is_rejected(
    misspelt: str, where: str, validator: jsonschema.Draft202012Validator
) -> None:
    base = {"name": "x", "data": {"table": "t.csv"},
            "models": {"m": {"estimator": "sklearn.svm:SVC"}}}  # fmt: skip
    assert not list(validator.iter_errors(base))
    document = _merge(base, tomllib.loads(misspelt))
    errors = list(validator.iter_errors(document))
    messages = [m.message for e in errors for m in (e, *e.context)]  # context: anyOf's options
    assert any(m.startswith("Additional properties are not allowed") for m in messages)
    assert any("/".join(map(str, e.absolute_path)) == where for e in errors)
    with pytest.raises(ValidationError):  # the loader refuses it too
        Spec.model_validate(document)


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and key in out else value
    return out


def test_keys_are_the_spec_keys() -> None:
    """`keys` walks tables, maps of named tables and lists of tables, by their TOML names."""
    found = {path for path, _ in keys()}
    assert {"name", "data.table", "split.from", "models.<name>.grid",
            "models.<name>.stages.<name>.resources.cpus", "datasets.<name>.split.seed",
            "report.scorers", "slurm.max_concurrent"} <= found  # fmt: skip
    assert "split.from_" not in found
