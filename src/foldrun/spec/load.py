"""Reading `foldrun.toml` into a `Spec`: TOML syntax, then the pydantic schema.

Schema errors become `Problem`s naming the key path (`models.rf.grd: unknown key; did you
mean 'grid'?`). `load_spec` raises the first one; `foldrun check` reports them all.
"""

from __future__ import annotations

import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from foldrun.errors import FoldrunError, SpecError
from foldrun.spec.extends import resolve_extends, written_at
from foldrun.spec.model import ModelSpec, Spec, check_name, check_path
from foldrun.spec.problems import Problem, did_you_mean, key_path
from foldrun.spec.slurm import SlurmSpec, slurm_spec_from_table


def load_spec(path: str | Path) -> Spec:
    """The validated spec; raises SpecError on its first problem."""
    spec, problems = parse_spec(path)
    if problems:
        raise problems[0].error()
    assert spec is not None
    return spec


def read_document(path: str | Path, error: type[FoldrunError] = SpecError) -> dict[str, Any]:
    """The spec file's TOML as a dict, the one place foldrun parses it (commands that must
    work on a spec that no longer validates, cancel and report, read their keys from it).
    A file that cannot be read or parsed raises `error`, naming the file and what to do."""
    file = Path(path)
    try:
        return tomllib.loads(file.read_text(encoding="utf-8-sig"))  # a leading BOM skipped
    except FileNotFoundError:
        raise error("spec file not found; check the path", file=file) from None
    except UnicodeDecodeError:
        raise error("the spec is not UTF-8 text; save it as UTF-8", file=file) from None
    except OSError as err:
        raise error(f"cannot read the spec file: {err.strerror or err}", file=file) from None
    except tomllib.TOMLDecodeError as err:
        raise error(f"not valid TOML: {err}; fix it", file=file) from None


def load_slurm_spec(spec_path: str | Path) -> SlurmSpec:
    """The `[slurm]` table of a spec file (defaults when the table is absent): read here,
    beside read_document, so spec/slurm.py (which spec/model.py imports) needs no load."""
    path = Path(spec_path)
    document = read_document(path)
    table = document.get("slurm")
    if table is not None and not isinstance(table, dict):
        raise SpecError("[slurm] must be a table", file=path, key="slurm")
    return slurm_spec_from_table(table, file=path)


def run_folder(
    path: Path, document: dict[str, Any], error: type[FoldrunError] = SpecError
) -> Path:
    """The run folder a spec names (`output`, default `runs/<name>`, beside the spec), read
    from its TOML as it is, by the rules the spec loads with: cancel and report must find the
    folder `run` used when the rest of the spec no longer validates (data moved, a model
    renamed)."""
    key = "output" if "output" in document else "name"
    value = document.get(key)
    if value is None:
        raise error("the spec has no 'name' (nor 'output'); add name = \"...\"", file=path,
                    key="name")  # fmt: skip
    if not isinstance(value, str):
        raise error(f"'{key}' must be text (a {'folder path' if key == 'output' else 'name'}),"
                    f" not {type(value).__name__}", file=path, key=key)  # fmt: skip
    try:
        if key == "output":
            check_path(value, "output")
        else:
            check_name(value, "name")
    except ValueError as err:
        raise error(str(err), file=path, key=key) from None
    output = value if key == "output" else f"runs/{value}"
    return (path.parent / Path(output).expanduser()).resolve()


def parse_spec(path: str | Path) -> tuple[Spec | None, list[Problem]]:
    """The spec (None when invalid) and every schema problem found."""
    file = Path(path)
    try:
        raw = read_document(file)
    except SpecError as err:
        return None, [Problem(err.message, file=str(file))]
    written = raw  # as read: where a key of a model written out in full comes from
    raw, problems = resolve_extends(raw, str(file))  # the models written out in full
    raw, dropped = _drop_bad_model_names(raw, str(file))
    problems += dropped
    try:
        spec = Spec.model_validate(raw)
    except ValidationError as err:
        found = schema_problems(err, raw, str(file), written)
        if problems:  # every model had a bad name: "no models" would only repeat that
            found = [p for p in found if p.key != "models"]
        problems += found
        return None, problems + _model_problems(_valid_models(raw), str(file), _has_target(raw))
    problems += _model_problems(spec.models, str(file), spec.data.target is not None)
    if problems:
        return None, problems
    spec._path = file.resolve()
    problems = output_problems(spec, str(file))
    return (None, problems) if problems else (spec, [])


def output_problems(spec: Spec, file: str) -> list[Problem]:
    """The run folder must be a folder: not an existing file, nor below one."""
    run_dir = spec.run_dir
    for path in (run_dir, *run_dir.parents):
        if path.exists():
            if path.is_dir():
                return []
            where = "is" if path == run_dir else f"is below {path}, which is"
            return [
                Problem(
                    f"the run folder {run_dir} {where} a file, not a folder; choose another "
                    "output",
                    file=file,
                    key="output",
                )
            ]
    return []


def _valid_models(raw: dict[str, Any]) -> dict[str, ModelSpec]:
    """The models that pass the schema on their own (to check them further anyway)."""
    models = raw.get("models")
    valid = {}
    for name, table in models.items() if isinstance(models, dict) else ():
        try:
            valid[name] = ModelSpec.model_validate(table)
        except ValidationError:
            continue
    return valid


def _has_target(raw: dict[str, Any]) -> bool:
    data = raw.get("data")
    return not isinstance(data, dict) or data.get("target") is not None


def _model_problems(models: dict[str, ModelSpec], file: str, has_target: bool) -> list[Problem]:
    """Stages and placeholders that cannot work (beyond what the schema can say)."""
    found = [
        Problem(message, file=file, key=f"{key_path(['models', name])}.{key}")
        for name, model in models.items()
        for key, message in model.problems(has_target)
    ]
    for name, model in models.items():
        if not has_target and model.kind != "command":
            found.append(Problem(
                f"an {model.kind} model learns from data.target, and the spec has none; set "
                "[data] target, or make it a command model that computes its own metrics",
                file=file, key=f"{key_path(['models', name])}.{model.kind}"))  # fmt: skip
    return found


def _drop_bad_model_names(raw: dict[str, Any], file: str) -> tuple[dict[str, Any], list[Problem]]:
    """Report models whose name cannot be a folder, and validate the others regardless."""
    models = raw.get("models")
    if not isinstance(models, dict):
        return raw, []
    problems, kept = [], {}
    for name, table in models.items():
        try:
            check_name(name, "model name")
            kept[name] = table
        except ValueError as err:
            problems.append(Problem(str(err), file=file, key=key_path(["models", name])))
    return {**raw, "models": kept}, problems


def schema_problems(
    err: ValidationError, raw: dict[str, Any], file: str, written: dict[str, Any] | None = None
) -> list[Problem]:
    """One problem per key path (pydantic reports each member of a union separately), at
    the key where `written` (the TOML before `extends`) writes it: a template's typo once."""
    seen: dict[str, Problem] = {}
    locs: dict[str, list[Any]] = {}
    for item in err.errors():
        loc = _key_loc(item["loc"], raw, item["type"])
        key = key_path(loc)
        if key in seen:  # a second member of a union: the value fits none of them
            if _is_type_error(item["type"]):
                seen[key] = Problem(f"wrong type (got {item['input']!r})", file=file, key=key)
            continue
        seen[key], locs[key] = Problem(_message(item, loc), file=file, key=key or None), loc
    if written is None:
        return list(seen.values())
    where = {k: key_path(written_at(written, locs[k])) or None for k in seen}
    found = {(where[k], p.message): Problem(p.message, file=file, key=where[k])
             for k, p in seen.items()}  # fmt: skip
    return list(found.values())


def _is_type_error(kind: str) -> bool:
    return kind.endswith("_type") or kind.endswith("_parsing")


def _key_loc(loc: tuple[Any, ...], raw: Any, err_type: str) -> list[Any]:
    """The part of pydantic's `loc` that names keys of the TOML (drops union tags)."""
    out: list[Any] = []
    node = raw
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and (part in node or (last and err_type == "missing")):
            out.append(part)
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            out.append(part)
            node = node[part]
        else:
            break
    return out


def _message(item: Any, loc: list[Any]) -> str:
    kind = item["type"]
    if kind == "extra_forbidden":
        return "unknown key" + did_you_mean(str(loc[-1]), allowed_keys(loc[:-1]))
    if kind == "missing":
        return "required key is missing; add it"
    text = item["msg"].removeprefix("Value error, ")
    if _is_type_error(kind):
        return f"{text} (got {item['input']!r})"
    return text


def allowed_keys(loc: list[Any]) -> list[str]:
    """The keys the schema accepts in the table at `loc` (for the did-you-mean)."""
    target: Any = Spec
    skip_next = False
    for part in loc:
        if skip_next:  # a free-form dict key (a model's or a stage's name)
            skip_next = False
            continue
        model = _model_of(target)
        if model is None:
            return []
        field = _field(model, str(part))
        if field is None:
            return []
        target = field
        skip_next = _is_dict_of_models(target)
        if skip_next:
            target = typing.get_args(_strip_optional(target))[1]
    model = _model_of(target)
    return _keys(model) if model is not None else []


def _keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _field(model: type[BaseModel], key: str) -> Any:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field.annotation
    return None


def _strip_optional(annotation: Any) -> Any:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _model_of(annotation: Any) -> type[BaseModel] | None:
    annotation = _strip_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _is_dict_of_models(annotation: Any) -> bool:
    annotation = _strip_optional(annotation)
    if typing.get_origin(annotation) is not dict:
        return False
    return _model_of(typing.get_args(annotation)[1]) is not None
