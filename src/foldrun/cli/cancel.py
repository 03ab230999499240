"""`foldrun cancel SPEC`: scancel the run's queued and running SLURM jobs."""

from __future__ import annotations

from pathlib import Path

import click


def run_dir_of(spec_path: Path) -> Path:
    """The run folder of a spec (`output`, default `runs/<name>`, relative to the spec).

    Read straight from the TOML: cancelling must work even when the rest of the spec no
    longer validates (data moved, a model renamed).
    """
    from foldrun.errors import SpecError
    from foldrun.spec.load import read_document
    from foldrun.spec.model import check_name, check_path

    document = read_document(spec_path)
    output = document.get("output") or (
        f"runs/{document['name']}" if isinstance(document.get("name"), str) else None
    )
    if not isinstance(output, str):
        raise SpecError(
            "the spec has no 'name' (nor 'output'); add name = \"...\"", file=spec_path, key="name"
        )
    try:  # the same rules as when the spec loads: the run folder is the one `run` used
        check_path(output, "output")
        if "output" not in document:
            check_name(document["name"], "name")
    except ValueError as err:
        key = "output" if "output" in document else "name"
        raise SpecError(str(err), file=spec_path, key=key) from None
    return (spec_path.parent / Path(output).expanduser()).resolve()


def cancel_run(spec_path: str | Path) -> tuple[int, Path]:
    """Cancel the run's SLURM jobs: (tasks cancelled, run folder)."""
    from foldrun.run.backends.base import RunContext
    from foldrun.run.backends.slurm import SlurmBackend, slurm_run_id

    spec = Path(spec_path).resolve()
    run_dir = run_dir_of(spec)
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
