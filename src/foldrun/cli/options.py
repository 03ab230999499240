"""Options several commands share."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from foldrun.errors import FoldrunError


def format_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--format text|json`: json prints one JSON object (`what` it holds) on stdout."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=f"json: one JSON object on stdout ({what}), for scripts and Airflow.",
    )


def json_errors(command: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """With `--format json`, bad input (a FoldrunError) also prints one JSON object on
    stdout, {"command", "ok": false, "error", "exit_code"}, as `check --format json` prints
    its problems: a script reading stdout gets an answer, not nothing. stderr keeps its one
    line and the exit code stays 2."""
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except FoldrunError as err:
                if kwargs.get("fmt") == "json":
                    import json

                    click.echo(json.dumps({"command": command, "ok": False,
                                           "error": err.one_line(),
                                           "exit_code": int(err.exit_code)}))  # fmt: skip
                raise

        return inner

    return wrap
