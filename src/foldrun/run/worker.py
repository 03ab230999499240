"""Executes ONE task atomically: `python -m foldrun.run.worker --spec SPEC --task KEY`.

Used by every backend (the local one as a subprocess per task, so a crash never takes the
runner down; SLURM from its array script). Steps: find the planned task (re-plan from the
spec, or read the plan file the SLURM backend wrote for its array; the local backend
hands the task to its fork server instead), skip it if its DONE file holds
the same fingerprint, run it in its final folder (an earlier folder moved aside) with its
log and resource record, and commit (outputs durable, DONE by an atomic rename) or keep the
failure as `<stage>.failed` (see foldrun.core.state).

Only the standard library is imported at module level: a command task never pays for
pandas or scikit-learn.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pickle
import resource
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from foldrun.core import audit, state
from foldrun.core.files import file_sha256
from foldrun.core.task import PlannedTask
from foldrun.errors import RunError
from foldrun.layout import RunLayout, TaskFiles
from foldrun.plan.code import package_versions
from foldrun.run.adapters.command import values
from foldrun.run.program_files import file_path

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class ExecContext:
    """What an adapter needs to run a task: its temp folder, log, environment, GPUs."""

    tmp: Path
    log: IO[bytes]
    env: dict[str, str]
    gpus: tuple[int, ...]
    layout: RunLayout
    child_peak_mb: float | None = None
    reason: str = ""  # why the task failed, in one line, when foldrun knows it

    def fail(self, reason: str, code: int = 1) -> int:
        """Fail the task with `reason`: the last line of its log and of the audit line."""
        self.reason = reason
        self.write_log(f"\nfoldrun: {reason}\n")
        return code

    def write_log(self, text: str) -> None:
        self.log.write(text.encode())
        self.log.flush()

    def run_child(self, argv: Sequence[str], **popen: object) -> int:
        """`subprocess.run(argv, **popen).returncode`, recording the child's own peak memory:
        RUSAGE_CHILDREN's is the largest child ever waited for, wrong in a worker that runs
        task after task (the local backend's slots)."""
        proc = subprocess.Popen(list(argv), **popen)  # type: ignore[call-overload]
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C: the command stops with the task, as subprocess.run
            proc.kill()
            proc.wait()
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)
        self.child_peak_mb = max(self.child_peak_mb or 0.0, usage.ru_maxrss / 1024)
        return proc.returncode


def load_task(spec_path: str | Path, key: str, plan_file: str | Path | None = None) -> PlannedTask:
    """The planned task `key`: from a plan file when given (SLURM's, one per array), else
    re-planned."""
    if plan_file is not None:
        with open(plan_file, "rb") as fh:
            tasks: dict[str, PlannedTask] = pickle.load(fh)
    else:
        # lazy: pydantic, only for a task the worker plans itself (a planned task comes pickled)
        from foldrun.plan import build_plan
        from foldrun.spec import load_spec

        tasks = build_plan(load_spec(Path(spec_path)), write=True).tasks
    if key not in tasks:
        raise RunError(
            f"no task {key!r} in the plan of this spec; run 'foldrun status'", file=spec_path
        )
    return tasks[key]


def task_folder(task: PlannedTask) -> Path:
    path = task.task_dir if isinstance(task.task_dir, Path) else Path(task.task_dir)
    if path.is_absolute():  # as planned (no new Path: a run looks at 100,000 tasks)
        return path
    return RunLayout(task.recipe.run_dir).tasks_dir / task.key


def checkpoint_dir(task: PlannedTask, layout: RunLayout | None = None) -> Path:
    """A folder that survives retries and SLURM requeues: `.foldrun/checkpoints/<key>/`."""
    layout = layout or RunLayout(task.recipe.run_dir)
    return layout.checkpoint_dir(task.key)


CPU_VARIABLES = ("FOLDRUN_CPUS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def task_env(
    task: PlannedTask, tmp: Path, layout: RunLayout, gpus: Sequence[int]
) -> dict[str, str]:
    """The environment of a running task (ARCHITECTURE.md), for every kind of model."""
    checkpoints = checkpoint_dir(task, layout)
    if not builtin_evaluate(task):  # foldrun's own scoring keeps no checkpoints: no folder
        checkpoints.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # `python` in a command means the interpreter running foldrun, as in an activated venv
    bindir = os.path.dirname(sys.executable)
    if env.get("PATH", "").split(os.pathsep)[0] != bindir:
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env.update(
        FOLDRUN_TASK_DIR=str(tmp),
        FOLDRUN_METRICS_FILE=str(tmp / TaskFiles.POINTS),
        FOLDRUN_CHECKPOINT_DIR=str(checkpoints),
        CUDA_VISIBLE_DEVICES=",".join(str(g) for g in gpus),
        FOLDRUN_GPUS=",".join(str(g) for g in gpus),  # "": none (a GPU-optional task on CPU)
        FOLDRUN_TASK_KEY=task.key,
        FOLDRUN_FOLD=str(task.fold),
        FOLDRUN_REPEAT=str(task.repeat),
        FOLDRUN_STAGE=task.stage,
        FOLDRUN_MODEL=task.model,
        FOLDRUN_VARIANT=task.variant,
        FOLDRUN_RUN_DIR=str(layout.root),
    )
    # the cpus the backend gave it (the local backend fits a request to --jobs)
    env.update(dict.fromkeys(CPU_VARIABLES, str(task.resources.cpus)))
    if task.dataset:  # `[datasets.<name>]`
        env["FOLDRUN_DATASET"] = task.dataset
    if task.inner >= 0:  # an inner fold of FOLDRUN_FOLD's training part (nested selection)
        env["FOLDRUN_INNER"] = str(task.inner)
    return env


@contextmanager
def task_lock(final: Path) -> Iterator[None]:
    """One executor per task: a worker orphaned by a killed runner finishes (and commits)
    before a new run's worker for the same task looks at its DONE file."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(final.parent / f".{final.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def builtin_evaluate(task: PlannedTask) -> bool:
    """Whether the task is foldrun's own evaluate (no command of the user's): it scores a
    fold's predictions with foldrun's metrics (and the spec's scorers)."""
    return task.stage == "evaluate" and not task.recipe.command


def _adapter(task: PlannedTask):  # returns a module with describe() and run()
    if builtin_evaluate(task):
        # lazy: adapters by task kind (a command task loads no pandas)
        from foldrun.run.adapters import evaluate as module
    elif task.recipe.kind == "estimator":
        # lazy: adapters by task kind (a command task loads no pandas)
        from foldrun.run.adapters import estimator as module
    elif task.recipe.kind == "entry":
        # lazy: adapters by task kind (a command task loads no pandas)
        from foldrun.run.adapters import entry as module
    else:
        # lazy: adapters by task kind (a command task loads no pandas)
        from foldrun.run.adapters import command as module
    return module


@contextmanager
def _redirected(fd: int) -> Iterator[None]:
    """Point this process's stdout/stderr at the task log while in-process code runs."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


# A reused slot of the local backend (zygote.py) runs task after task in one process: what
# earlier tasks left there (a scorer's cache, memory Python keeps) is not this task's peak.
# The slot calls `reset_peak` before each task; None: the peak could not be started again
# (no /proc/self/clear_refs), so this process has no peak of the task's own to record.
_SLOT_LEFTOVER_MB: list[float | None] = [0.0]


def rss_mb() -> float | None:
    """This process's resident memory of its own now (not the file pages a fresh process
    would read in too: libraries' code), Linux /proc; None where it cannot be read."""
    try:
        with open("/proc/self/status") as fh:
            line = next(x for x in fh if x.startswith("RssAnon:"))
    except (OSError, StopIteration):
        return None
    return int(line.split()[1]) / 1024


def reset_peak(base_mb: float | None) -> None:
    """In a reused slot, before a task: start the peak (ru_maxrss) again from what the
    process holds now (Linux: clear_refs 5), and remember how much of that earlier tasks
    left above `base_mb` (the slot's memory before its first task): run_in takes it off, so
    peak_mb is what this task would have peaked at in a fresh slot."""
    _trim_heap()  # memory freed but kept by malloc is no earlier task's: the next reuses it
    now = rss_mb()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        _SLOT_LEFTOVER_MB[0] = None
        return
    _SLOT_LEFTOVER_MB[0] = max(0.0, now - base_mb) if now and base_mb else 0.0


def _trim_heap() -> None:
    """Give the C heap's free memory back to the system (glibc malloc_trim), where it can."""
    import ctypes  # lazy: only a reused slot calls this, once a task

    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _own_peak(peak_mb: float) -> float | None:
    """The task's peak: the process's, less what earlier tasks of a slot left there."""
    leftover = _SLOT_LEFTOVER_MB[0]
    return None if leftover is None else max(peak_mb - leftover, 0.0)


def _usage() -> tuple[float, float, float]:
    """(cpu seconds of self + children, peak MB of self, peak MB of children)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    return cpu, me.ru_maxrss / 1024, kids.ru_maxrss / 1024


def _write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=1, default=str) + "\n")


def changed_inputs(task: PlannedTask) -> str:
    """'' when every manifest the fingerprint was built from still has the sha256 the plan
    saw; else which one changed (someone rewrote the split during the run). A few small
    CSVs: ~0.1 ms a task."""
    inputs = task.recipe.inputs
    for name, digest in task.recipe.input_sha256.items():
        manifest = inputs.get(name)
        if not digest or not manifest:
            continue
        path = Path(manifest)
        try:
            found = file_sha256(path)
        except OSError as err:
            found = f"unreadable ({err.strerror})"
        if found != digest:
            return (
                f"{_shown(path, task)} changed since the plan: sha256 {found[:12]}, the plan "
                f"has {digest[:12]}; the task did not run. Rerun 'foldrun run' to plan again"
            )
    return ""


def _shown(path: Path, task: PlannedTask) -> str:
    """A manifest's path as the user knows it: relative to the run folder when inside it."""
    try:
        return str(path.relative_to(task.recipe.run_dir))
    except ValueError:
        return str(path)


def _exit_reason(code: object) -> tuple[str, int]:
    """SystemExit from user code: its line in the log and the exit code of the failure."""
    shown = "" if code is None else repr(code)
    status = code if isinstance(code, int) and code != 0 else 1
    return f"the task called sys.exit({shown}); a task must return, not exit", status


def _run_adapter(task: PlannedTask, ctx: ExecContext) -> int:
    module = _adapter(task)
    in_process = module.IN_PROCESS
    saved_env = dict(os.environ) if in_process else None
    try:
        command = module.describe(task, ctx)
        (ctx.tmp / TaskFiles.COMMAND).write_text(command + "\n")
        ctx.write_log(f"$ {command}\n")
        params = json.dumps(task.recipe.params, sort_keys=True, default=str)
        audit.append(ctx.layout.audit_log, task.key, "command", f"{command} | params {params}")
        if reason := changed_inputs(task):
            return ctx.fail(reason)
        if not in_process:
            code = int(module.run(task, ctx))
        else:
            os.environ.update(ctx.env)  # foldrun.log() inside the task finds its files
            with _redirected(ctx.log.fileno()):
                code = int(module.run(task, ctx))
        if code == 0 and (reason := missing_outputs(task, ctx) or disk_full(ctx.tmp)):
            return ctx.fail(reason)
        if code == 0 and task.recipe.curves:
            record_curves(task, ctx)
        return code
    except SystemExit as stop:  # sys.exit() in user code ends the task, never the worker
        ctx.write_log(traceback.format_exc())
        return ctx.fail(*_exit_reason(stop.code))
    except Exception as err:  # the task's own error: logged, the task fails, the worker goes on
        ctx.write_log(traceback.format_exc())
        one_line = getattr(err, "one_line", None)  # foldrun's own check (a FoldrunError)
        return ctx.fail(one_line()) if callable(one_line) else 1
    finally:
        track_log = sys.modules.get("foldrun.track.log")
        if track_log is not None:  # foldrun.log buffers; its points belong in this task folder
            track_log.flush()
        if saved_env is not None:
            os.environ.clear()
            os.environ.update(saved_env)


def record_curves(task: PlannedTask, ctx: ExecContext) -> None:
    """Where the model's declared training curves are (`curves = { file, format }`), for
    the report and the MLflow export (results/curves.py reads `curves.json`): relative to
    the task folder when inside it. A missing file is said in the log, never a failure."""
    declared = dict(task.recipe.curves or {})
    base = Path(task.recipe.spec_path or ".").parent
    path = file_path(str(declared.get("file")), values(task, ctx.tmp), base).resolve()
    if not path.is_file():
        ctx.write_log(f"\nfoldrun: no training curves at {path} (curves.file)\n")
        return
    inside = path.is_relative_to(ctx.tmp.resolve())
    where = str(path.relative_to(ctx.tmp.resolve())) if inside else str(path)
    _write_json(ctx.tmp / "curves.json", {"file": where, "format": declared.get("format")})


def missing_outputs(task: PlannedTask, ctx: ExecContext) -> str:
    """'' when every output the plan declares for this task is there and reads back (a
    predictions file with the contract's columns); else what is wrong, in one line."""
    for declared in task.recipe.outputs:
        names = declared.split("|")  # `a|b`: either will do
        if not any((ctx.tmp / name).is_file() for name in names):
            expected = " or ".join(_expected_file(task, name) for name in names)
            return f"the {task.stage} step wrote no {expected}; it must write it"
    return _written_problem(task, ctx.tmp)


def _written_problem(task: PlannedTask, tmp: Path) -> str:
    """'' when the predictions and metrics.json the step left (declared or not) are what
    the results can use: predictions in the contract's columns covering the fold's ids
    exactly once, metrics a flat object of numbers; else what is wrong, in one line."""
    path = tmp / TaskFiles.PREDICTIONS
    if path.is_file() and (problem := _predictions_problem(path, task)):
        return f"the {task.stage} step's {_expected_file(task, path.name)}{problem}"
    metrics = tmp / TaskFiles.METRICS
    if metrics.is_file() and (problem := state.metrics_problem(_text(metrics))):
        fix = "write a flat JSON object of numbers"
        return f"the {task.stage} step's metrics.json {problem}; {fix}"
    return ""


def _text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError as err:
        return f"unreadable: {err.strerror}"


# A program that writes with a bare `open(...).write(...)` loses its data silently on a
# full disk (Python ignores the error raised when the file is closed at exit) and still
# exits 0. A step that ends with the task folder's disk (nearly) full may have outputs
# cut short, so it does not count as done; 256 KiB is "full" on any real disk.
FULL_DISK_BYTES = 256 * 1024


def disk_full(folder: Path) -> str:
    """'' unless the disk holding `folder` is full; then why the task cannot be trusted."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return ""  # cannot tell: the outputs' own checks stand
    free = stats.f_bavail * stats.f_frsize
    if free >= FULL_DISK_BYTES:
        return ""
    return (
        f"the disk holding {folder.parent} was full when the step ended ({free // 1024} kB "
        "free): its outputs may be cut short; free some space and rerun"
    )


def _expected_file(task: PlannedTask, name: str) -> str:
    """The file the user's step writes: a command writes {predictions} (a .csv path)."""
    if name == TaskFiles.PREDICTIONS and task.recipe.command:
        return "{predictions} file (predictions.csv or predictions.parquet in the task folder)"
    return name


def _predictions_problem(path: Path, task: PlannedTask) -> str:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as err:  # any reader error: the file is not usable
        return f" cannot be read ({type(err).__name__}: {err})"
    columns = list(schema.names)
    has_value = any(c in ("pred", "score") or c.startswith(("proba_", "pred_")) for c in columns)
    if not ("id" in columns and "subset" in columns and has_value):
        return (
            f" breaks the predictions contract: columns found {columns}; expected `id`, "
            "`subset` and `pred` and/or `proba_<class>` / `score` (multilabel: "
            "`pred_<label>`/`proba_<label>`)"
        )
    problem = (_text_scores(schema) or _lone_proba_problem(task, columns)
               or _coverage_problem(path, task))  # fmt: skip
    return f": {problem}" if problem else ""


def _lone_proba_problem(task: PlannedTask, columns: list[str]) -> str:
    """'' unless a classification's probability or score columns do not say what they
    predict of the target's classes (those of its training rows): one `proba_<class>`
    column that is not a binary target's class (results/metrics.lone_proba reads that one
    as p, 1 - p), several that lack a class (proba_0, proba_1 of a 0/1/2 target), or a
    `score` (one class's) without them for a target of more than two classes. Scored,
    such columns gave another problem's numbers; the metrics leave them undefined."""
    probas = [c for c in columns if c.startswith("proba_")]
    if task.recipe.problem != "classification" or not (probas or "score" in columns):
        return ""
    classes = _training_classes(task)
    if classes is None:
        return ""  # no training rows to take the classes from: the metrics decide
    fix = "write a proba_<class> column for every class"
    if len(probas) == 1:
        if len(classes) == 2 and probas[0].removeprefix("proba_") in classes:
            return ""
        return f"one probability column ({probas[0]}) for a target of classes {classes}; {fix}"
    if probas:
        missing = [c for c in classes if f"proba_{c}" not in probas]
        if not missing:
            return ""
        return (f"probability columns {', '.join(probas)} for a target of classes {classes}: "
                f"none for class {', '.join(missing)}; {fix}")  # fmt: skip
    if len(classes) <= 2:
        return ""  # a binary target's score: its positive class's
    return (f"a score column for a target of classes {classes}: a score is one class's, a "
            f"binary target's; {fix}")  # fmt: skip


def _training_classes(task: PlannedTask) -> list[str] | None:
    """The target's classes in the task's training rows, as column names write them
    (`proba_<class>`); None without a training manifest."""
    # lazy: pandas, only for a predictions file with probability or score columns
    from foldrun.run.adapters.common import input_path, label_name, read_manifest, targets

    train = input_path(task, "train")
    if train is None or not train.is_file():
        return None
    found = read_manifest(train, task)[targets(task)[0]].dropna().unique()
    return sorted({label_name(v) for v in found})


def _text_scores(schema: pa.Schema) -> str:
    """'' unless a probability or score column holds text (`"0.75"`): never a number (the
    file's schema, read once for its columns: ~0.2 ms a read; issue 26)."""
    import pyarrow as pa

    text = [f.name for f in schema if f.name == "score" or f.name.startswith("proba_")
            if not (pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
                    or pa.types.is_null(f.type))]  # fmt: skip
    if not text:
        return ""
    return f"probabilities or scores that are not numbers (column {text[0]!r}); write numbers"


def _coverage_problem(path: Path, task: PlannedTask) -> str:
    """The fold's check (adapters/common.ids_problem): a step that predicts must predict
    each test id (holdout in refit) exactly once, and each val or external id when it
    predicts that set at all."""
    # lazy: pandas, only to check a predictions file (a command task may write none)
    from foldrun.run.adapters.common import fold_checked

    main = "holdout" if task.stage == "refit" else "test"
    required = (main,) if task.stage != "evaluate" and task.recipe.inputs.get(main) else ()
    try:
        # every column's pages read back, their checksums verified (write_predictions
        # writes them): a file changed on disk before the commit does not commit
        return fold_checked(task, path, required)
    except Exception as err:  # a manifest or predictions file that does not read back
        return f"cannot be checked against the fold ({type(err).__name__}: {err})"


def run_in(task: PlannedTask, tmp: Path, layout: RunLayout, gpus: Sequence[int]) -> tuple[int, str]:
    """Execute the task inside `tmp`; write resources.json; return its exit code and, when
    it failed for a reason foldrun knows, that reason."""
    _write_json(tmp / TaskFiles.PARAMS, task.recipe.params)
    if task.recipe.code:  # the user's files it ran: status names the ones that changed
        _write_json(tmp / TaskFiles.CODE, task.recipe.code)
    if task.recipe.packages:  # provenance: the versions of the packages its code imports

        _write_json(tmp / "packages.json", package_versions(task.recipe.packages))
    started, t0 = datetime.now().astimezone(), time.perf_counter()
    cpu0, _, _ = _usage()
    with open(tmp / TaskFiles.LOG, "wb", buffering=0) as log:
        ctx = ExecContext(tmp, log, task_env(task, tmp, layout, gpus), tuple(gpus), layout)
        code = _run_adapter(task, ctx)
    cpu1, self_mb, kids_mb = _usage()
    # a command task's memory is its child's; an in-process one's is this worker's
    kids_mb = kids_mb if ctx.child_peak_mb is None else ctx.child_peak_mb
    peak_mb = _own_peak(self_mb) if _adapter(task).IN_PROCESS else kids_mb
    _write_json(
        tmp / TaskFiles.RESOURCES,
        {
            "started": started.isoformat(timespec="milliseconds"),
            "ended": datetime.now().astimezone().isoformat(timespec="milliseconds"),
            "wall_s": round(time.perf_counter() - t0, 4),
            "cpu_s": round(cpu1 - cpu0, 4),
            "peak_mb": None if peak_mb is None else round(peak_mb, 1),
            "exit_code": code,
            "host": socket.gethostname(),
            "gpus": list(gpus),
        },
    )
    return code, ctx.reason


def execute_planned(task: PlannedTask, *, gpus: Sequence[int] = ()) -> int:
    """Run one planned task atomically; 0 when done (or already done), 1 when it failed."""
    layout = RunLayout(task.recipe.run_dir)
    final = task_folder(task)
    with task_lock(final):
        state.recover(final)  # a killed attempt never counts: the earlier folder is back
        if state.read_fingerprint(final) == task.fingerprint:
            audit.append(layout.audit_log, task.key, "skipped", "already done")
            return 0
        # the task runs in its final folder; an earlier one waits aside until this commits
        previous = state.begin(final, os.getpid())
        audit.append(layout.audit_log, task.key, "started", _gpu_note(gpus))
        try:
            code, reason = run_in(task, final, layout, gpus)
        except BaseException:
            # a reused slot process lives on: an attempt marked with a live pid would
            # read as "running" (state.running_pid); it never counts, so just drop it
            state.abandon(final, previous)
            raise
        if code == 0:
            state.finish(final, task.fingerprint, previous)
            audit.append(layout.audit_log, task.key, "finished", _outputs_note(task, final))
            if task.recipe.last_in_fold:
                audit.append(layout.audit_log, task.key, "fold completed")
            return 0
        state.fail(final, previous)
        audit.append(layout.audit_log, task.key, "failed", reason or exit_text(code))
        return 1


def exit_text(code: int) -> str:
    """`exit 3`, or the signal that ended the program (`killed by SIGKILL`): a shell reports
    a child killed by signal N as exit 128 + N."""
    number = -code if code < 0 else code - 128 if 128 < code < 160 else 0
    try:
        name = signal.Signals(number).name if number else ""
    except ValueError:
        name = ""
    if code < 0:
        return f"killed by {name or f'signal {number}'}"
    return f"exit {code} ({name})" if name else f"exit {code}"


def _outputs_note(task: PlannedTask, final: Path) -> str:
    """Where a finished task's outputs and checkpoints are, for the audit trail."""
    checkpoint = checkpoint_dir(task)
    note = f"out {final}"
    if checkpoint.is_dir() and any(checkpoint.iterdir()):
        note += f" | checkpoints {checkpoint}"
    return note


def _gpu_note(gpus: Sequence[int]) -> str:
    return f"gpus {','.join(map(str, gpus))}" if gpus else ""


def execute_task(
    spec_path: str | Path,
    key: str,
    *,
    gpus: Sequence[int] = (),
    plan_file: str | Path | None = None,
) -> int:
    """Re-plan (or read the SLURM backend's plan file), then run task `key` atomically."""
    return execute_planned(load_task(spec_path, key, plan_file), gpus=gpus)


def _gpus_from_env() -> tuple[int, ...]:
    text = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    return tuple(int(p) for p in text.split(",") if p.strip().isdigit())


def main_with_task(blob: str, gpus: Sequence[int]) -> int:
    """`main()` for a task the runner already planned (base64 pickle from the local backend);
    no argument parsing: that alone costs milliseconds per task."""
    import base64

    try:
        task = pickle.loads(base64.b64decode(blob))
        return execute_planned(task, gpus=gpus)
    except Exception as err:  # the exit code is its only report
        print(f"foldrun worker: error: {err!r}", file=sys.stderr)
        return 2


def _gpu_list(text: str | None) -> tuple[int, ...]:
    if text is None:
        return _gpus_from_env()
    return tuple(int(g) for g in text.split(",") if g.strip())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m foldrun.run.worker")
    parser.add_argument("--spec", required=True)
    parser.add_argument("--task", required=True)
    parser.add_argument("--plan", default=None, help="a pickled plan (skips re-planning)")
    parser.add_argument("--gpus", default=None, help="GPU ids given to this task, like 0,1")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    gpus = _gpu_list(args.gpus)
    try:
        return execute_task(args.spec, args.task, gpus=gpus, plan_file=args.plan)
    except Exception as err:  # the exit code is its only report
        message = err.one_line() if hasattr(err, "one_line") else repr(err)
        print(f"foldrun worker: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
