"""One owner per fact (docs/ARCHITECTURE.md, issue 23), checked on the source's AST: the
names of a run folder and of a split folder are joined into paths only in layout.py, a
task key's fold parts (`fold_00`, `repeat_01`, `inner_02`) and its `[dataset/]model/
variant/<fold dir>` are formatted and parsed only in core/taskid.py, and the problem kind
is decided by one rule (spec/table.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import foldrun
from foldrun.layout import RunLayout, SplitLayout

SRC = Path(foldrun.__file__).parent

# the folders and files of a run folder and of a split folder (layout.py owns them)
RUN_NAMES = {"tasks", "audit.log", ".foldrun", "worker.log", "report", "results", "split",
             "slurm", "lock", "datasets", "checkpoints", "split.json", "split_from.json",
             "data.json"}  # fmt: skip
# assignments.json is also the name of a program's own copy in its task folder
# (run/adapters/inputs.py, {assignments}): a file of the task, not of the split
SPLIT_NAMES = set(SplitLayout.FILES) - {"assignments.json"}
# a fold dir's part written out: `fold_`, `repeat_`, `inner_` before a number, a glob or a
# regex, at a path's start or after a `/` (not `fold_column` or `repeat_std`)
FOLD_PART = re.compile(r"(?:^|/|\^|\*)(fold|repeat|inner)_(?=$|\d|\*|\[|\(|\\d|\{)")
# what a key's parts are called where code holds them (a dataset: with its model)
KEY_PARTS = re.compile(r"(^|\.)(fold_dir|parent_key|model_variant|stage)$")
DATASET, MODEL = re.compile(r"(^|\.)dataset$"), re.compile(r"(^|\.)model$")


def _trees() -> dict[str, ast.Module]:
    return {str(p.relative_to(SRC)): ast.parse(p.read_text(encoding="utf-8"))
            for p in sorted(SRC.rglob("*.py"))}  # fmt: skip


TREES = _trees()


def joined_names(tree: ast.Module, names: set[str]) -> list[int]:
    """Lines where a path is joined with one of `names`: `x / "tasks"`, and
    `os.path.join(x, "tasks")`."""
    found = []
    for node in ast.walk(tree):
        parts: list[ast.expr] = []
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            parts = [node.right]
        elif isinstance(node, ast.Call) and ast.unparse(node.func) == "os.path.join":
            parts = node.args[1:]
        if any(isinstance(p, ast.Constant) and p.value in names for p in parts):
            found.append(node.lineno)
    return found


def _docstrings(tree: ast.Module) -> set[int]:
    return {id(n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}  # fmt: skip


def fold_parts(tree: ast.Module) -> list[int]:
    """Lines where a fold dir's part is written out (formatted, globbed, matched)."""
    docs = _docstrings(tree)
    return [n.lineno for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
            and FOLD_PART.search(n.value)]  # fmt: skip


def key_formats(tree: ast.Module) -> list[int]:
    """Lines where an f-string joins a key's parts with `/` and nothing else
    (`f"{dataset}/{model}/..."`, `f"{parent_key}/{fold_dir}"`, `f"{...}/{stage}"`; a
    message that names them in words is no key)."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.JoinedStr):
            continue
        held = [ast.unparse(v.value) for v in node.values if isinstance(v, ast.FormattedValue)]
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        parts = any(KEY_PARTS.search(n) for n in held) or (
            any(DATASET.search(n) for n in held) and any(MODEL.search(n) for n in held))
        if text and set(text) == {"/"} and parts:
            found.append(node.lineno)
    return found


def offenders(check, owner: str, *args) -> list[str]:
    return [f"{path}:{line}" for path, tree in TREES.items() if path != owner
            for line in check(tree, *args)]  # fmt: skip


def test_only_layout_joins_the_run_and_split_folders_names() -> None:
    """Every path of a run folder and of a split folder comes from RunLayout / SplitLayout
    (the local backend, the runner, the MLflow export and the report joined `audit.log`,
    `.foldrun/worker.log`, `tasks/`, `report/` themselves; plan/split.py and
    split/store.py both named the split's files)."""
    assert offenders(joined_names, "layout.py", RUN_NAMES | SPLIT_NAMES) == []


# a run folder's name inside a longer text: a shell script's "$RUN_DIR/audit.log"
IN_TEXT = re.compile(r"/(tasks|audit\.log|\.foldrun|worker\.log|checkpoints)(?![\w.-])")


def paths_in_text(tree: ast.Module) -> list[int]:
    """Lines of a string (not a docstring) that spells a run folder path out:
    `"$RUN_DIR/.foldrun/checkpoints/$KEY"`, `f"{run}/tasks"`."""
    docs = _docstrings(tree)
    return [n.lineno for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
            and any(IN_TEXT.search(line) for line in n.value.splitlines())]  # fmt: skip


def test_no_script_spells_a_run_folder_path() -> None:
    """The SLURM job script gets the audit log, tasks/, .foldrun/ and the checkpoints from
    RunLayout (it wrote "$RUN_DIR/audit.log" ... in its bash)."""
    assert offenders(paths_in_text, "layout.py") == []
    probe = ast.parse('BODY = """\nrecord "$RUN_DIR/audit.log"\n"""\nx = f"{run}/tasks"\n')
    assert paths_in_text(probe) == [1, 4]


def test_only_taskid_writes_a_fold_dirs_parts() -> None:
    """`fold_00`, `repeat_01/fold_00`, `fold_00/inner_02`: formatted, globbed and parsed in
    core/taskid.py alone (plan/split.py had its own regexes, results/collect.py a
    `startswith("repeat_")`, results/nested.py its globs)."""
    assert offenders(fold_parts, "core/taskid.py") == []


def test_only_taskid_formats_a_key() -> None:
    """A key (`[dataset/]model/variant/<fold dir>/stage`) or its head is formatted in
    core/taskid.py alone (plan/graph.py prefixed the dataset, track/mlflow.py formatted a
    fold's key)."""
    assert offenders(key_formats, "core/taskid.py") == []


@pytest.mark.parametrize(
    ("source", "check", "args"),
    [
        ('p = run / "tasks" / key\n', joined_names, (RUN_NAMES,)),
        ('p = os.path.join(run, ".foldrun", "worker.log")\n', joined_names, (RUN_NAMES,)),
        ('p = split / "details.json"\n', joined_names, (SPLIT_NAMES,)),
        ('p = folder / f"fold_{i:02d}"\n', fold_parts, ()),
        ('ok = name.startswith("repeat_")\n', fold_parts, ()),
        ('PAT = re.compile(r"^inner_(\\d+)$")\n', fold_parts, ()),
        ('g = root.glob("*/*/repeat_*/fold_*")\n', fold_parts, ()),
        ('k = f"{t.dataset}/{t.model}/{t.variant}"\n', key_formats, ()),
        ('k = f"{unit.parent_key}/{unit.fold_dir}"\n', key_formats, ()),
    ],
)
def test_the_guards_see_what_they_guard(source: str, check, args) -> None:
    assert check(ast.parse(source), *args) == [1]


def test_the_guards_leave_other_names_alone() -> None:
    source = ('a = df["fold_column"]; b = "repeat_std"; c = out / "fold_summary.csv"\n'
              'd = f"{model}/{variant}"; e = tmp / "predictions.parquet"\n'
              'f = f"{t.model}/{t.stage}: {n} task(s)"; g = f"{run_name}/{s.dataset}"\n')
    tree = ast.parse(source)
    assert joined_names(tree, RUN_NAMES | SPLIT_NAMES) == []
    assert fold_parts(tree) == key_formats(tree) == []


def test_the_split_layout_names_what_the_split_writes(tmp_path: Path) -> None:
    """SplitLayout's paths are the files `foldrun split` writes, and planning finds them."""
    from foldrun.plan.split import scan_split
    from foldrun.split import make_folds

    table = pd.DataFrame({"id": range(40), "y": [0, 1] * 20, "x": np.arange(40.0)})
    out = tmp_path / "split"
    make_folds(table, id="id", target="y", folds=4, repeats=2, inner=2, seed=0).save(out)
    split = SplitLayout(out)
    for path in (split.details, split.assignments_csv, split.assignments_json,
                 split.folds_parquet, split.manifest(split.fold_dir(3, 1, 2), "test", "csv"),
                 split.manifest(split.inner_dir(split.fold_dir(0, 0, 2), 1), "train", "csv")):
        assert path.is_file(), path  # fmt: skip
    assert split.repeats() == [0, 1] and [f for f, _ in split.folds_in(1)] == [0, 1, 2, 3]
    assert split.manifest_format() == "csv" and split.find_holdout() is None
    found = scan_split(out)
    assert (found.n_repeats, len(found.folds), len(found.folds[0].inner)) == (2, 8, 2)
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    owned = SplitLayout.owned_patterns()
    assert all(any(Path(f).match(p) and f.count("/") == p.count("/") for p in owned)
               for f in on_disk)  # fmt: skip
    assert RunLayout(tmp_path / "run").split == SplitLayout(tmp_path / "run" / "split")


def test_the_problem_kind_has_one_rule() -> None:
    """The kind of a target inferred from the data table (spec/table.py, planning) and from
    the predictions (results/collect.py, a run without a spec) is one rule: regression for
    a numeric target with non-integer values or more than 20 distinct values."""
    from foldrun.results.collect import infer_task
    from foldrun.spec.table import TableInfo

    cases = {"few integers": np.arange(100) % 20, "many integers": np.arange(100) % 21,
             "fractions": np.arange(100) / 4, "integral floats": (np.arange(100) % 3) * 1.0}
    for name, y in cases.items():  # fmt: skip
        info = TableInfo(["y"], {"y"}, {"y": {str(v) for v in y}})
        assert infer_task(pd.DataFrame({"y_true": y})) == info.infer_task("y"), name


def test_the_predictions_kind_asks_the_data_tables_rule(monkeypatch) -> None:
    """results/collect.py decides no kind of its own: the threshold moved in spec/table.py
    moves it too."""
    from foldrun.results.collect import infer_task
    from foldrun.spec import table

    y = pd.DataFrame({"y_true": np.arange(100) % 10})
    assert infer_task(y) == "classification"
    monkeypatch.setattr(table, "MANY_VALUES", 5)
    assert infer_task(y) == "regression"


def test_the_mlflow_defaults_have_one_owner() -> None:
    """The `[mlflow]` defaults are spec/mlflow.py's fields; the export asks them
    (track/mlflow.py wrote its own "sqlite:///mlruns.db", True and "")."""
    from foldrun.spec.mlflow import MlflowSpec

    defaults = {v for v in MlflowSpec().model_dump().values() if isinstance(v, str) and v}
    written = [f"{path}:{n.lineno}" for path, tree in TREES.items() if path != "spec/mlflow.py"
               for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in defaults]
    assert defaults and written == []


# every place that cuts text at "/" outside core/taskid.py, and what that text is: none of
# them is a task key (a new one fails until it is read here, or asks core/taskid.py)
NOT_KEYS = {
    ("cli/init.py", "program_name"): "a script's path",
    ("core/owned.py", "_allowed"): "a glob of an owned folder's files",
    ("core/state.py", "json_object"): "a metric key <subset>/<metric>",
    ("report/models.py", "folds_text"): "a count shown as 'n/m'",
    ("results/collect.py", "metric_rows"): "a metric key <subset>/<metric>",
    ("results/load.py", "_as_test_rows"): "a metric named <subset>/<metric>",
    ("results/metrics.py", "metric_range"): "a metric name",
    ("results/metrics.py", "greater_is_better"): "a metric name",
    ("results/metrics.py", "is_per_class"): "a metric name",
    ("run/adapters/command.py", "_metric_name"): "a metric key <subset>/<metric>",
    ("run/runner.py", "check_subset"): "--models model or model/variant, as the user wrote it",
    ("spec/inputs.py", "_file_in_the_task_folder"): "a file path of the spec",
    ("spec/inputs.py", "config_format"): "a config template's path",
    ("spec/model.py", "check_path"): "a path",
    ("spec/model.py", "_external_primary_names_a_set"): "external:<set>/<metric>",
    ("spec/outputs.py", "_suffix"): "a file path",
    ("spec/schema.py", "_deref"): "a JSON Schema $ref",
    ("track/mlflow.py", "mlflow_key"): "an MLflow name",
}


def slash_cuts(tree: ast.Module) -> set[tuple[str, int]]:
    """(function, line) of every `x.split("/")`, `rsplit`, `partition`, `rpartition`."""
    found = set()
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for n in ast.walk(fn):
            if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                    and n.func.attr in ("split", "rsplit", "partition", "rpartition")
                    and n.args and isinstance(n.args[0], ast.Constant)
                    and n.args[0].value == "/"):  # fmt: skip
                found.add((fn.name, n.lineno))
    return found


def test_only_taskid_parses_a_key() -> None:
    """A key is read by core/taskid.py (TaskId.parse, split_key, parse_variant_key): no
    other module cuts one at "/" (report/models.py took a missing task's model as the
    text before the first '/', track/mlflow.py a raced variant's)."""
    cuts = {(path, fn) for path, tree in TREES.items() if path != "core/taskid.py"
            for fn, _ in slash_cuts(tree)}  # fmt: skip
    assert sorted(cuts - NOT_KEYS.keys()) == []
    assert slash_cuts(ast.parse('def f(key):\n    return key.partition("/")\n')) == {("f", 2)}


def test_a_variant_key_reads_back() -> None:
    from foldrun.core.taskid import TaskId, parse_variant_key, variant_key

    for task in (TaskId("m", "v", 0, "train"), TaskId("m", "v", 1, "predict", dataset="d")):
        head = variant_key(task.model, task.variant, task.dataset)
        assert head == task.model_variant
        assert parse_variant_key(head) == (task.dataset, task.model, task.variant)
    assert parse_variant_key("m") is parse_variant_key("a/b/c/d") is parse_variant_key("m/") is None


# where a task folder's file is named outside layout.py and core/state.py: foldrun's code
# that runs as the user's program (the example's script writes its own metrics.json;
# foldrun.log imports the standard library only, to start fast in a shell script)
PROGRAM_SIDE = {"example/nearest_centroid.py", "track/log.py"}


def test_only_layout_names_a_task_folders_files() -> None:
    """DONE, metrics.json, predictions.parquet, train.log, cmd.txt ... are TaskFiles'
    (the worker, the adapters, results, status, the MLflow export and the report wrote
    them out, some in a dozen places)."""
    from foldrun.layout import TaskFiles

    owners = {"layout.py", "core/state.py", *PROGRAM_SIDE}
    named = [f"{path}:{n.lineno}" for path, tree in TREES.items() if path not in owners
             for n in ast.walk(tree)
             if isinstance(n, ast.Constant) and n.value in TaskFiles.NAMES]  # fmt: skip
    assert named == []
