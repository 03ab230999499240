"""`foldrun check`: every problem of a spec, its data, its split and its models at once.

Nothing is run and nothing is written. Each problem is one line naming the file, the key
or the column, and what to do.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shlex
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from dataclasses import field as _field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from foldrun.core.configs import top_keys
from foldrun.core.strategies import GROUPED
from foldrun.core.task import STAGES
from foldrun.core.templates import placeholders, program
from foldrun.errors import FoldrunError, SpecError
from foldrun.plan import split as split_mod
from foldrun.plan.code import declared_files
from foldrun.plan.data import check_external, named_columns
from foldrun.plan.graph import check_same_kind
from foldrun.plan.imports import import_problem
from foldrun.plan.inputs import SPLIT_PLACEHOLDERS
from foldrun.plan.split import make_split, scan_split, split_dir
from foldrun.plan.variants import expand
from foldrun.spec.load import load_spec, parse_spec, read_document
from foldrun.spec.model import DataSpec, ModelSpec, Spec, SplitSpec
from foldrun.spec.problems import Problem, did_you_mean
from foldrun.spec.table import TableInfo, read_table_info

ALWAYS_AVAILABLE = {"python", "python3"}



@dataclass
class _Parts:
    """What validated of the spec (each table on its own), to check further."""

    file: str
    base: Path
    data: DataSpec | None
    split: SplitSpec | None
    models: dict[str, ModelSpec]
    spec: Spec | None
    has_mlflow: bool


def check_spec(
    path: str | Path, parsed: tuple[Spec | None, list[Problem]] | None = None
) -> list[Problem]:
    """Every problem found, in spec order; an empty list when the spec is ready to run.
    `parsed`: parse_spec(path) when the caller made it already (one load per command)."""
    spec, problems = parsed if parsed is not None else parse_spec(path)
    parts = _parts(Path(path), spec)
    if parts is None:
        return problems
    if spec is not None:  # a run folder of datasets and one without are never mixed
        try:
            check_same_kind(spec)
        except FoldrunError as err:
            return [*problems, Problem(err.message, parts.file, "datasets")]
    for name, view in _datasets(parts):
        found: list[Problem] = []
        table = _check_table(view, found)
        _check_split(view, table, found)
        if view.spec is not None and view.spec.external and table is not None:
            found += _external_problems(view.spec, view.file)
        for problem in found:  # a dataset's problem says which dataset, once
            if name:
                problem = replace(problem, message=f"dataset {name}: {problem.message}")
            if problem not in problems:
                problems.append(problem)
    for name, model in parts.models.items():
        problems += model_problems(name, model, parts)
    if spec is not None:
        problems += code_problems("defaults.code", spec.defaults.code, parts)
    if parts.has_mlflow and importlib.util.find_spec("mlflow") is None:
        problems.append(
            Problem('mlflow is not installed; pip install "foldrun[mlflow]"', parts.file, "mlflow")
        )
    return problems


def _datasets(parts: _Parts) -> list[tuple[str, _Parts]]:
    """Each `[datasets.<name>]` as the parts of its own spec; ("", parts) without datasets."""
    spec = parts.spec
    if spec is None or not spec.datasets:
        return [("", parts)]
    views = [spec.for_dataset(name) for name in spec.datasets]
    return [(str(v.dataset), _Parts(parts.file, parts.base, v.data, v.split, parts.models, v,
                                     parts.has_mlflow)) for v in views]  # fmt: skip


def _external_problems(spec: Spec, file: str) -> list[Problem]:
    try:
        check_external(spec, spec.external_tables())
    except FoldrunError as err:
        return [Problem(err.message, file, err.key or "external", column=err.column)]
    return []


def _parts(path: Path, spec: Spec | None) -> _Parts | None:
    file = str(path)
    if spec is not None:
        return _Parts(
            file, spec.base_dir, spec.data, spec.split, spec.models, spec, spec.mlflow is not None
        )
    try:
        raw = read_document(path)
    except SpecError:
        return None  # parse_spec already said why
    models = {}
    for name, table in _dict(raw.get("models")).items():
        model = _valid(ModelSpec, table)
        if isinstance(model, ModelSpec):
            models[name] = model
    return _Parts(
        file,
        path.resolve().parent,
        _valid(DataSpec, raw.get("data")),
        _valid(SplitSpec, raw.get("split", {})),
        models,
        None,
        "mlflow" in raw,
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _valid(cls: type[BaseModel], value: Any) -> Any:
    try:
        return cls.model_validate(value)
    except ValidationError:
        return None


# --- data ---------------------------------------------------------------------------------


def _check_table(parts: _Parts, problems: list[Problem]) -> TableInfo | None:
    if parts.data is None:
        return None
    table_path = (parts.base / parts.data.table).resolve()
    try:
        info = read_table_info(table_path)
    except FoldrunError as err:
        problems.append(Problem(err.message, parts.file, "data.table"))
        return None
    for key, column in _named_columns(parts):
        if column not in info.columns:
            hint = did_you_mean(column, info.columns, "the columns are")
            problems.append(
                Problem(f"not in {parts.data.table}{hint}", parts.file, key, column=column)
            )
    return info


def _named_columns(parts: _Parts) -> Iterator[tuple[str, str]]:
    assert parts.data is not None
    return named_columns(parts.data, parts.split)


# --- split --------------------------------------------------------------------------------


def _check_split(parts: _Parts, table: TableInfo | None, problems: list[Problem]) -> None:
    split = parts.split
    if split is None:
        return
    if split.from_ is not None:
        _check_split_from(parts, (parts.base / split.from_).resolve(), problems)
        return
    for key, message in split_option_problems(split, parts.data):
        problems.append(Problem(message, parts.file, key))
    if parts.spec is not None and table is not None and not problems:
        problems += _dry_run_split(parts.spec, parts.file)


def _check_split_from(parts: _Parts, root: Path, problems: list[Problem]) -> None:
    if not root.is_dir():
        problems.append(
            Problem(
                f"split folder {root} not found; run 'foldrun split' first or fix the path",
                parts.file,
                "split.from",
            )
        )
        return
    try:
        scan_split(root)
    except FoldrunError as err:
        problems.append(Problem(err.message, parts.file, "split.from"))


def split_option_problems(split: SplitSpec, data: DataSpec | None) -> list[tuple[str, str]]:
    """Split options that contradict each other or the [data] table."""
    found = []
    base = (split.strategy or "auto").removeprefix("repeated-")
    if base in GROUPED and data is not None and not data.group:
        found.append(("split.strategy", f"strategy {base!r} needs [data] group; set it"))
    if base in ("predefined", "fixed") and not split.fold_column:
        found.append(("split.fold_column", f"strategy {base!r} needs fold_column; set it"))
    if base == "multilabel" and data is not None and not isinstance(data.target, list):
        found.append(
            ("split.strategy", "strategy 'multilabel' needs [data] target as a list of columns")
        )
    if split.val == "next-fold" and split.folds is not None and split.folds < 3:
        found.append(("split.val", "val = 'next-fold' needs folds >= 3 (train/val/test)"))
    if split.repeats and split.repeats > 1 and base == "predefined":
        found.append(("split.repeats", "a predefined split cannot be repeated; remove repeats"))
    return found


def _dry_run_split(spec: Spec, file: str) -> list[Problem]:
    """Make the folds in memory (nothing written) to catch what only the data can tell."""
    try:
        if split_mod.split_dir(spec).is_dir():
            changes = split_mod.split_changes(spec)
            return [Problem(changes, file, "split")] if changes else []
        split_mod.make_split(spec)
    except ImportError:
        return []  # foldrun.split not available: nothing more to say
    except FoldrunError as err:
        own = err.key if err.key and err.key.endswith(".filter") else None  # a bad filter
        return [Problem(err.message, file, own or "split", column=err.column)]
    return []


# --- models -------------------------------------------------------------------------------


def model_problems(name: str, model: ModelSpec, parts: _Parts) -> list[Problem]:
    key = f"models.{name}"
    found = []
    refs = [("estimator", model.estimator), ("entry", model.entry)]
    refs += [(f"preprocess[{i}]", ref) for i, ref in enumerate(model.preprocess)]
    for field, ref in refs:
        if ref is not None:
            message = import_problem(ref, parts.base)
            if message:
                found.append(Problem(message, parts.file, f"{key}.{field}"))
    found += _input_problems(key, model, parts)
    found += _nested_split_problems(key, model, parts)
    found += _proba_class_problems(key, model, parts)
    found += code_problems(f"{key}.code", model.code, parts)
    missing = _absent_subsets(parts)
    for stage in STAGES:
        template = model.template(stage)
        if template is None:
            continue
        message = command_problem(template, parts.base) or _subset_problem(
            template, missing, stage
        )
        if message:
            found.append(Problem(message, parts.file, f"{key}.{stage}"))
    return found


def _input_problems(key: str, model: ModelSpec, parts: _Parts) -> list[Problem]:
    """A model's own `features` and `manifests.rename` name columns of the data table; a
    feature that is the id, a target or a group would leak it into the model."""
    found = _config_file_problems(key, model, parts)
    rename = model.manifests.rename if model.manifests is not None else {}
    if parts.data is None or (model.features is None and not rename
                              and not _fold_table_columns(model)):  # fmt: skip
        return found
    try:
        columns = read_table_info((parts.base / parts.data.table).resolve()).columns
    except FoldrunError:
        return []  # said under data.table
    data = parts.data
    named = [(f"{key}.features", c) for c in model.features or []]
    named += [(f"{key}.manifests.rename", c) for c in rename if c not in ("fold", "subset")]
    for field, column in named:
        if column not in columns:
            hint = did_you_mean(column, columns, "the columns are")
            found.append(Problem(f"not in {data.table}{hint}", parts.file, field, column=column))
    roles = {data.id: "id", **dict.fromkeys(data.targets, "target"),
             **dict.fromkeys(data.groups, "group")}  # fmt: skip
    found += _name_clashes(key, model, rename, list(columns), parts)
    for column in [c for c in model.features or [] if c in roles]:
        found.append(Problem(f"features include {column!r}, the {roles[column]} column: the "
                             "model would see it (leakage); remove it", parts.file,
                             f"{key}.features", column=column))  # fmt: skip
    return found


def _proba_class_problems(key: str, model: ModelSpec, parts: _Parts) -> list[Problem]:
    """`[models.X.predictions] proba = { class = column }` names classes of the target: a
    class the target lacks was scored as one (every true class missing a column)."""
    proba = model.predictions.proba if model.predictions is not None else None
    data = parts.data
    if not isinstance(proba, dict) or data is None or len(data.targets) != 1:
        return []
    try:
        info = read_table_info((parts.base / data.table).resolve(), (data.targets[0],))
    except FoldrunError:
        return []  # said under data.table
    classes = info.distinct.get(data.targets[0], set())
    unknown = sorted(set(proba) - classes)
    if not unknown or not classes or len(classes) >= 1000:  # not all distinct values read
        return []
    return [Problem(f"proba names {unknown[0]!r}, not a class of {data.targets[0]!r} (its "
                    f"classes: {', '.join(sorted(classes)[:10])})", parts.file,
                    f"{key}.predictions.proba")]  # fmt: skip


def _name_clashes(key: str, model: ModelSpec, rename: dict[str, str], columns: list[str],
                  parts: _Parts) -> list[Problem]:  # fmt: skip
    """Two columns of one name in a manifest or `{fold_table}` (the program reads either,
    or the fold table's own fold/subset replaces the data's)."""
    found, own = [], _fold_table_columns(model)
    for column in [c for c in own if c in columns and c not in rename]:  # replaced there
        found.append(Problem(f"the table's column {column!r} has the name of a column "
                             "{fold_table} adds; rename it (manifests.rename)", parts.file,
                             f"{key}.manifests.rename", column=column))  # fmt: skip
    for old, new in rename.items():
        if new in [*columns, *own] and new not in rename and new != old:
            found.append(Problem(f"rename gives {old!r} the name of the column {new!r}; "
                                 "rename that one too, or pick another name", parts.file,
                                 f"{key}.manifests.rename", column=old))  # fmt: skip
    return found


def _nested_split_problems(key: str, model: ModelSpec, parts: _Parts) -> list[Problem]:
    """`{fold_table}` / `{assignments}` are the outer folds: a model whose variants also
    run on inner folds ([split] inner) would train there on its own inner test rows."""
    if parts.split is None or not parts.split.inner or count_model(model, 1)[0] < 2:
        return []
    return [Problem(f"{{{name}}} holds the outer folds, and with [split] inner this model's "
                    "variants also run on inner folds, where it would train on their test "
                    f"rows; use {{train}} and {{test}}, or remove [split] inner",
                    parts.file, f"{key}.{stage}")
            for stage in model.stage_names()
            for name in sorted(SPLIT_PLACEHOLDERS & placeholders(model.template(stage) or ""))
            ][:1]  # fmt: skip


def _fold_table_columns(model: ModelSpec) -> list[str]:
    """The columns `{fold_table}` adds (fold, subset), where a template of the model reads
    it: a column renamed onto one of them would be lost in that table."""
    templates = [model.template(stage) for stage in model.stage_names()]
    reads = any("fold_table" in placeholders(t) for t in templates if t)
    return ["fold", "subset"] if reads else []


def code_problems(key: str, entries: list[str], parts: _Parts) -> list[Problem]:
    """Each `code` entry names a file, folder or glob with files in the spec's folder."""
    found = []
    for entry in entries:
        try:
            declared_files(parts.base, [entry])
        except FoldrunError as err:
            found.append(Problem(err.message, parts.file, key))
    return found


def _config_file_problems(key: str, model: ModelSpec, parts: _Parts) -> list[Problem]:
    """Each config template is a file beside the spec that reads in its format."""
    found, seen = [], set()
    for stage in STAGES:
        config = model.config_for(stage)
        if config is None or id(config) in seen:
            continue
        seen.add(id(config))
        where = f"{key}.stages.{stage}.config" if config is not model.config else f"{key}.config"
        try:
            top_keys((parts.base / config.template).read_text(), config.config_format())
        except OSError:
            found.append(Problem(f"template {config.template!r} not found (relative to the "
                                 "spec's folder)", parts.file, f"{where}.template"))  # fmt: skip
        except FoldrunError as err:
            found.append(Problem(f"{config.template}: {err.message}", parts.file, where))
    return found


def _absent_subsets(parts: _Parts) -> set[str]:
    """`val` / `holdout` when the split will surely have none (a `{val}` would render as an
    empty string). A fold table or a `from` folder may hold them: not judged here. With
    datasets: absent from every dataset's split."""
    views = [view.split for _, view in _datasets(parts)]
    return set.intersection(*(_absent_from(split) for split in views))


def _absent_from(split: SplitSpec | None) -> set[str]:
    if split is None or split.from_ is not None or split.fold_column is not None:
        return set()
    absent = set()
    if split.val in (None, "none"):
        absent.add("val")
    if split.holdout is None:
        absent.add("holdout")
    return absent


def _subset_problem(template: str, absent: set[str], stage: str = "train") -> str | None:
    used = placeholders(template)
    if stage == "refit" and "test" in used and "holdout" in absent:
        return ("{test} in refit is the holdout, and the split has none; set [split] "
                "holdout = 0.2, or remove {test}")  # fmt: skip
    if stage == "refit":
        absent = absent - {"val"}  # refit never has one: said when the spec loads
    for name in sorted(used & absent):
        option = "val = 'next-fold' or a fraction" if name == "val" else "holdout = 0.2"
        return (f"{{{name}}} is used but the split has no {name} set; set [split] {option}, "
                f"or remove {{{name}}}")  # fmt: skip
    return None


def command_problem(template: str, base: Path) -> str | None:
    """A command whose program is not on PATH (or whose script file is missing); shell
    keywords and builtins (`source`, `cd`, `for`, `export`, ...) are the shell's own."""
    try:
        shlex.split(template)
    except ValueError as err:
        return f"the command is not valid shell: {err}"
    for command in simple_commands(template):
        message = _program_problem(command, base)
        if message:
            return message
    return None


# the first word of a shell command that is the shell's own, not a program on PATH
SHELL_WORDS = frozenset(
    {
        "source", ".", "cd", "for", "if", "then", "else", "elif", "fi", "do", "done", "while",
        "until", "case", "esac", "in", "function", "select", "export", "set", "unset", "eval",
        "exec", "true", "false", "test", "[", "[[", "]]", "echo", "printf", "read", "local",
        "declare", "typeset", "alias", "trap", "shift", "pushd", "popd", "ulimit", "umask", "wait",
        "time", "!", "{", "}", ":", "return", "exit", "break", "continue", "let", "shopt", "type",
        "command", "builtin", "hash"
    }
)


# shell words that a command may follow (`if cmd`, `do cmd`, `! cmd`, `time cmd`)
PREFIX_WORDS = frozenset({"if", "elif", "while", "until", "do", "then", "else", "!", "time", "{"})


SEPARATORS = frozenset({"\n", ";", "&&", "||", "|", "&", ";;", ";&", ";;&", "|&"})


def simple_commands(template: str) -> list[str]:
    """The simple commands of a command line, split at `&&`, `||`, `;`, `|` and newlines.
    The shell's own syntax is no command: `$(...)` / `$((...))` / `((...))` are opaque, a
    `case` pattern (`0)`, `*)`) is skipped, `( ... )` is a subshell, `f() {` and
    `a=(x y)` hold no program."""
    lexer = shlex.shlex(_opaque(template), posix=True, punctuation_chars=";&|()")
    lexer.whitespace = " \t\r"  # newlines separate commands
    lexer.wordchars += "{}$=./-~*?+:@%,^"
    splitter = _Commands()
    for token in [*lexer, "\n"]:
        # shlex joins a run of punctuation (`);`, `()`): parentheses count one by one
        parts = re.findall(r"[()]|[;&|]+", token) if set(token) <= set(";&|()") else [token]
        for word in parts:
            splitter.feed(word)
    return splitter.commands


def _opaque(template: str) -> str:
    """`$(...)` and `$((...))` as `$_`, `((...))` as `:`: what check does not judge."""
    out: list[str] = []
    depth = 0
    for i, char in enumerate(template):
        if depth:
            depth += {"(": 1, ")": -1}.get(char, 0)
        elif char == "(" and (out[-1:] == ["$"] or template.startswith("((", i)):
            depth = 1
            out.append("_" if out[-1:] == ["$"] else ":")
        else:
            out.append(char)
    return "".join(out)


@dataclass
class _Commands:
    """Words in, simple commands out (see `simple_commands`)."""

    commands: list[str] = _field(default_factory=list)
    words: list[str] = _field(default_factory=list)
    cases: int = 0  # open `case` statements
    pattern: bool = False  # the next `)` closes a case pattern
    skip: int = 0  # depth inside `a=( ... )` or `f()`
    functions: set[str] = _field(default_factory=set)  # `f() {...}`: f is no program

    def feed(self, word: str) -> None:
        if self.skip:
            self.skip += {"(": 1, ")": -1}.get(word, 0)
        elif word == "|" and self.pattern:
            self.words.append(word)  # `a|b)`: one case pattern
        elif word in SEPARATORS or (word == "(" and not self.words):
            self._end()
            self.pattern = self.cases > 0 and word in (";;", ";&", ";;&")
        elif word == "(":
            self.functions |= set(self.words[-1:])
            self.skip, self.words = 1, []  # `a=(x y)`, `f()`: no command inside
        elif word == ")":
            if self.pattern:
                self.words, self.pattern = [], False  # `0)` of a case: a pattern
            self._end()
        else:
            self._word(word)

    def _word(self, word: str) -> None:
        if word == "case" and not self.words:
            self.cases += 1
        elif word == "esac" and not self.words:
            self.cases -= 1
        elif self.words == ["function"]:
            self.functions.add(word)
        elif word == "in" and self.words[:1] == ["case"]:
            self.pattern = True
        self.words.append(word)

    def _end(self) -> None:
        if self.words and self.words[0] not in self.functions:
            self.commands.append(shlex.join(self.words))
        self.words = []


def _program_problem(command: str, base: Path) -> str | None:
    words = shlex.split(command)
    while words and words[0] in PREFIX_WORDS:  # `do python train.py`: check `python ...`
        words = words[1:]
    prog = program(shlex.join(words))
    if prog is None or "{" in prog or "$" in prog or prog in SHELL_WORDS:
        return None
    if prog in ALWAYS_AVAILABLE or prog == sys.executable:
        return _script_problem(words, base)
    if "/" in prog:
        path = (base / prog).resolve()
        if not path.is_file():
            return f"program {prog!r} not found (relative to the spec's folder)"
        if not os.access(path, os.X_OK):
            return f"program {prog!r} is not executable; chmod +x it, or run it with bash"
        return None
    if shutil.which(prog) is None:
        return f"program {prog!r} is not on PATH; install it, or fix the command"
    return None


def _script_problem(words: list[str], base: Path) -> str | None:
    """`python train.py ...`: the script must exist relative to the spec's folder."""
    while words and "=" in words[0] and not words[0].startswith("-"):
        words = words[1:]  # VAR=value before the program
    args = words[1:]
    if not args or args[0] in ("-m", "-c"):
        return None
    script = next((w for w in args if not w.startswith("-")), "")
    if script.endswith(".py") and "{" not in script and not (base / script).is_file():
        return f"script {script!r} not found (commands run in the spec's folder)"
    return None


# --- summary ------------------------------------------------------------------------------


def summary(path: str | Path, spec: Spec | None = None) -> str:
    """`ok: 3 models, 7 variants, 95 tasks over 5 folds` for a spec without problems (with
    datasets: the folds of each, `over 3/3/4 fold(s) in 3 dataset(s)`); `spec`: the spec
    file as the caller loaded it already."""
    spec = spec if spec is not None else load_spec(path)
    views = [spec.for_dataset(name) for name in spec.datasets] or [spec]
    counts = [_counts(view) for view in views]
    variants, tasks = counts[0][1], sum(c[2] for c in counts)
    over = "/".join(str(c[0]) for c in counts)
    datasets = f" in {len(views)} dataset(s)" if spec.datasets else ""
    return (
        f"{path}: ok: {len(spec.models)} model(s), {variants} variant(s), {tasks} task(s) "
        f"over {over} fold(s){datasets}"
    )


def _counts(spec: Spec) -> tuple[int, int, int]:
    """(folds, variants, tasks) of a spec (of one dataset's)."""
    root = split_dir(spec)
    if root.is_dir():
        files = scan_split(root)
        n_folds = len(files.folds)
    elif spec.split.fold_column is not None:  # the fold column or table says how many
        folds = make_split(spec)
        n_folds = folds.n_folds * folds.n_repeats
    else:  # not made yet: what [split] asks for
        n_folds = (spec.split.folds or 5) * (spec.split.repeats or 1)
    variants = tasks = 0
    for model in spec.models.values():
        has_target = spec.data.target is not None
        leaves, n_tasks = count_model(model, n_folds, has_target, spec.split.inner or 0)
        variants += leaves
        tasks += n_tasks
    return n_folds, variants, tasks


def count_model(
    model: ModelSpec, n_folds: int, has_target: bool = True, inner: int = 0
) -> tuple[int, int]:
    """(variants after every stage grid, tasks) of one model, as the plan will build them:
    with `inner` folds ([split] inner), a model with variants to choose from runs each fold
    stage on every inner fold of every outer fold too (plan/graph.py `add_model`)."""
    n = len(expand(model.grid))
    per_stage = []
    for stage in model.stage_names(has_target):
        own = model.stages.get(stage)
        if own and own.grid:
            n *= len(expand(own.grid))
        per_stage.append((stage, n))
    folds = n_folds * (1 + (inner if n > 1 else 0))
    return n, sum(k if stage == "refit" else k * folds for stage, k in per_stage)
