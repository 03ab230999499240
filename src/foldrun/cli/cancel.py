"""`foldrun cancel SPEC`: scancel the run's queued and running SLURM jobs."""

from __future__ import annotations

from pathlib import Path

import click


def cancel_run(spec_path: str | Path) -> tuple[int, Path]:
    """Cancel the run's SLURM jobs: (tasks cancelled, run folder)."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.run.backends.base import RunContext
    from foldrun.run.backends.slurm import SlurmBackend, slurm_run_id
    from foldrun.spec.load import read_document, run_folder

    spec = Path(spec_path).resolve()
    # read straight from the TOML: cancelling must work when the rest of the spec no
    # longer validates (data moved, a model renamed)
    run_dir = run_folder(spec, read_document(spec))
    ctx = RunContext(spec_path=spec, run_dir=run_dir, run_id=slurm_run_id(run_dir))
    return SlurmBackend().cancel(ctx), run_dir


@click.command(name="cancel")
@click.argument("spec", type=click.Path(dir_okay=False))
def command(spec: str) -> None:
    """Cancel the queued and running SLURM jobs of SPEC's run.

    Each cancelled task gets a `cancelled` line in audit.log; its task folder is left as
    it is, so `foldrun run --backend slurm` resubmits exactly what did not finish.
    """
    count, run_dir = cancel_run(spec)
    if count:
        click.echo(f"foldrun: cancelled {count} queued or running task(s) of {run_dir}")
    else:
        click.echo(f"foldrun: nothing queued or running for {run_dir}")
