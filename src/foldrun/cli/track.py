"""`foldrun track SPEC`: write (or replay) the run's done tasks into MLflow."""

from __future__ import annotations

import click


@click.command(name="track")
@click.argument("spec", type=click.Path(path_type=str))
@click.option("--tracking-uri", default=None, help="Overrides [mlflow] tracking_uri.")
@click.option("--experiment", default=None, help="Overrides [mlflow] experiment.")
def command(spec: str, tracking_uri: str | None, experiment: str | None) -> None:
    """Export SPEC's run (a foldrun.toml or a run folder) to MLflow: a parent run per
    model × variant, a child run per fold and refit. Exit 1 when some could not be."""
    # lazy: `foldrun --help` imports every command module (cli/__init__.py)
    from foldrun.api import track

    report = track(spec, tracking_uri, experiment)
    click.echo(report.line())
    for problem in report.failed[:20]:
        click.echo(f"  failed: {problem}", err=True)
    if not report.ok:
        click.echo("run 'foldrun track' again to retry", err=True)
    click.get_current_context().exit(0 if report.ok else 1)
