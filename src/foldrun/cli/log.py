"""`foldrun log NAME VALUE [--step N]` and `foldrun log --param K=V`: from a shell task."""

from __future__ import annotations

import json
import time

import click

from foldrun.errors import FoldrunError


def _param(text: str) -> tuple[str, object]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise FoldrunError(f"--param {text!r}: write it as KEY=VALUE", key="--param")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


@click.command(name="log", context_settings={"ignore_unknown_options": True})
@click.argument("name", required=False)
@click.argument("value", required=False)
@click.option("--step", type=int, default=None, help="Step (epoch, iteration) of the value.")
@click.option("--param", "params", multiple=True, help="KEY=VALUE into params_logged.json.")
def command(name: str | None, value: str | None, step: int | None, params: tuple[str, ...]) -> None:
    """Append NAME=VALUE to the running task's metrics.jsonl (a no-op outside a task)."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.track import log as tlog

    if name is None and not params:
        raise FoldrunError("give NAME VALUE (foldrun log val_loss 0.31 --step 3) or --param K=V")
    if name is not None:
        _log_value(name, value, step)
    if params:
        pairs = dict(_param(p) for p in params)
        try:
            tlog.log_params(**pairs)
        except OSError as err:  # the task folder is gone or is not a folder
            raise FoldrunError(
                f"cannot write params_logged.json: {err.strerror}; is FOLDRUN_TASK_DIR the "
                "task's folder?",
                file=err.filename,
            ) from None


def _log_value(name: str, value: str | None, step: int | None) -> None:
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.track import log as tlog

    if not name.strip():
        raise FoldrunError("the metric NAME is empty; write: foldrun log val_loss 0.31")
    if value is None:
        raise FoldrunError(f"no value for {name!r}; write: foldrun log {name} VALUE")
    try:
        line = tlog.format_line(name, float(value), step, time.time())
    except ValueError as err:
        raise FoldrunError(f"value {value!r} is not a number: {err}", key=name) from None
    path = tlog.metrics_path()
    if path is None:
        click.echo("foldrun log: not inside a foldrun task; nothing recorded", err=True)
        return
    try:
        tlog.append_lines(path, line)  # one process, one line: no buffer
    except OSError as err:
        raise FoldrunError(
            f"cannot append to the metrics file: {err.strerror}; is FOLDRUN_METRICS_FILE "
            "(or FOLDRUN_TASK_DIR) the running task's?",
            file=path,
        ) from None
