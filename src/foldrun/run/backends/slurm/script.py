"""The text of one sbatch array script: a pure function of its keyword arguments.

One array task runs one foldrun task: it reads the task key from line
`$SLURM_ARRAY_TASK_ID + 1` of the array file and runs the worker on it. Before the time
limit (or on preemption) SLURM sends USR2 to the batch shell, which requeues the array
task a bounded number of times and otherwise records it as failed.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from foldrun.errors import SchedulerError
from foldrun.layout import RunLayout

_BODY = r"""
set -u
ARRAY_FILE={array_file}
SPEC={spec}
AUDIT_LOG={audit_log}
TASKS_DIR={tasks_dir}
STATE_DIR={state_dir}
CHECKPOINTS={checkpoints}
PYTHON={python}
MAX_REQUEUES={max_requeues}
WORKER_ARGS=({worker_args})
DEPS_FILE={deps_file}

LINE=$((SLURM_ARRAY_TASK_ID + 1))
KEY=$(sed -n "${{LINE}}p" "$ARRAY_FILE")
if [ -z "$KEY" ]; then
  echo "foldrun: no task key on line $LINE of $ARRAY_FILE" >&2
  exit 2
fi
JOB="${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}"
# the same folder on every requeue of this task (the worker sets it the same way)
export FOLDRUN_CHECKPOINT_DIR="$CHECKPOINTS/$KEY"
mkdir -p "$FOLDRUN_CHECKPOINT_DIR"

# one appended line per event: audit.log for people, slurm_events.tsv for `foldrun status`
# (the audit line's fields come from the key by foldrun.core.audit, as every audit line's)
record() {{
  local now
  now=$(date +%Y-%m-%dT%H:%M:%S)
  "$PYTHON" -P -m foldrun.core.audit "$AUDIT_LOG" "$KEY" "$1" "${{2:-}}"
  printf '%s\t%s\t%s\t%s\t%s\n' "$now" "$KEY" "$JOB" "$1" "${{2:-}}" \
    >> "$STATE_DIR/slurm_events.tsv"
}}

GOT_USR2=0
on_usr2() {{
  GOT_USR2=1
  if [ "${{SLURM_RESTART_COUNT:-0}}" -lt "$MAX_REQUEUES" ]; then
    record requeued "restart $((${{SLURM_RESTART_COUNT:-0}} + 1)) of $MAX_REQUEUES"
    scontrol requeue "$JOB"
  else
    record failed "out of requeues ($MAX_REQUEUES)"
    kill -TERM "$WORKER" 2>/dev/null
    wait "$WORKER"
    exit 1
  fi
}}
trap on_usr2 USR2

# an array that waits with afterany: run only when this task's own parents are done
# (foldrun.core.state answers, the rule every other "is it done" uses)
if [ -n "$DEPS_FILE" ]; then
  IFS=$'\t' read -r -a NEEDS <<< "$(sed -n "${{LINE}}p" "$DEPS_FILE")"
  NOT_DONE=$("$PYTHON" -P -m foldrun.core.state "$TASKS_DIR" ${{NEEDS[@]+"${{NEEDS[@]}}"}})
  CHECKED=$?  # 3: a parent is not done (foldrun.core.state.NOT_DONE_EXIT)
  if [ "$CHECKED" -eq 3 ]; then
    record failed "an upstream task failed ($NOT_DONE)"
    echo "foldrun: not run: upstream task $NOT_DONE is not done" >&2
    exit 1
  elif [ "$CHECKED" -ne 0 ]; then
    record failed "the upstream tasks could not be checked (exit $CHECKED)"
    exit 1
  fi
fi

# -P: not the submit folder first on the path (as -m puts it; a random.py there would
# replace the standard library's)
"$PYTHON" -P -m foldrun.run.worker --spec "$SPEC" --task "$KEY" \
  ${{WORKER_ARGS[@]+"${{WORKER_ARGS[@]}}"}} &
WORKER=$!
# a trapped signal interrupts `wait`; wait again until the worker itself ends
STATUS=0
while :; do
  GOT_USR2=0
  wait "$WORKER"; RC=$?
  if [ "$GOT_USR2" = 1 ] && [ "$RC" -eq 127 ]; then break; fi
  STATUS=$RC
  [ "$GOT_USR2" = 1 ] || break
done
exit "$STATUS"
"""


def _directive_value(value: str, option: str) -> str:
    """A value as sbatch reads it in an `#SBATCH` line: double-quoted when it has spaces."""
    if '"' in value or "\n" in value or "\r" in value:
        raise SchedulerError(
            f"{option} {value!r} cannot be written in an #SBATCH line (it holds a double "
            "quote or a newline); rename the folder or file"
        )
    return f'"{value}"' if any(ch.isspace() or ch == "'" for ch in value) else value


def format_time(minutes: int) -> str:
    """SLURM's `[D-]HH:MM:SS` form of a limit in minutes."""
    days, rest = divmod(int(minutes), 24 * 60)
    hours, mins = divmod(rest, 60)
    clock = f"{hours:02d}:{mins:02d}:00"
    return f"{days}-{clock}" if days else clock


def array_range(n_tasks: int, max_concurrent: int | None) -> str:
    """`0-(n-1)` with the `%N` throttle when one is set."""
    if n_tasks < 1:
        raise ValueError("an array needs at least one task")
    spec = f"0-{n_tasks - 1}"
    return f"{spec}%{max_concurrent}" if max_concurrent else spec


def sbatch_directives(
    *,
    job_name: str,
    n_tasks: int,
    log_stem: Path,
    time_min: int,
    mem_mb: int,
    cpus: int,
    gpus: int = 0,
    max_concurrent: int | None = None,
    partition: str | None = None,
    account: str | None = None,
    qos: str | None = None,
    constraint: str | None = None,
    signal_before_s: int = 90,
    extra: Sequence[str] = (),
) -> list[str]:
    """The sbatch options of an array job, in a fixed order."""
    options = [
        f"--job-name={job_name}",
        f"--array={array_range(n_tasks, max_concurrent)}",
    ]
    named = (("partition", partition), ("account", account), ("qos", qos))
    for name, value in (*named, ("constraint", constraint)):
        if value:
            options.append(f"--{name}={_directive_value(value, '--' + name)}")
    options += [
        f"--time={format_time(time_min)}",
        f"--mem={int(mem_mb)}M",
        f"--cpus-per-task={int(cpus)}",
    ]
    if gpus:
        options.append(f"--gres=gpu:{int(gpus)}")
    options += [
        f"--output={_directive_value(f'{log_stem}-%A_%a.out', '--output')}",
        f"--error={_directive_value(f'{log_stem}-%A_%a.err', '--error')}",
        f"--signal=B:USR2@{int(signal_before_s)}",
        "--requeue",
        "--open-mode=append",
    ]
    options += [_extra_option(option) for option in extra]
    return options


def _extra_option(option: str) -> str:
    name, sep, value = option.partition("=")
    return f"{name}={_directive_value(value, name)}" if sep else option


def render_script(
    *,
    array_file: Path,
    spec_path: Path,
    run_dir: Path,
    python: str,
    max_requeues: int = 3,
    plan_file: Path | None = None,
    deps_file: Path | None = None,
    **options: Any,
) -> str:
    """The whole sbatch script of one (stage, resource class) array; `options` are
    `sbatch_directives`' (job name, tasks, resources, ...)."""
    directives = sbatch_directives(**options)
    n_tasks = options["n_tasks"]
    header = ["#!/bin/bash", *(f"#SBATCH {option}" for option in directives)]
    header.append(f"# written by foldrun: {n_tasks} task(s), one per line of the array file")
    layout = RunLayout(Path(run_dir))  # the run folder's paths, as every other writer's
    body = _BODY.format(
        array_file=shlex.quote(str(array_file)),
        spec=shlex.quote(str(spec_path)),
        audit_log=shlex.quote(str(layout.audit_log)),
        tasks_dir=shlex.quote(str(layout.tasks_dir)),
        state_dir=shlex.quote(str(layout.state_dir)),
        checkpoints=shlex.quote(str(layout.checkpoints_dir)),
        python=shlex.quote(python),
        max_requeues=int(max_requeues),
        worker_args=shlex.join(["--plan", str(plan_file)]) if plan_file else "",
        deps_file=shlex.quote(str(deps_file)) if deps_file else "''",
    )
    return "\n".join(header) + "\n" + body
