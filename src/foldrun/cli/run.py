"""`foldrun run SPEC`: plan the task graph and run what is not done yet."""

from __future__ import annotations

from collections.abc import Sequence

import click

from foldrun.cli.options import format_option, json_errors

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


def echo_result(result: object) -> None:
    """The end-of-run summary: counts, then each failure's log path and last lines."""
    counts = result.counts  # type: ignore[attr-defined]
    summary = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
    failures = result.failures  # type: ignore[attr-defined]
    blocked = sum(1 for f in failures if f.blocked)
    ran = len(result.to_run) - blocked  # type: ignore[attr-defined]
    parts = [f"{ran} task(s) run"]
    if failures:
        parts.append(f"{len(failures) - blocked} failed")
    if blocked:
        parts.append(f"{blocked} not run because an upstream task failed")
    parts.append(f"{result.already_done} already done")  # type: ignore[attr-defined]
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
    from foldrun.run.gpus import parse_gpus
    from foldrun.run.options import RunOptions
    from foldrun.run.progress import live_progress_factory
    from foldrun.run.runner import run

    options = RunOptions.of(
        backend=backend,
        jobs=jobs,
        gpus=parse_gpus(gpus),
        models=models,
        folds=folds,
        stages=stages,
        datasets=datasets,
        force=force,
        retries=retries,
        dry_run=dry_run,
        wait=backend != "slurm" if wait is None else wait,
    )
    if fmt == "json":  # stdout holds the JSON only (a SLURM dry run shows its sbatch lines)
        # lazy: `foldrun --help` imports every command module (cli/__init__.py)
        from foldrun.api import user_output_to_stderr

        with user_output_to_stderr():
            result = run(spec, options, None)
    else:
        result = run(spec, options, live_progress_factory())
    if fmt == "json":
        if result.to_run and not dry_run and (backend == "local" or wait):
            export_after_run(spec, result.run_dir, err=True)  # stdout holds the JSON only
        return _echo_json(result, dry_run)
    if dry_run:
        for key in result.to_run:
            click.echo(key)
        pruned = result.counts.get("pruned", 0)
        stopped = f"; {pruned} pruned by the race (not run)" if pruned else ""
        click.echo(
            f"foldrun: would run {len(result.to_run)} task(s); {result.already_done} already "
            f"done{stopped}"
        )
        return 0
    echo_result(result)
    if result.to_run and (backend == "local" or wait):
        export_after_run(spec, result.run_dir)
    if not result.exit_code and (backend == "local" or wait):
        echo_summary(spec)
    return result.exit_code


def echo_summary(spec: str) -> None:
    """Each model's mean ± std and interval, as the report says them; a run that succeeded
    never fails for its summary (one line says why there is none)."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.report.terminal import run_lines

    try:
        lines = run_lines(spec)
    except Exception as err:  # e.g. a primary metric no task wrote: the report says more
        click.echo(f"foldrun: no summary ({' '.join(str(err).split())}); see foldrun report",
                   err=True)  # fmt: skip
        return
    for line in lines:
        click.echo(line)


def _echo_json(result: object, dry_run: bool) -> int:
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    import json

    from foldrun.api import RunOutcome

    outcome = RunOutcome.of(result, dry_run)  # type: ignore[arg-type]
    click.echo(json.dumps(outcome.to_dict()))
    return outcome.exit_code


def export_after_run(spec_path: str, run_dir: object, err: bool = False) -> None:
    """With [mlflow] in the spec, mirror the finished tasks into MLflow; never fails the run."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.spec import load_spec

    spec = load_spec(spec_path)
    if spec.mlflow is None:
        return
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.track.mlflow import maybe_export_after_run

    message = maybe_export_after_run(spec, run_dir)  # type: ignore[arg-type]
    if message:
        click.echo(message, err=err)
