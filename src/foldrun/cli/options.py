"""Options several commands share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


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
