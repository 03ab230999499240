"""Command templates: `python train.py --train {train} --lr {lr}`.

A placeholder is `{identifier}`; `{{` and `}}` are literal braces; any other brace is left
alone (so `awk '{print $1}'` needs no escaping). Every value is inserted shell-quoted, so a
value holding `'; touch x #` or a newline reaches the program as one argument.

Two forms fit real command lines: `{name*}` expands a list into separate arguments
(`--feat {feat*}` -> `--feat a b`), and `{name?--flag}` writes `--flag` when the value is
true and nothing when it is false (switch flags such as `--amp`). Any placeholder takes a
Python format spec (`{fold1:02d}` -> `03`, `{lr:.0e}` -> `3e-04`); `${name:-x}` is the
shell's own parameter expansion and is left alone.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Collection, Mapping
from typing import Any

from foldrun.errors import SpecError

# the placeholders every command template may use, besides the keys of params and grids
BUILTIN_PLACEHOLDERS = frozenset(
    {
        "train",
        "val",
        "test",
        "holdout",
        "out",
        "predictions",
        "fold",
        "fold1",
        "repeat",
        "model",
        "variant",
        "seed",
        "dataset",  # the `[datasets.<name>]` the task runs on, else empty
        "external",  # the external set's name while predict runs on one, else empty
        "fold_table",  # one CSV of every fold's rows with `fold` and `subset` columns
        "assignments",  # a flat JSON map {group (else id): test fold}
        "config",  # the config file rendered for the task ([models.X.config]), else empty
        "task_dir",  # this task's own folder ($FOLDRUN_TASK_DIR): evaluate's, not train's {out}
    }
)
# `{name}`, `{name*}` (list -> arguments), `{name?--flag}` (switch), `{name:spec}` (a
# Python format spec); `{{`/`}}` literal
# the shape of a format spec ([[fill]align][sign][z][#][0][width][grouping][.precision]
# [type]): `{k: v for k in x}` in an inline `python -c` stays the program's own text
_SPEC = r"(?:[^{}\n]?[<>=^])?[-+ ]?z?#?0?\d*[_,]?(?:\.\d+)?[A-Za-z%]?"
_TOKEN = re.compile(
    r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)(\*|\?[^{}\s'\"]+|:" + _SPEC + r")?\}"
)


# `{name!r}`, `{name[0]}`, `{name.x}`, `{name:02dd}`: Python format syntax foldrun does not
# fill (no space inside, not after `{` or `$`); of a placeholder's name it is a mistake that
# reached the program as written, of another name the program's own text (an f-string)
# (only Python's field grammar, `.attr`, `[index]`, `!conv`, `:spec`: an awk array's
# `{n[$1]++}` and a jq object's `{model:.model}` are the program's own text)
# a spec foldrun does not fill has a format spec's shape with a mistake in it (`02dd`,
# `.2ff`, `>4ss`): a jq object's `{model:$m,n:.}` or `{test:.}`, or a script's
# `{seed:process.argv[1]}`, holds what no format spec does (`$`, quotes, `:`, brackets, a
# `.` without digits) and is the program's own text
_MISSPEC = r"(?:[^{}\s]?[<>=^])?[-+]?z?#?0?\d*[_,]?(?:\.\d+)?[A-Za-z%]*"
_UNFILLED = re.compile(
    r"(?<![{$])\{([A-Za-z_][A-Za-z0-9_]*)(?=[!.\[:])((?:\.[A-Za-z_]\w*|\[[^\]{}\s$]+\])*"
    r"(?:![A-Za-z])?(?::" + _MISSPEC + r")?)\}"
)


def unfilled_problems(template: str, names: Collection[str]) -> list[str]:
    """One line per `{name...}` of `template` whose name is one of `names` (the placeholders
    it may use) in a form foldrun does not fill: a conversion, an index, an attribute or a
    format spec that is not one."""
    filled = {m.start() for m in _tokens(template)}
    return [f"{m.group(0)} is not a form foldrun fills; use {{{m.group(1)}}}, "
            f"{{{m.group(1)}*}}, {{{m.group(1)}?--flag}} or {{{m.group(1)}:spec}} (a Python "
            "format spec), or write {{ }} for a literal brace"
            for m in _UNFILLED.finditer(template)
            if m.group(1) in names and m.start() not in filled]  # fmt: skip


def _tokens(template: str) -> list[re.Match[str]]:
    """The placeholders of `template` (not the literal braces)."""
    return [m for m in _TOKEN.finditer(template) if m.group(1) and not _shell_own(m)]


def _shell_own(match: re.Match[str]) -> bool:
    """`${name:-default}`: bash's parameter expansion, not a placeholder with a format spec."""
    form, start = match.group(2) or "", match.start()
    return form[:1] == ":" and start > 0 and match.string[start - 1] == "$"


def placeholders(template: str) -> set[str]:
    """The placeholder names used in `template`."""
    return {m.group(1) for m in _tokens(template)}


def switches(template: str) -> set[str]:
    """The names used as `{name?--flag}` switches in `template`."""
    return {m.group(1) for m in _tokens(template) if (m.group(2) or "")[:1] == "?"}


def format_specs(template: str) -> list[tuple[str, str]]:
    """(name, spec) of every `{name:spec}` in `template`."""
    return [(m.group(1), m.group(2)[1:]) for m in _tokens(template)
            if (m.group(2) or "")[:1] == ":"]  # fmt: skip


def builtin_samples(name: str, stage: str) -> list[Any]:
    """Values a built-in placeholder takes in `stage`, to try a format spec on (refit's
    `{fold1}` is `all`, its `{fold}` -1; paths and names are text)."""
    refit = stage == "refit"
    numbers = {"fold": -1 if refit else 0, "fold1": "all" if refit else 1, "repeat": 0,
               "seed": 0}  # fmt: skip
    return [numbers.get(name, "text")]


def format_problem(name: str, spec: str, value: Any) -> str | None:
    """Why `{name:spec}` cannot format `value`, or None."""
    try:
        format(value, spec)
    except (ValueError, TypeError) as err:
        return (f"{{{name}:{spec}}} cannot format {value!r}: {err}; fix the format spec "
                "(Python's, as in {fold1:02d} or {lr:.0e})")  # fmt: skip
    return None


def render(template: str, values: Mapping[str, Any]) -> str:
    """The command with every placeholder replaced by its shell-quoted value."""
    missing = sorted(placeholders(template) - values.keys())
    if missing:
        raise SpecError(
            f"unknown placeholder {{{missing[0]}}} in command {template!r}; use one of "
            f"{', '.join('{' + k + '}' for k in sorted(values))}, or write {{{{ }}}} for a "
            "literal brace"
        )

    def replace(match: re.Match[str]) -> str:
        name, form = match.group(1), match.group(2)
        if name is None:
            return match.group(0)[0]  # "{{" -> "{", "}}" -> "}"
        if _shell_own(match):
            return match.group(0)
        if form and form[0] == ":":
            return _formatted(name, values[name], form[1:])
        if form == "*":
            return _arguments(name, values[name])
        if form:
            return _switch(name, values[name], form[1:])
        return shlex.quote(value_text(values[name]))

    return _TOKEN.sub(replace, template)


def fill(text: str, values: Mapping[str, Any]) -> Any:
    """A value for a file, not a command line: `{lr}` alone keeps its type (a number stays a
    number in a JSON config); any other text gets each placeholder's text, unquoted."""
    missing = sorted(placeholders(text) - values.keys())
    if missing:
        raise SpecError(f"unknown placeholder {{{missing[0]}}} in {text!r}", key=missing[0])
    whole = _TOKEN.fullmatch(text)
    if whole and whole.group(1) and not whole.group(2):
        return values[whole.group(1)]

    def replace(match: re.Match[str]) -> str:
        name, form = match.group(1), match.group(2) or ""
        if name is None:
            return match.group(0)[0]
        if _shell_own(match) or form[:1] in ("*", "?"):
            return match.group(0)
        return _format_text(name, values[name], form[1:])

    return _TOKEN.sub(replace, text)


def _formatted(name: str, value: Any, spec: str) -> str:
    """`{name:spec}`: the value through Python's format(), shell-quoted."""
    return shlex.quote(_format_text(name, value, spec))


def _format_text(name: str, value: Any, spec: str) -> str:
    """The value's text through Python's format() (no spec: `value_text`)."""
    if not spec:
        return value_text(value)
    problem = format_problem(name, spec, value)
    if problem:
        raise SpecError(problem, key=name)
    return format(value, spec)


def _arguments(name: str, value: Any) -> str:
    """`{name*}`: each item of a list as its own shell-quoted argument."""
    items = value if isinstance(value, list | tuple) else [value]
    return " ".join(shlex.quote(value_text(item)) for item in items)


def _switch(name: str, value: Any, flag: str) -> str:
    """`{name?--flag}`: the flag when the value is true, nothing when false."""
    if not isinstance(value, bool):
        raise SpecError(
            f"{{{name}?{flag}}} needs true or false, got {value!r}; set {name} to a boolean",
            key=name,
        )
    return flag if value else ""


def value_text(value: Any) -> str:
    """How a value reads on a command line: TOML-like booleans, JSON for lists and tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def program(command: str) -> str | None:
    """The program a rendered or unrendered command runs (its first shell word)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    # skip leading VAR=value assignments (`CUDA_LAUNCH_BLOCKING=1 python train.py`)
    for word in words:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word):
            return word
    return None
