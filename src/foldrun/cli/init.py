"""`foldrun init TABLE`: a commented starter foldrun.toml for a table (and a program).

The table is inspected (id, target kind, group candidates, numeric features, size); the
split strategy is the one `foldrun split` would choose for it (split/assign.py `choose`), the
task kind is the planner's (spec/table.py `infer_task`), and the file is checked against the
spec's schema before it is written. An existing file is never replaced.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from foldrun.errors import DataError, SpecError

if TYPE_CHECKING:
    import pandas as pd

# column names that usually hold the label, the unit that must stay in one fold, the row id
TARGET_NAMES = ("target", "label", "labels", "y", "class", "outcome", "diagnosis")
GROUP_NAMES = ("subject", "patient", "participant", "person", "individual", "user", "group",
               "source", "family", "animal", "donor", "household")  # fmt: skip
ID_NAMES = ("id", "uid", "key", "record", "sample_id", "row_id")
MAX_FOLDS = 5
RARE_SHARE = 0.1  # a positive class rarer than this is ranked by average precision

# words of a program's option name -> the placeholder foldrun fills in (first match wins)
ROLE_WORDS = (
    ({"pred", "preds", "prediction", "predictions"}, "predictions"),
    ({"val", "valid", "validation", "dev"}, "val"),
    ({"test", "eval", "evaluation"}, "test"),
    ({"out", "output", "outdir", "save", "workdir", "checkpoint", "checkpoints"}, "out"),
    ({"train", "training", "data", "dataset", "input", "csv", "manifest", "table"}, "train"),
    ({"seed"}, "seed"),
    ({"fold"}, "fold"),
)


@dataclass
class Facts:
    """What the table says, and what the starter spec makes of it."""

    table: Path
    rows: int
    columns: list[str]
    id: str | None = None
    target: str | None = None
    group: str | None = None
    task: str | None = None
    features: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # text columns no estimator can take
    group_candidates: list[str] = field(default_factory=list)
    strategy: str = "kfold"
    reason: str = ""
    folds: int = MAX_FOLDS
    classes: dict[str, int] = field(default_factory=dict)  # class -> rows


@dataclass
class Program:
    """A command model made from the program's own command line."""

    name: str
    templates: dict[str, str]  # train (and predict)
    params: dict[str, Any]


@click.command(name="init")
@click.argument("table", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--target", default=None, help="Label column (default: one named like a label).")
@click.option("--group", default=None,
              help="Column whose rows must share a fold (a subject, a patient, ...).")  # fmt: skip
@click.option("--program", "programs", multiple=True,
              help='Your training command, e.g. "python train.py --data d.csv --epochs 10"; '
                   "a second --program is the predict command.")  # fmt: skip
@click.option("--out", default="foldrun.toml", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The spec file to write.")
def command(
    table: Path, target: str | None, group: str | None, programs: tuple[str, ...], out: Path
) -> None:
    """Write a commented starter spec for TABLE that `foldrun check` passes (never
    overwrites a file): the split and the primary metric the data calls for, and either
    scikit-learn models or a command model made from --program."""
    refuse_existing(out)
    if len(programs) > 2:
        raise click.UsageError("--program takes the train command and, optionally, the predict one")
    program = program_model(programs, table) if programs else None  # before reading data
    facts = inspect(table, target, group, need_target=not programs)
    write_new(out, render(facts, program, out))
    click.echo(summary(facts, program, out))


def write_new(out: Path, text: str) -> None:
    """`text` whole at `out`, or nothing: written beside it, loaded by the loader (a bug
    here must not leave the user a broken spec), then linked to its name (a link never
    replaces a file, one made meanwhile included)."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.spec.load import parse_spec

    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        problems = parse_spec(tmp)[1]
        if problems:
            problem = problems[0]
            raise SpecError(f"foldrun init made a spec that does not load ({problem.key}: "
                            f"{problem.message}); please report it, and write the spec by "
                            "hand", file=out)  # fmt: skip
        os.link(tmp, out)
    except FileExistsError:
        raise SpecError("already exists; foldrun init never replaces a file", file=out) from None
    finally:
        tmp.unlink(missing_ok=True)


def refuse_existing(out: Path) -> None:
    if out.exists() or out.is_symlink():
        raise SpecError("already exists; foldrun init never replaces a file: choose another "
                        "--out or move the file away", file=out)  # fmt: skip
    if not out.parent.is_dir():
        raise SpecError("the folder of --out does not exist; create it first", file=out)


def inspect(path: Path, target: str | None, group: str | None, need_target: bool) -> Facts:
    """The table's facts; DataError naming the column when an option names none of it."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.data.table import read_table

    df = read_table(path)
    if df.empty:  # a header alone: nothing to inspect or split (it crashed in the split)
        raise DataError("the table has no rows; init inspects rows to write the spec",
                        file=path)  # fmt: skip
    columns = [str(c) for c in df.columns]
    for option, name in (("--target", target), ("--group", group)):
        if name is not None and name not in columns:
            raise DataError(f"{option} names no column of the table; it has: "
                            f"{', '.join(columns[:20])}", file=path, column=name)  # fmt: skip
    facts = Facts(path, len(df), columns)
    facts.target = target if target is not None else guess(columns, TARGET_NAMES)
    if facts.target is None and need_target:
        raise DataError("no column looks like the label; name it with --target COL (or give "
                        "--program: a program computing its own metrics)", file=path)  # fmt: skip
    facts.id = guess_id(df, facts.target)
    facts.group_candidates = group_candidates(df, {facts.id, facts.target})
    facts.group = group if group is not None else guess(facts.group_candidates, GROUP_NAMES)
    describe(df, facts)
    return facts


def guess(columns: list[str], names: tuple[str, ...]) -> str | None:
    """The first column named like one of `names` (any case, `_id` suffix allowed)."""
    for name in names:
        for column in columns:
            if column.lower() in (name, f"{name}_id", f"{name}id"):
                return column
    return None


def guess_id(df: pd.DataFrame, target: str | None) -> str | None:
    """A column unique on every row: one named like an id, else the first text one."""
    unique = [str(c) for c in df.columns
              if c != target and df[c].notna().all() and df[c].is_unique]  # fmt: skip
    named = guess(unique, ID_NAMES) or next((c for c in unique if c.lower().endswith("_id")), None)
    if named is not None:
        return named
    return next((c for c in unique if is_text(df[c])), None)


def is_text(values: pd.Series) -> bool:
    return values.dtype.kind in "OSU" or str(values.dtype).startswith("str")


def group_candidates(df: pd.DataFrame, roles: set[str | None]) -> list[str]:
    """Columns whose values repeat (several rows each, several values), text or named
    like a group: the unit of independence (a subject's rows must share a fold)."""
    found = []
    for column in map(str, df.columns):
        values = df[column]
        named = guess([column], GROUP_NAMES) is not None and values.dtype.kind in "iu"
        if column in roles or not (is_text(values) or named) or values.isna().any():
            continue
        distinct = values.nunique()
        if 2 <= distinct < len(values):  # some value is on several rows
            found.append(column)
    return found


def describe(df: pd.DataFrame, facts: Facts) -> None:
    """Task kind (the planner's rule), features (its default), split strategy and folds."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.spec.table import read_table_info
    from foldrun.split.assign import choose

    roles = {c for c in (facts.id, facts.target, facts.group) if c is not None}
    info = read_table_info(facts.table, (facts.target,) if facts.target else ())
    facts.features = info.default_features(roles)
    facts.ignored = [c for c in facts.columns if c not in roles and c not in info.numeric]
    if facts.target is not None:
        facts.task = info.infer_task(facts.target)
    choice = choose(df, "auto", facts.target, facts.group, [], None, None)
    facts.strategy, facts.reason = choice.strategy, choice.reason
    if facts.task == "classification":
        facts.classes = {str(k): int(v) for k, v in df[facts.target].value_counts().items()}
    facts.folds = fold_count(df, facts)


def fold_count(df: pd.DataFrame, facts: Facts) -> int:
    """5, or fewer when there are fewer groups (rows) or members of the rarest class."""
    units = df[facts.group].nunique() if facts.group else len(df)
    if facts.classes:
        column = df[facts.target]
        per_class = (df[facts.group].groupby(column).nunique() if facts.group
                     else column.value_counts())  # fmt: skip
        units = min(units, int(per_class.min()))
    if units < 2:
        what = "groups" if facts.group else "rows"
        raise DataError(f"cross-validation needs at least 2 {what} (of each class); the "
                        f"table has {units}", file=facts.table)  # fmt: skip
    return min(MAX_FOLDS, units)


def primary_metric(facts: Facts, command_model: bool) -> tuple[str | None, str]:
    """The metric the report ranks on, and why (a program may write labels only)."""
    if facts.task is None:
        return None, "no target: set it to a metric your program writes (e.g. \"test/loss\")"
    if facts.task == "regression":
        return "rmse", "a numeric target: root mean squared error, in the target's unit"
    if facts.task == "multilabel":
        return "macro_f1", "several 0/1 targets: F1 averaged over the labels"
    if command_model or len(facts.classes) > 2:
        return "balanced_accuracy", "the mean recall of the classes (a class imbalance " \
            "cannot inflate it)"
    rare = min(facts.classes.values()) / max(facts.rows, 1)
    if rare < RARE_SHARE:
        return "average_precision", f"the positive class is rare ({rare:.0%} of rows)"
    return "roc_auc", "two classes: ranking quality, independent of a threshold"


def program_model(commands: tuple[str, ...], table: Path) -> Program:
    """A command model: the program's options that name data, outputs or a seed become
    placeholders, the other `--name value` options become params."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.spec.model import PROGRAM_STAGES

    templates, params = {}, {}
    for stage, line in zip(PROGRAM_STAGES, commands, strict=False):
        try:
            argv = shlex.split(line)
        except ValueError as err:
            raise SpecError(f"--program cannot be split like a shell line: {err}",
                            key="--program") from None  # fmt: skip
        if not argv:
            raise SpecError("--program is empty; give the command that trains", key="--program")
        templates[stage], found = template_of(argv, table)
        params.update(found)
    return Program(program_name(shlex.split(commands[0])), templates, params)


def template_of(argv: list[str], table: Path) -> tuple[str, dict[str, Any]]:
    """The command as a template, and the params its options gave."""
    out, params, i = [], {}, 0
    while i < len(argv):
        token = argv[i]
        name, eq, value = token.partition("=")
        has_value = eq or (i + 1 < len(argv) and not argv[i + 1].startswith("-"))
        if token.startswith("--") and has_value:
            value = value if eq else argv[i + 1]
            i += 1 if eq else 2
            piece, found = option_piece(name, value)
            out.append(f"{name}{'=' if eq else ' '}{piece}")
            params.update(found)
            continue
        same = token in (str(table), table.name)
        out.append("{train}" if same else shlex.quote(token).replace("{", "{{").replace("}", "}}"))
        i += 1
    return whole_table(argv, " ".join(out)), params


def whole_table(argv: list[str], template: str) -> str:
    """A program given the data table under a generic name (`--csv-file`, `--data`) and a
    fold number picks the fold's rows itself: it gets {fold_table} (every row, with `fold`
    and `subset` columns) instead of the training rows."""
    named_train = any("train" in re.split(r"[-_=]+", a.lstrip("-").lower()) for a in argv)
    if "{fold}" in template and not named_train:
        return template.replace("{train}", "{fold_table}")
    return template


def option_piece(option: str, value: str) -> tuple[str, dict[str, Any]]:
    """`--epochs 10` -> ("{epochs}", {"epochs": 10}); `--val-csv v.csv` -> ("{val}", {})."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.core.templates import BUILTIN_PLACEHOLDERS

    words = set(re.split(r"[-_]+", option.lstrip("-").lower()))
    for names, role in ROLE_WORDS:
        if words & names:
            return "{" + role + "}", {}
    param = re.sub(r"\W+", "_", option.lstrip("-")).strip("_").lower()
    if not param or param[0].isdigit() or param in BUILTIN_PLACEHOLDERS:
        return shlex.quote(value).replace("{", "{{").replace("}", "}}"), {}
    return "{" + param + "}", {param: parsed(value)}


def parsed(value: str) -> Any:
    """A command-line value as the TOML value it stands for: a number, a switch, text."""
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def program_name(argv: list[str]) -> str:
    """The model's name: the script's name (`python train.py` -> train), else 'program'."""
    script = next((a for a in argv[1:] if a.endswith(".py")), None) or (
        argv[2] if len(argv) > 2 and argv[1] == "-m" else argv[0]
    )
    base = script.rsplit("/", 1)[-1].removesuffix(".py").split(".")[-1]  # src.train -> train
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", base).strip("_")
    return name or "program"


def render(facts: Facts, program: Program | None, out: Path) -> str:
    """The commented TOML text."""
    metric, why = primary_metric(facts, program is not None)
    lines = header(facts, out) + data_table(facts, out) + split_table(facts, program)
    lines += model_tables(facts, program)
    lines += ["", "[report]"]
    key = f"primary_metric = {toml(metric)}" if metric else '# primary_metric = "..."'
    lines.append(f"{key}  # {why}")
    return "\n".join(lines) + "\n"


def header(facts: Facts, out: Path) -> list[str]:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", facts.table.stem).strip(".-") or "experiment"
    return [
        f"# Written by `foldrun init` from {facts.table.name}: {facts.rows} rows, "
        f"{len(facts.columns)} columns. Edit freely; then:",
        f"#   foldrun check {out.name}    foldrun run {out.name} -j 4    foldrun report {out.name}",
        "# Every key: `foldrun schema` (JSON Schema; editors complete the file with it) and "
        "the user guide.",
        f"name = {toml(name)}",
    ]


def data_table(facts: Facts, out: Path) -> list[str]:
    table = Path(os.path.relpath(facts.table.resolve(), out.resolve().parent)).as_posix()
    lines = ["", "[data]", f"table = {toml(table)}"]
    lines += [f"id = {toml(facts.id)}  # unique on every row"] if facts.id else [
        "# id: none unique on every row was found; the row number is the id"]
    if facts.target is not None:
        lines += [f"target = {toml(facts.target)}", f"task = {toml(facts.task)}"
                  f"  # {task_note(facts)}"]  # fmt: skip
    else:
        lines += ["# target: none (label-free); the program writes its own metrics"]
    lines += group_lines(facts)
    shown = ", ".join(facts.features[:8]) + (", ..." if len(facts.features) > 8 else "")
    lines += [f"# features: every numeric column but id, target and group "
              f"({len(facts.features)}: {shown or 'none'})"]  # fmt: skip
    if facts.ignored:
        lines += [f"# not numeric, so no feature: {', '.join(facts.ignored[:8])}"]
    return lines


def task_note(facts: Facts) -> str:
    if facts.task == "classification":
        counts = ", ".join(f"{k}: {v}" for k, v in list(facts.classes.items())[:6])
        return f"{len(facts.classes)} classes ({counts})"
    return "a numeric target with many values"


def group_lines(facts: Facts) -> list[str]:
    others = [c for c in facts.group_candidates if c != facts.group]
    also = f"; other columns with repeated values: {', '.join(others[:6])}" if others else ""
    if facts.group is None:
        return [f"# group = \"...\"  # rows of one subject/patient must share a fold{also}"]
    return [f"group = {toml(facts.group)}  # its rows always share a fold (no leakage){also}"]


def split_table(facts: Facts, program: Program | None) -> list[str]:
    lines = ["", "[split]", f"strategy = {toml(facts.strategy)}  # {facts.reason}",
             f"folds = {facts.folds}", "seed = 0"]  # fmt: skip
    if program and any("{val}" in t for t in program.templates.values()):
        lines.append('val = "next-fold"  # your program takes a validation set: fold f+1\'s test')
    if facts.rows < 1000:
        lines.append(f"# repeats = 5  # {facts.rows} rows: repeated folds steady the estimate")
    return lines


def model_tables(facts: Facts, program: Program | None) -> list[str]:
    if program is not None:
        return command_model(program)
    if facts.task == "regression":
        pairs = [("ridge", "sklearn.linear_model:Ridge", "alpha"),
                 ("boosting", "sklearn.ensemble:HistGradientBoostingRegressor", None)]  # fmt: skip
    else:
        pairs = [("logreg", "sklearn.linear_model:LogisticRegression", "C"),
                 ("boosting", "sklearn.ensemble:HistGradientBoostingClassifier", None)]  # fmt: skip
    if facts.task == "multilabel":
        pairs = [("forest", "sklearn.ensemble:RandomForestClassifier", None)]
    return [line for name, ref, knob in pairs for line in estimator_model(name, ref, knob)]


def estimator_model(name: str, ref: str, knob: str | None) -> list[str]:
    lines = ["", f"[models.{name}]", f"estimator = {toml(ref)}"]
    if knob is None:
        return [*lines, "# a strong default on tabular data; missing values are handled"]
    lines[1] += "  # a linear baseline, on imputed and standardised features"
    lines += ["preprocess = [\"sklearn.impute:SimpleImputer\", "
              "\"sklearn.preprocessing:StandardScaler\"]"]  # fmt: skip
    lines += ["params = { max_iter = 1000 }"] if knob == "C" else []
    return [*lines, f"# grid = {{ {knob} = [0.1, 1.0, 10.0] }}  # one variant per value"]


def command_model(program: Program) -> list[str]:
    lines = ["", f"[models.{program.name}]",
             "# your program, run once per fold in the spec's folder: {train} {val} {test} "
             "are CSV files of the fold's rows, {out} its task folder"]  # fmt: skip
    for stage, template in program.templates.items():
        lines.append(f"{stage} = {toml(template)}")
    if program.params:
        lines.append(f"params = {toml(program.params)}  # a list here instead is a grid: "
                     "one variant per value")  # fmt: skip
    if "predict" not in program.templates and not any(
        "{predictions}" in t for t in program.templates.values()
    ):
        lines.append("# the program scores itself: it writes {out}/metrics.json, e.g. "
                     '{"test/accuracy": 0.9}, or predictions to a {predictions} path')  # fmt: skip
    return [*lines,
            '# its own files: predictions = { file = "{out}/preds.csv", id = "id", proba = "p" }'
            ", metrics = [{ file = \"{out}/scores.json\" }]",
            '# its own column names in the manifests: manifests = { rename = { label = "y" } }']


def toml(value: Any) -> str:
    """A TOML value (JSON's string escapes are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        keys = [k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k) for k in value]
        return "{ " + ", ".join(f"{k} = {toml(v)}" for k, v in zip(keys, value.values(),
                                                                  strict=True)) + " }"  # fmt: skip
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    return json.dumps(value, ensure_ascii=False)


def summary(facts: Facts, program: Program | None, out: Path) -> str:
    what = f"{facts.task} of {facts.target!r}" if facts.target else "label-free"
    models = program.name if program else "scikit-learn estimators"
    return (f"wrote {out}: {what}, {facts.rows} rows, {facts.strategy} split in "
            f"{facts.folds} folds ({facts.reason}), models: {models}\n"
            f"next: foldrun check {out}")  # fmt: skip
