"""Command models: the stage's template, rendered with shell-quoted values, run by bash.

`{out}` is the fold's train-task folder (the temp folder while train runs), `{predictions}`
is `<this task's temp folder>/predictions.csv`; a predictions.csv or .parquet written there
becomes predictions.parquet. stdout and stderr go to train.log, after the command line.
With external sets, predict and a user's evaluate run once more per set (`{test}` = the
set's table, `{external}` = its name).
"""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from foldrun.core import audit
from foldrun.core.task import PlannedTask
from foldrun.core.templates import render
from foldrun.errors import FoldrunError, RunError
from foldrun.layout import TaskFiles
from foldrun.run.adapters import inputs as program_inputs
from foldrun.run.program_files import MetricsFileError, file_path, read_sources

if TYPE_CHECKING:
    import pandas as pd

    from foldrun.run.worker import ExecContext

IN_PROCESS = False


def values(task: PlannedTask, tmp: Path) -> dict[str, object]:
    """Every placeholder of a command template: params and variant values, then foldrun's own."""
    inputs = task.recipe.inputs
    ups = task.recipe.upstream
    out = tmp if task.stage in ("train", "refit") else Path(ups.get("train", tmp))
    found: dict[str, object] = dict(task.recipe.params)
    found.update(
        train=inputs.get("train") or "",
        val=inputs.get("val") or "",
        test=inputs.get("test") or inputs.get("holdout") or "",
        holdout=inputs.get("holdout") or "",
        out=str(out),
        task_dir=str(tmp),  # this task's folder (an evaluate's files beside its metrics.json)
        predictions=str(_predictions_path(task, tmp, ups)),
        fold=task.fold,
        fold1=task.fold + 1 if task.fold >= 0 else "all",  # 1-based, as many scripts name folds
        repeat=task.repeat,
        model=task.model,
        variant=task.variant,
        seed=task.recipe.seed,
        dataset=task.dataset,
        external="",  # the external set's name while predicting one
    )

    found.update(program_inputs.paths(task, tmp, found))  # in the program's shape, if declared
    return found


def _predictions_path(task: PlannedTask, tmp: Path, ups: dict[str, str]) -> Path:
    """Where this step writes predictions; for a user evaluate, the file it scores: the
    predict step's (or, for a train-only model, the train step's) predictions.parquet."""
    if task.stage != "evaluate":
        return tmp / "predictions.csv"
    scored = ups.get("predict") or ups.get("train") or str(tmp)
    return Path(scored) / TaskFiles.PREDICTIONS


def rendered(task: PlannedTask, tmp: Path) -> str | None:
    template = task.recipe.command
    if not template:
        return None

    return render(template, values(task, tmp))


def describe(task: PlannedTask, ctx: ExecContext) -> str:
    return rendered(task, ctx.tmp) or f"(no {task.stage} command: nothing to run)"


def _convert_predictions(task: PlannedTask, tmp: Path, scored: bool = False) -> pd.DataFrame | None:
    """predictions.csv|parquet written by the command (or the file `[models.X.predictions]`
    declares, in the program's columns) -> predictions.parquet with `subset`; returned.
    `scored`: left to _score_here to write once, with y_true (issue 26: it was written,
    read back and written again)."""
    # lazy: pandas (adapters/common), which a command task's worker needs only here
    from foldrun.run.adapters import common

    defaults = [tmp / TaskFiles.PREDICTIONS, tmp / "predictions.csv"]
    declared = declared_predictions_file(task, values(task, tmp))
    found = [p for p in (defaults if declared in (None, *defaults) else [declared]) if p.is_file()]
    if not found:
        return None
    if declared is None:
        preds = common.read_predictions_file(tmp)
    else:
        preds = read_program_predictions(task, found[0])
    if preds is None or "id" not in preds:
        raise ValueError("the predictions file must have an `id` column")
    if problem := common.values_problem(preds, _program_columns(task)):  # before any scoring
        raise ValueError(f"the predictions file {found[0].name} {problem}")
    preds = common.assign_subsets(task, preds)
    if not scored:
        common.write_predictions(preds, tmp)
    (tmp / "predictions.csv").unlink(missing_ok=True)
    return preds


def _program_columns(task: PlannedTask) -> dict[str, str]:
    """foldrun's prediction columns -> the program's names for them (errors name the latter)."""
    if task.recipe.predictions is None:
        return {}
    renames = _renames(json.dumps(task.recipe.predictions, sort_keys=True))
    return {ours: theirs for theirs, ours in renames.items()}


@functools.lru_cache(maxsize=16)
def _renames(declared: str) -> dict[str, str]:
    """`PredictionsSpec.renames` of a model's declared table (its JSON): validated once per
    process, not twice a task (pydantic: ~2 ms a call; issue 26). Callers copy it."""
    # lazy: pydantic (spec/outputs), only for a declared predictions table
    from foldrun.spec.outputs import PredictionsSpec

    return PredictionsSpec.model_validate(json.loads(declared)).renames()


def declared_predictions_file(task: PlannedTask, found: dict[str, object]) -> Path | None:
    """The file `[models.X.predictions] file` names (None when the model declares none)."""
    declared = task.recipe.predictions
    if declared is None:
        return None

    base = Path(task.recipe.spec_path or ".").parent
    return file_path(declared.get("file", "{predictions}"), found, base)


def read_program_predictions(task: PlannedTask, path: Path) -> pd.DataFrame:
    """A predictions file the program wrote (CSV, TSV or Parquet by extension), in
    foldrun's columns (ids as text)."""
    import pandas as pd

    id_col = (task.recipe.predictions or {}).get("id", "id")
    if path.suffix.lower() in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
    else:
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        frame = pd.read_csv(path, sep=sep, dtype={id_col: str})
    return _in_contract(task, frame, path)


def _in_contract(task: PlannedTask, frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The program's columns renamed to foldrun's (`[models.X.predictions]`: id, pred,
    score, proba), the others dropped; as they are when the model declares none."""
    declared = task.recipe.predictions
    if declared is None:
        return frame
    renames = {declared.get("id", "id"): "id", **_renames(json.dumps(declared, sort_keys=True))}
    missing = [c for c in renames if c not in frame.columns]
    if missing:
        columns = ", ".join(map(str, frame.columns))
        raise RunError(
            f"the predictions file {path} has no column {missing[0]!r} (columns: {columns}); "
            f"fix [models.{task.model}.predictions]"
        )
    kept = [*renames, *(["subset"] if "subset" in frame.columns else [])]
    names = [renames.get(c, c) for c in kept]
    if not frame.columns.is_unique or len(set(names)) < len(names) or len(set(kept)) < len(kept):
        return frame[kept].rename(columns=renames)
    # the frame `frame[kept].rename(...)` gives, made from its columns' arrays: ~0.5 ms
    # against ~2 (issue 26); tests/run/test_command_predictions.py compares them
    import pandas as pd

    return pd.DataFrame({name: frame[c].array for name, c in zip(names, kept, strict=True)},
                        index=frame.index)  # fmt: skip


def run(task: PlannedTask, ctx: ExecContext) -> int:
    """The stage's program, then the metrics files it declares read into metrics.json (a
    user evaluate run once per external set reads them after each run)."""
    code = _run_program(task, ctx)
    if code != 0 or not task.recipe.metrics or _per_set(task):
        return code
    return read_declared(task, ctx, values(task, ctx.tmp))


def _per_set(task: PlannedTask) -> bool:
    """A user evaluate that runs once on the fold's rows and once per external set."""
    return task.stage == "evaluate" and bool(task.external_sets()) and bool(task.recipe.command)


def read_declared(task: PlannedTask, ctx: ExecContext, found: dict[str, object]) -> int:
    """The declared metrics files, their paths rendered with `found`, into metrics.json."""
    base = Path(task.recipe.spec_path or ".").parent
    try:
        read = read_sources(task.recipe.metrics, found, base)
    except MetricsFileError as err:
        return ctx.fail(str(err))
    return _merge_declared(task, ctx, read)


def _merge_declared(task: PlannedTask, ctx: ExecContext, found: dict[str, object]) -> int:
    """The declared files' metrics into the task's metrics.json (their keys win over the
    program's own file, whose other keys stay)."""
    path = ctx.tmp / TaskFiles.METRICS
    try:
        current = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError) as err:
        return ctx.fail(f"the {task.stage} step's metrics.json does not read back ({err})")
    if not isinstance(current, dict):
        return ctx.fail(f"the {task.stage} step's metrics.json is not a JSON object")
    current.update(found)
    path.write_text(json.dumps(current, indent=1, allow_nan=True) + "\n")
    return 0


def _run_program(task: PlannedTask, ctx: ExecContext) -> int:
    try:
        lines = program_inputs.write(task, ctx.tmp, values(task, ctx.tmp))
    except (FoldrunError, OSError) as err:  # a template edited since the plan, a bad value
        return ctx.fail(f"the program's inputs could not be written: {err}")
    for line in lines:
        ctx.write_log(f"foldrun: {line}\n")  # the config file, in the log and audit.log
        audit.append(ctx.layout.audit_log, task.key, "command", line)
    if _per_set(task):
        return _evaluate_with_external(task, ctx)
    command = rendered(task, ctx.tmp)
    if command is None:
        return 0
    code = _child(task, ctx, command)
    if code != 0:
        ctx.write_log(f"\nfoldrun: command exited with code {code}\n")
        return code
    scored = task.stage == "refit" or task.recipe.scores  # no evaluate task scores them
    preds = None
    if task.stage != "evaluate":  # a program that predicts (a self-evaluating train may too)
        try:
            preds = _convert_predictions(task, ctx.tmp, bool(scored))
        except Exception as err:  # a bad predictions file fails the task
            return ctx.fail(str(err))
    if task.stage == "predict":
        for subset in task.external_sets():
            code = _predict_external(task, ctx, subset)
            if code != 0:
                return code
    if scored and preds is not None:
        return _score_here(task, ctx.tmp, preds)
    return 0


def _child(task: PlannedTask, ctx: ExecContext, command: str) -> int:
    return ctx.run_child(  # subprocess.run, keeping this command's own peak memory
        ["bash", "-c", command],
        stdin=subprocess.DEVNULL,
        stdout=ctx.log,
        stderr=subprocess.STDOUT,
        env=ctx.env,
        cwd=str(Path(task.recipe.spec_path or ".").parent),
    )


def _predict_external(task: PlannedTask, ctx: ExecContext, subset: str) -> int:
    """The predict template once more, `{test}` = the external table, `{external}` = its
    name, `{predictions}` = a file of its own; its rows join predictions.parquet."""
    # lazy: pandas (adapters/common), which a command task's worker needs only here
    import pandas as pd

    from foldrun.run.adapters import common

    name = subset.partition(":")[2]
    target = ctx.tmp / f"predictions.{name}.csv"
    code = _run_on_external(task, ctx, subset, target)
    if code != 0:
        return code
    found = {**values(task, ctx.tmp), "external": name, "predictions": str(target)}
    written = declared_predictions_file(task, found) or target
    if not written.is_file():
        return ctx.fail(f"the predict step wrote no predictions for external set {name} "
                        f"(its {{predictions}} file); it must write them")  # fmt: skip
    rows = read_program_predictions(task, written).assign(subset=subset)  # ids as text
    target.unlink(missing_ok=True)
    current = ctx.tmp / TaskFiles.PREDICTIONS
    parts = [pd.read_parquet(current)] if current.is_file() else []
    common.write_predictions(pd.concat([*parts, rows], ignore_index=True), ctx.tmp)
    return 0


def _run_on_external(task: PlannedTask, ctx: ExecContext, subset: str, predictions: Path) -> int:
    """The stage's template with `{test}` = the external table (a CSV, or Parquet as the
    fold manifests are), `{external}` = its name and `{predictions}` = `predictions`."""
    # lazy: pandas (adapters/common), which a command task's worker needs only here
    from foldrun.run.adapters import common

    name = subset.partition(":")[2]
    table = _as_manifest(task, common.input_path(task, subset), ctx.tmp, name)
    found = {**values(task, ctx.tmp), "test": str(table), "external": name,
             "predictions": str(predictions)}  # fmt: skip
    try:
        found.update(_config_again(task, ctx, found, name))
    except (FoldrunError, OSError) as err:
        return ctx.fail(f"the config file for external set {name} could not be written: {err}")
    command = render(str(task.recipe.command), found)
    ctx.write_log(f"$ {command}\n")
    try:
        code = _child(task, ctx, command)
    finally:
        if table.parent == ctx.tmp:
            table.unlink(missing_ok=True)
    if code != 0:
        ctx.write_log(f"\nfoldrun: command exited with code {code} on external set {name}\n")
    return code


def _config_again(
    task: PlannedTask, ctx: ExecContext, found: dict[str, object], name: str = ""
) -> dict[str, object]:
    """A program driven by a config file reads `{test}`, `{predictions}` and `{external}`
    there, not on its command line: the file is rendered again with this run's values, for
    an external set beside the fold's (`predict.benchmark.cfg`, which `{config}` then
    names), for a user evaluate's fold rows in place (the predictions without the sets')."""
    config = (task.recipe.program_inputs or {}).get("config")
    if config is None:
        return {}

    own = Path(str(found["config"]))
    path = own.with_name(f"{own.stem}.{name}{own.suffix}") if name else own
    line = program_inputs.write_config(task, config, {**found, "config": str(path)}, ctx.tmp)
    ctx.write_log(f"foldrun: {line}\n")
    audit.append(ctx.layout.audit_log, task.key, "command", line)
    return {"config": str(path)}


def _evaluate_with_external(task: PlannedTask, ctx: ExecContext) -> int:
    """A user's evaluate when predict also predicted external sets: the program scores the
    fold's own rows (the external rows left out, so they never reach its CV scores), then
    each set apart (`external:<name>/<metric>`). The set's rows with y_true are kept in
    predictions.parquet, scored by foldrun too, so the fold ensemble has its fold models
    to compare with (the program's own keys win)."""
    # lazy: pandas (adapters/common), which a command task's worker needs only here
    import pandas as pd

    from foldrun.run.adapters import common

    source = Path(str(values(task, ctx.tmp)["predictions"]))
    preds = pd.read_parquet(source) if source.is_file() else pd.DataFrame({"subset": []})
    external = preds["subset"].astype(str).isin(task.external_sets()).to_numpy()
    own = ctx.tmp / ".predictions.folds.parquet"
    code = _run_with_predictions(task, ctx, preds[~external], own, None)
    for subset in task.external_sets():
        if code != 0:
            return code
        copy = ctx.tmp / f".predictions.{subset.partition(':')[2]}.parquet"
        code = _run_with_predictions(task, ctx, preds[preds["subset"] == subset], copy, subset)
    if code != 0 or not external.any():
        return code
    # a set without the target column (check allows it with a user evaluate) is scored by
    # the program alone: its rows are kept without y_true
    labelled = [s for s in task.external_sets() if common.has_labels(task, s)]
    known = preds["subset"].astype(str).isin(labelled).to_numpy()
    scored = common.with_truth(task, preds[known])
    kept = [part for part in (scored, preds[external & ~known]) if len(part)]
    common.write_predictions(pd.concat(kept) if len(kept) > 1 else kept[0], ctx.tmp)
    mine = common.read_metrics(ctx.tmp / TaskFiles.METRICS)
    ours = common.subset_metrics(task, scored)
    common.merge_metrics(ctx.tmp, {k: v for k, v in ours.items() if k not in mine})
    return 0


def _run_with_predictions(
    task: PlannedTask, ctx: ExecContext, rows: pd.DataFrame, copy: Path, subset: str | None
) -> int:
    """The evaluate template on `rows` (written to `copy` for the time of the command); on
    an external set its metrics.json keys become `external:<name>/<metric>` beside the
    fold's own."""
    # lazy: pandas (adapters/common), which a command task's worker needs only here
    from foldrun.run.adapters import common

    metrics = ctx.tmp / TaskFiles.METRICS
    before = common.read_metrics(metrics) if metrics.is_file() else {}
    metrics.unlink(missing_ok=True)
    rows.reset_index(drop=True).to_parquet(copy, index=False)
    try:
        if subset is None:
            found = {**values(task, ctx.tmp), "predictions": str(copy)}
            found.update(_config_again(task, ctx, found))
            command = render(str(task.recipe.command), found)
            ctx.write_log(f"$ {command}\n")
            code = _child(task, ctx, command)
        else:
            code = _run_on_external(task, ctx, subset, copy)
    finally:
        copy.unlink(missing_ok=True)
    name = subset.partition(":")[2] if subset else ""
    if code == 0 and task.recipe.metrics:  # its declared files, as this run wrote them
        code = read_declared(task, ctx, {**values(task, ctx.tmp), "external": name})
    if code != 0:
        return code
    if not metrics.is_file():
        where = f" on external set {name}" if subset else ""
        return ctx.fail(f"the evaluate step wrote no metrics.json{where}; it must write one")
    scored = common.read_metrics(metrics)  # a list or a string "0.75": one line
    if subset is not None:
        scored = {f"{subset}/{_metric_name(k)}": v for k, v in scored.items()}
    metrics.unlink()
    common.merge_metrics(ctx.tmp, {**before, **scored})
    return 0


def _metric_name(key: str) -> str:
    """`test/f1` (or a plain `f1`) scored on an external set -> `f1`."""
    # lazy: pandas (adapters/common), which a command task's worker needs only here
    from foldrun.run.adapters import common

    prefix, _, name = key.partition("/")
    return name if name and prefix in common.SUBSETS else key


def _as_manifest(task: PlannedTask, path: Path | None, tmp: Path, name: str) -> Path:
    """The external table as the program reads its fold manifests: a CSV, or a Parquet
    file with `[split] manifests = "parquet"`, with the model's own columns and names
    (`features`, `manifests.rename`); a set in another format or shape is copied for the
    time of the command, ids as text."""
    # lazy: pandas (adapters/common), which a command task's worker needs only here
    from foldrun.run.adapters import common

    assert path is not None  # planned with every external set's table
    train = common.input_path(task, "train")
    suffix = ".parquet" if train is not None and train.suffix == ".parquet" else ".csv"
    reshaped = program_inputs.reshaped(task)
    if path.suffix.lower() == suffix and not reshaped:
        return path
    copy, frame = tmp / f".external.{name}{suffix}", common.read_manifest(path, task)
    frame = program_inputs.shaped(frame, task) if reshaped else frame
    if suffix == ".parquet":
        frame.to_parquet(copy, index=False)
    else:
        frame.to_csv(copy, index=False)
    return copy


def _score_here(task: PlannedTask, tmp: Path, preds: pd.DataFrame) -> int:
    """The step's own predictions (as converted, not yet written) scored in its task (a
    refit's holdout, a train-only model's fold): y_true joined, predictions.parquet written,
    foldrun's metrics over the program's keys of that name."""
    # lazy: pandas (adapters/common), which a command task's worker needs only here
    from foldrun.run.adapters import common

    scored = common.with_truth(task, preds)
    common.write_predictions(scored, tmp)
    common.merge_metrics(tmp, common.subset_metrics(task, scored))
    return 0
