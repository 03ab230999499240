"""`foldrun run SPEC`: plan the task graph and run what is not done yet."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from foldrun.cli.options import format_option, json_errors

if TYPE_CHECKING:
    from foldrun.api import RunOutcome

MULTI = ("--models", "--folds", "--stages")


def expand_multi(args: Sequence[str], names: Sequence[str] = MULTI) -> list[str]:
    """`--models a b` and `--models a,b` -> `--models a --models b` (click takes one value
    per option occurrence). A value ending in .toml is the SPEC, never an option value."""
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg not in names:
            out.append(arg)
            continue
        values: list[str] = []
        while (
            i < len(args)
            and not args[i].startswith("-")
            and not (values and args[i].endswith(".toml"))
        ):
            values.extend(v for v in args[i].split(",") if v)
            i += 1
        if not values:
            out.append(arg)  # let click report the missing value
        for value in values:
            out += [arg, value]
    return out


class MultiValueCommand(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, expand_multi(args))


def echo_result(result: RunOutcome) -> None:
    """The end-of-run summary: counts, then each failure's log path and last lines."""
    counts = result.counts
    summary = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
    failures = result.failures
    blocked = sum(1 for f in failures if f.blocked)
    ran = len(result.ran) - blocked
    parts = [f"{ran} task(s) run"]
    if failures:
        parts.append(f"{len(failures) - blocked} failed")
    if blocked:
        parts.append(f"{blocked} not run because an upstream task failed")
    parts.append(f"{result.already_done} already done")
    click.echo(f"foldrun: {', '.join(parts)}; now: {summary or 'nothing'}")
    for fail in failures:
        if fail.reason:
            click.echo(f"FAILED {fail.key}: {fail.reason}", err=True)
            continue
        click.echo(f"FAILED {fail.key}  (log: {fail.log})", err=True)
        for line in fail.tail:
            click.echo(f"    {line}", err=True)


@click.command(name="run", cls=MultiValueCommand)
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "--backend",
    type=click.Choice(["local", "slurm"]),
    default="local",
    show_default=True,
    help="Where tasks execute.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Local CPU slots (tasks run at once, weighted by their cpus).",
)
@click.option(
    "--gpus",
    default=None,
    help="GPU ids for local tasks, like 0,1 (default: what nvidia-smi reports; none without it).",
)
@click.option("--models", multiple=True, help="Only these models (or model/variant).")
@click.option("--folds", multiple=True, type=int, help="Only these folds (-1: refit).")
@click.option("--stages", multiple=True, help="Only these stages.")
@click.option("--datasets", multiple=True, help="Only these datasets ([datasets.<name>]).")
@click.option("--force", is_flag=True, help="Rerun stale tasks (done with other settings).")
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Retry a failed task up to N times.",
)
@click.option("--dry-run", is_flag=True, help="Print what would run; run nothing.")
@click.option(
    "--wait/--no-wait",
    default=None,
    help="SLURM: follow the jobs until they end (default: submit and return). Local runs wait.",
)
@format_option("ran, counts, failures; no live display")
@json_errors("run")
def command(
    spec: str,
    backend: str,
    jobs: int,
    gpus: str | None,
    models: tuple[str, ...],
    folds: tuple[int, ...],
    stages: tuple[str, ...],
    datasets: tuple[str, ...],
    force: bool,
    retries: int,
    dry_run: bool,
    wait: bool | None,
    fmt: str,
) -> int:
    """Plan SPEC's tasks (model x variant x fold x stage) and run those not done yet.

    Exit 0 when every selected task is done, 1 when some failed, 2 on bad input.
    """
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.api import Project, user_output_to_stderr
    from foldrun.run.gpus import parse_gpus
    from foldrun.run.progress import live_progress_factory

    wait = backend != "slurm" if wait is None else wait
    asked = dict(backend=backend, jobs=jobs, gpus=parse_gpus(gpus), models=models, folds=folds,
                 stages=stages, datasets=datasets, force=force, retries=retries,
                 dry_run=dry_run, wait=wait)  # fmt: skip
    if fmt == "json":  # stdout holds the JSON only (a SLURM dry run shows its sbatch lines)
        with user_output_to_stderr():
            outcome = Project(Path(spec).resolve()).run(**asked)  # type: ignore[arg-type]
        if outcome.exported:
            click.echo(outcome.exported, err=True)  # stdout holds the JSON only
        click.echo(json.dumps(outcome.to_dict()))
        return outcome.exit_code
    project = Project(Path(spec).resolve(), live_progress_factory())
    outcome = project.run(**asked)  # type: ignore[arg-type]
    if dry_run:
        return echo_dry_run(outcome)
    echo_result(outcome)
    if outcome.exported:
        click.echo(outcome.exported)
    if not outcome.exit_code and (backend == "local" or wait):
        echo_summary(outcome)
    return outcome.exit_code


def echo_dry_run(outcome: RunOutcome) -> int:
    """The tasks a run would run, one key a line, then how many."""
    if outcome.ran:  # one write, not one per key (100,000 lines)
        click.echo("\n".join(outcome.ran))
    pruned = outcome.counts.get("pruned", 0)
    stopped = f"; {pruned} pruned by the race (not run)" if pruned else ""
    click.echo(
        f"foldrun: would run {len(outcome.ran)} task(s); {outcome.already_done} already "
        f"done{stopped}"
    )
    return 0


def echo_summary(outcome: RunOutcome) -> None:
    """Each model's mean ± std and interval, as the report says them; a run that succeeded
    never fails for its summary (one line says why there is none)."""
    try:
        lines = outcome.summary_lines()
    except Exception as err:  # e.g. a primary metric no task wrote: the report says more
        click.echo(f"foldrun: no summary ({' '.join(str(err).split())}); see foldrun report",
                   err=True)  # fmt: skip
        return
    for line in lines:
        click.echo(line)
