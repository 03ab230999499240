"""Export a run folder into MLflow: a parent run per model × variant, a child run per fold.

Everything is read from the task folders after the tasks finished, so a local run, a
SLURM run and a replay (`foldrun track SPEC`) give the same runs. Only committed tasks
(a `DONE` file) are exported. Idempotence: each run carries the tag `foldrun.key` and,
per exported stage, `foldrun.sig.<stage>` (DONE's fingerprint + the task's end time);
its id is stored in `tasks/<model>/<variant>/[<fold dir>/]mlflow.json`. One search finds
the runs already there; a stage whose signature is there is skipped; a stage that was
rerun replaces the fold's child run (the old one is deleted). mlflow is imported lazily.

Speed: one create_run (with its tags), one log_batch (MLflow's client splits it within its
limits) and one set_terminated per run; with FOLDRUN_MLFLOW_SQLITE_SYNC=0 a sqlite store is
written without an fsync per commit and synced once at the end (`_sqlite_unsynced`). Quiet:
MLflow prints two "View run" lines per run to a server unless
MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT is set.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from foldrun._version import __version__
from foldrun.core import state
from foldrun.core.files import write_atomic
from foldrun.core.state import DONE, disk_state, read_fingerprint
from foldrun.core.task import FOLD_STAGES, STAGES, TaskState
from foldrun.core.taskid import TaskId, fold_key, parse_variant_key, variant_key
from foldrun.errors import TrackError
from foldrun.layout import RunLayout, TaskFiles
from foldrun.results.curves import task_curves
from foldrun.spec.mlflow import MlflowSpec

INSTALL = 'pip install "foldrun[mlflow]"'
ID_FILE = "mlflow.json"
MODEL_FILES_MAX_MB = 1024  # per task: model files past this are named, not uploaded
# what foldrun itself writes into a task folder; the rest of a train/refit folder is the
# task's own output (model.joblib, *.pt, checkpoints/ ...) and goes up as model files
OWN_FILES = frozenset(
    {TaskFiles.DONE, TaskFiles.COMMAND, TaskFiles.LOG, TaskFiles.RESOURCES, TaskFiles.PARAMS,
     "params_logged.json", TaskFiles.METRICS, TaskFiles.POINTS, TaskFiles.PREDICTIONS,
     "predictions.csv", ID_FILE}
)  # fmt: skip
# cmd.txt of an estimator / entry task: "train: a.b:C params={...}", "train: m:f(ctx) params="
_DESCRIBED = re.compile(r"^(?:train|predict|refit): (?P<target>.+?)(?P<ctx>\(ctx\))? params=\{")
MAX_KEY = 250  # MLflow's longest metric / param name
_NOT_MLFLOW = re.compile(r"[^\w.\- :/]")  # characters MLflow refuses in a name


def mlflow_key(name: str) -> str:
    """A metric or param name MLflow accepts: `recall@10` -> `recall_10`. Characters MLflow
    refuses become `_`; empty, `.` and `..` path parts (which MLflow refuses too) are dropped."""
    parts = [p for p in _NOT_MLFLOW.sub("_", name).split("/") if p not in ("", ".", "..")]
    return ("/".join(parts) or "_")[:MAX_KEY]


def require_mlflow() -> Any:
    """The mlflow module; TrackError with the install command when it is missing."""
    try:
        import mlflow
    except ImportError:
        raise TrackError(f"mlflow is not installed; {INSTALL}", key="mlflow") from None
    return mlflow


@dataclass
class ExportReport:
    tracking_uri: str
    experiment_id: str | None = None
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)
    error: str | None = None
    renamed: dict[str, str] = field(default_factory=dict)  # names MLflow refuses -> logged as
    too_big: list[str] = field(default_factory=list)  # model files past MODEL_FILES_MAX_MB
    unreadable_curve_lines: int = 0  # training-log lines left out (results/curves.py)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed

    def line(self) -> str:
        if self.error:
            return f"mlflow: not exported to {self.tracking_uri}: {self.error}"
        text = (
            f"mlflow: {self.tracking_uri} experiment {self.experiment_id}: "
            f"{self.created} runs created, {self.updated} updated, {self.unchanged} unchanged"
        )
        text += f", {len(self.failed)} failed" if self.failed else ""
        if self.renamed:
            pairs = ", ".join(f"{k} -> {v}" for k, v in sorted(self.renamed.items())[:10])
            more = f" and {len(self.renamed) - 10} more" if len(self.renamed) > 10 else ""
            text += f"; names MLflow refuses were logged as: {pairs}{more}"
        if self.unreadable_curve_lines:
            text += (f"; {self.unreadable_curve_lines} line(s) of the training logs could not "
                     "be read: left out")  # fmt: skip
        if self.too_big:
            names = ", ".join(self.too_big[:5])
            more = f" and {len(self.too_big) - 5} more" if len(self.too_big) > 5 else ""
            text += (
                f"; model files past {MODEL_FILES_MAX_MB} MB per task were not uploaded: "
                f"{names}{more}"
            )
        return text


@dataclass
class Unit:
    """One MLflow run to be: a fold (its train/predict/evaluate tasks) or a refit."""

    model: str
    variant: str
    fold_dir: str  # "fold_00", "repeat_01/fold_00" or "all"
    fold: int
    repeat: int
    stages: dict[str, Path] = field(default_factory=dict)  # done stage -> task folder
    dataset: str | None = None  # [datasets] (issue 13): the task's dataset, when it has one

    @property
    def parent_key(self) -> str:
        """Also the folder under tasks/ (tasks/<dataset>/<model>/<variant> with datasets)."""
        return variant_key(self.model, self.variant, self.dataset or "")

    @property
    def key(self) -> str:
        return fold_key(self.parent_key, self.fold_dir)


def resolve_tracking_uri(uri: str, base: Path) -> str:
    """sqlite/file URIs and plain paths relative to the spec folder become absolute."""
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return "sqlite:///" + str((base / uri[len("sqlite:///") :]).resolve())
    if uri.startswith("file:") and not uri.startswith("file:///"):
        return (base / uri[len("file:") :]).resolve().as_uri()
    if "://" not in uri and uri not in ("databricks",):
        return (base / uri).resolve().as_uri()
    return uri


def _unit_tags(unit: Unit, parent_id: str) -> dict[str, str]:
    """Where the unit sits (fold, repeat, stages), its fingerprints and its parent run."""
    fingerprints = {s: (p / DONE).read_text().strip() for s, p in unit.stages.items()}
    last = "refit" if "refit" in unit.stages else max(unit.stages, key=FOLD_STAGES.index)
    return {
        "fold": str(unit.fold),
        "repeat": str(unit.repeat),
        "stage": ",".join(s for s in STAGES if s in unit.stages),
        "fingerprint": fingerprints[last],
        "mlflow.parentRunId": parent_id,
        **{f"fingerprint.{s}": f for s, f in fingerprints.items()},
    }


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write_json(path: Path, obj: object) -> None:
    write_atomic(path, json.dumps(obj, indent=1) + "\n")


def find_units(run_dir: Path, allowed: set[Path] | None = None) -> list[Unit]:
    """Done tasks grouped by fold (refit alone), from a walk of tasks/."""
    # lazy: pandas (results), for an export only, not on every run's check
    from foldrun.results.collect import discover

    units: dict[tuple[str | None, str, str, int, int], Unit] = {}
    layout = RunLayout(run_dir)
    names: list[str | None] = [*layout.recorded_datasets()] or [None]
    found = [(d, r) for d in names for r in discover(RunLayout(run_dir, d).tasks_dir)]
    for dataset, ref in sorted(found, key=lambda dr: (dr[0] or "", dr[1].key)):
        path = Path(ref.path)
        if ref.stage not in STAGES or not _done(path, allowed):
            continue  # not done, corrupt, or stale (done under another fingerprint)
        # the fold dir as the folder names it (core/taskid.py), never a guessed repeat count
        task = TaskId.parse(path.relative_to(RunLayout(run_dir, dataset).tasks_dir).as_posix())
        if task is None:
            continue
        fdir = task.fold_dir
        unit = units.setdefault(
            (dataset, ref.model, ref.variant, ref.repeat, ref.fold),
            Unit(ref.model, ref.variant, fdir, ref.fold, ref.repeat, dataset=dataset),
        )
        unit.stages[ref.stage] = path
    return list(units.values())


def _done(path: Path, allowed: set[Path] | None) -> bool:
    """core/state's answer: done (DONE whole, outputs read back whole), and with a plan
    (`allowed`: the folders whose DONE holds the fingerprint the spec gives) a current one."""
    if allowed is not None and path.resolve() not in allowed:
        return False
    return read_fingerprint(path) is not None


def _ms(iso: str | None) -> int | None:
    try:
        return int(datetime.fromisoformat(str(iso)).timestamp() * 1000)
    except (TypeError, ValueError):
        return None


def stage_signature(path: Path) -> str:
    done = (path / DONE).read_text().strip()
    ended = (_read_json(path / TaskFiles.RESOURCES) or {}).get("ended", "")
    return f"{done}|{ended}"[:250]


def _numeric(obj: Any) -> dict[str, float]:
    if not isinstance(obj, dict):
        return {}
    out = {}
    for key, value in obj.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[str(key)] = float(value)
    return out


def _curve(folder: Path, ended_ms: int) -> tuple[list[tuple[str, float, int, int]], int]:
    """A task folder's training curves (results/curves.py: foldrun.log's points, the long
    `phase`/`metric`/`value` lines, wide lines, a declared curves file) as (name, value,
    timestamp ms, step), and the lines that could not be read (left out, counted)."""
    found = task_curves(folder)
    out = [(name, value, int(when * 1000) if when is not None else ended_ms, int(step))
           for name, step, value, when in found.points]  # fmt: skip
    return out, found.unreadable


def _params(units: list[Unit], names: tuple[str, ...]) -> dict[str, str]:
    """The params in `names` (params.json: model params + variant values; params_logged.json:
    what the task logged) of the units' tasks, as MLflow param strings; first one wins."""
    params: dict[str, str] = {}
    for path in (p for unit in units for p in unit.stages.values()):
        for name in names:
            obj = _read_json(path / name)
            for key, value in obj.items() if isinstance(obj, dict) else ():
                text = value if isinstance(value, str) else json.dumps(value, default=str)
                params.setdefault(str(key)[:250], text[:6000])
    return params


def final_metrics(unit: Unit) -> dict[str, float]:
    """metrics.json of every stage; refit's plain keys get the prefix `refit/`."""
    out: dict[str, float] = {}
    for stage, path in unit.stages.items():
        for key, value in _numeric(_read_json(path / TaskFiles.METRICS)).items():
            if stage == "refit" and "/" not in key:
                key = f"refit/{key}"
            out[key] = value
    return out


def model_info(table: Any, unit: Unit | None = None) -> dict[str, str]:
    """Tags saying what the model is: its kind (estimator/entry/command) and, for an
    estimator or entry, what it names. From the spec's [models.<name>] table; without
    one (a run folder exported alone), from the cmd.txt foldrun wrote for the task."""
    if isinstance(table, dict):
        for kind in ("estimator", "entry"):
            if isinstance(table.get(kind), str):
                return {"foldrun.model_kind": kind, f"foldrun.{kind}": table[kind]}
        return {"foldrun.model_kind": "command"}
    for stage in ("train", "refit", "predict"):
        path = unit.stages.get(stage) if unit else None
        try:
            line = (path / TaskFiles.COMMAND).read_text().partition("\n")[0] if path else ""
        except OSError:
            continue
        if match := _DESCRIBED.match(line):
            kind = "entry" if match["ctx"] else "estimator"
            target = match["target"].split(" -> ")[-1]
            return {"foldrun.model_kind": kind, f"foldrun.{kind}": target}
        if line:
            return {"foldrun.model_kind": "command"}
    return {}


def run_tags(unit: Unit, models: dict[str, Any]) -> dict[str, str]:
    """The tags a unit's runs (its parent and itself) share: model, variant, dataset, kind."""
    tags = {
        "model": unit.model,
        "variant": unit.variant,
        "foldrun.model": unit.model,
        "foldrun.variant": unit.variant,
        **model_info(models.get(unit.model), unit),
    }
    if unit.dataset:
        tags.update({"dataset": unit.dataset, "foldrun.dataset": unit.dataset})
    return tags


def race_tags(run_dir: Path, key: str) -> dict[str, str]:
    """`foldrun.race` of a variant a race stopped (`[race]`, `.foldrun/race.json`): its
    means are over the folds it ran before it stopped, not to be ranked beside the others."""
    record = state.read_race(RunLayout(run_dir).state_dir)
    if not any(k.startswith(key + "/") for k in state.pruned_keys(RunLayout(run_dir).state_dir)):
        return {}
    # a race's decisions name no dataset: a dataset's variant gets the line below
    dataset, model, variant = parse_variant_key(key) or ("", "", "")
    decisions = [] if dataset else record.get("decisions") or []  # type: ignore[call-overload]
    for d in reversed(decisions):
        if isinstance(d, dict) and d.get("model") == model and d.get("variant") == variant:
            return {"foldrun.race": f"stopped after {d.get('folds')} folds: worse than "
                                    f"{d.get('best')} (p = {d.get('p_holm')}, Holm)"}  # fmt: skip
    return {"foldrun.race": "stopped: every variant made from it was stopped"}


def model_files(path: Path) -> list[Path]:
    """Files a train/refit task wrote itself, sorted: all but foldrun's own, hidden ones
    (temporary files) and top-level plots."""
    found = []
    for file in sorted(path.rglob("*")):
        rel = file.relative_to(path)
        if any(part.startswith(".") for part in rel.parts) or not file.is_file():
            continue
        if len(rel.parts) == 1 and (rel.name in OWN_FILES or file.suffix == ".png"):
            continue  # foldrun's own, or a plot uploaded with the plots
        found.append(file)
    return found


def git_commit(folder: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


@contextmanager
def _quiet_http() -> Any:
    """Few retries and a short timeout: an unreachable server is reported, not waited for."""
    wanted = {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",  # two "View run" lines per run
    }
    saved = {k: os.environ.get(k) for k in wanted}
    for key, value in wanted.items():
        os.environ.setdefault(key, value)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)


@contextmanager
def _sqlite_unsynced(client: Any, uri: str) -> Iterator[None]:
    """Write a sqlite store without waiting for the disk at each commit, then sync it once.

    MLflow commits 4-5 times per run and each sqlite commit waits for ~3 disk syncs: most of
    an export's time (210 runs: 44 s before). PRAGMA synchronous=OFF on the connections
    this export uses keeps the database consistent if the process dies (SQLite's guarantee);
    only an OS crash or power cut during the export could damage it, so the file is fsynced
    before this returns. That risk lands on a database that may hold other experiments, so
    it is opt-in: FOLDRUN_MLFLOW_SQLITE_SYNC=0 turns the per-commit syncs off; by default
    MLflow's own syncs stay. The engine is MLflow's private attribute: without it, nothing
    changes."""
    engine = getattr(getattr(client._tracking_client, "store", None), "engine", None)
    if (
        not uri.startswith("sqlite:///")
        or os.environ.get("FOLDRUN_MLFLOW_SQLITE_SYNC", "1") != "0"
        or engine is None
    ):
        yield
        return
    from sqlalchemy import event

    def unsynced(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    event.listen(engine, "checkout", unsynced)
    try:
        yield
    finally:
        event.remove(engine, "checkout", unsynced)
        engine.dispose()  # pooled connections set OFF are closed; new ones sync as usual
        _fsync(Path(uri[len("sqlite:///") :].partition("?")[0]))


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # no such file: nothing was written
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class _ClientArtifacts:
    """log_artifact(path, artifact_path) through the client, for a tracking server."""

    client: Any
    run_id: str

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        self.client.log_artifact(self.run_id, local_file, artifact_path)


class _Exporter:
    def __init__(self, client: Any, exp_id: str, run_dir: Path, cfg: dict[str, Any]) -> None:
        from mlflow.entities import Metric, Param, RunTag

        self.Metric, self.Param, self.RunTag = Metric, Param, RunTag
        self.client, self.exp_id, self.run_dir, self.cfg = client, exp_id, run_dir, cfg
        self.existing = self._existing_runs()
        self.renamed: dict[str, str] = {}
        self.too_big: list[str] = []
        self.unreadable = 0  # lines of the training logs that could not be read

    def key(self, name: str) -> str:
        """`name` as MLflow takes it; a changed name is remembered for the report."""
        valid = mlflow_key(name)
        if valid != name:
            self.renamed[name] = valid
        return valid

    def _existing_runs(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        token = None
        where = f"tags.`foldrun.run_dir` = '{self.run_dir}'".replace("\\", "\\\\")
        while True:
            page = self.client.search_runs([self.exp_id], where, max_results=5000, page_token=token)
            for run in page:
                found.setdefault(run.data.tags.get("foldrun.key", ""), run)
            token = page.token
            if not token:
                return found

    def base_tags(self, unit: Unit, key: str) -> dict[str, str]:
        tags = {
            **run_tags(unit, self.cfg["models"]),
            "foldrun.key": key,
            "foldrun.run_dir": str(self.run_dir),
            "foldrun.version": __version__,
        }
        if self.cfg.get("commit"):
            tags["mlflow.source.git.commit"] = self.cfg["commit"]
        if self.cfg.get("spec"):
            tags["mlflow.source.name"] = self.cfg["spec"]
        return tags

    def run_for(
        self, key: str, name: str, tags: dict[str, str], start: int | None
    ) -> tuple[Any, bool]:
        run = self.existing.get(key)
        if run is not None:
            return run, False
        run = self.client.create_run(self.exp_id, start_time=start, tags=tags, run_name=name)
        self.existing[key] = run
        return run, True

    def log(self, run: Any, metrics: list[Any], params: dict[str, str], tags: dict[str, str]):
        """One log_batch per run: MLflow's client splits it within MLflow's limits (1,000
        entries, 100 params, 100 tags a request). What the run already has is not sent:
        its tags (a new run got them from create_run) and its params (immutable in MLflow)."""
        valid = {self.key(k): v for k, v in params.items()}
        p = [self.Param(k, v) for k, v in valid.items() if k not in run.data.params]
        t = [self.RunTag(k, v) for k, v in tags.items() if run.data.tags.get(k) != v]
        self.client.log_batch(run.info.run_id, metrics=metrics, params=p, tags=t)

    def export_unit(self, unit: Unit, parent_id: str) -> str:
        """'created', 'updated' or 'unchanged'."""
        todo, sigs = self.stages_to_log(unit)
        if not todo:
            return "unchanged"
        res = {s: _read_json(p / TaskFiles.RESOURCES) or {} for s, p in unit.stages.items()}
        starts = [m for r in res.values() if (m := _ms(r.get("started")))]
        ends = [m for r in res.values() if (m := _ms(r.get("ended")))]
        tags = {**self.base_tags(unit, unit.key), **_unit_tags(unit, parent_id),
                **{f"foldrun.sig.{s}": sigs[s] for s in todo}}  # fmt: skip
        name = self.cfg["prefix"] + unit.key
        run, created = self.run_for(unit.key, name, tags, min(starts) if starts else None)
        ended = max(ends) if ends else None
        metrics = self.unit_metrics(unit, todo, res, ended or 0)
        self.log(run, metrics, _params([unit], (TaskFiles.PARAMS, "params_logged.json")), tags)
        if self.cfg["artifacts"]:
            self.upload(self.artifacts(run), unit, todo)
        self.client.set_terminated(run.info.run_id, "FINISHED", end_time=ended)
        _write_json(
            RunLayout(self.run_dir).task_path(unit.key) / ID_FILE,
            {"run_id": run.info.run_id, "tracking_uri": self.cfg["uri"],
             "experiment_id": self.exp_id},
        )  # fmt: skip
        return "created" if created else "updated"

    def stages_to_log(self, unit: Unit) -> tuple[list[str], dict[str, str]]:
        """The stages whose outputs the unit's run lacks, and every stage's signature. A
        stage rerun since the last export (another signature) replaces the run: a fresh
        child run, all stages logged again."""
        run = self.existing.get(unit.key)
        sigs = {s: stage_signature(p) for s, p in unit.stages.items()}
        old = run.data.tags if run is not None else {}
        if run is not None and any(old.get(f"foldrun.sig.{s}", v) != v for s, v in sigs.items()):
            self.client.delete_run(run.info.run_id)
            del self.existing[unit.key]
            old = {}
        return [s for s in unit.stages if old.get(f"foldrun.sig.{s}") != sigs[s]], sigs

    def unit_metrics(
        self, unit: Unit, todo: list[str], res: dict[str, dict[str, Any]], stamp: int
    ) -> list[Any]:
        """The training curves of the `todo` stages (metrics.jsonl) and the final metrics."""
        metrics = []
        for stage in todo:
            curve, bad = _curve(unit.stages[stage], _ms(res[stage].get("ended")) or 0)
            metrics += [self.Metric(self.key(n), v, t, s) for n, v, t, s in curve]
            self.unreadable += bad
        return metrics + [self.Metric(self.key(k), v, stamp, 0)
                          for k, v in final_metrics(unit).items()]  # fmt: skip

    def artifacts(self, run: Any) -> Any:
        """The run's artifact repository, from the run we have (MlflowClient.log_artifact
        fetches the run again first: a query per run)."""
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        if not self.cfg["uri"].startswith(("sqlite:", "file:")):
            return _ClientArtifacts(self.client, run.info.run_id)  # a server: its own rules
        return get_artifact_repository(run.info.artifact_uri)

    def upload(self, repo: Any, unit: Unit, stages: list[str]) -> None:
        for stage in stages:
            path = unit.stages[stage]
            files = [path / TaskFiles.LOG, *sorted(path.glob("*.png"))]
            if stage in ("evaluate", "refit"):
                files.append(path / TaskFiles.PREDICTIONS)
            for file in files:
                if file.is_file() and file.stat().st_size > 0:
                    repo.log_artifact(str(file), stage)
            if stage in ("train", "refit"):
                self.upload_models(repo, path, stage)

    def upload_models(self, repo: Any, path: Path, stage: str) -> None:
        """The task's model files under `<stage>/`, up to MODEL_FILES_MAX_MB per task (a
        store holds a copy of each fold's model); the rest are named in the report."""
        budget = MODEL_FILES_MAX_MB * 2**20
        for file in model_files(path):
            rel = file.relative_to(path)
            size = file.stat().st_size
            if size > budget:
                where = path.relative_to(RunLayout(self.run_dir).tasks_dir).as_posix()
                self.too_big.append(f"{where}/{rel.as_posix()} ({size / 2**20:.0f} MB)")
                continue
            budget -= size
            repo.log_artifact(str(file), "/".join((stage, *rel.parts[:-1])))

    def export_parent(self, units: list[Unit]) -> tuple[str, str]:
        """(run id, 'created'|'updated'|'unchanged') of the model × variant's parent run:
        the folds' mean and interval, the refit's metrics, the params of the variant."""
        # lazy: pandas (results), for an export only, not on every run's check
        from foldrun.results.stats import t_interval

        key = units[0].parent_key
        folds = [u for u in units if u.fold >= 0]
        per_metric: dict[str, list[float]] = defaultdict(list)
        for unit in folds:
            for name, value in final_metrics(unit).items():
                per_metric[self.key(name)].append(value)
        summary: dict[str, float] = {"n_folds": float(len(folds))}
        for name, values in per_metric.items():
            iv = t_interval(values, metric=name)  # bounded metrics: a logit-scale interval
            summary.update(
                {
                    name: iv.mean,
                    f"{name}_std": iv.std,
                    f"{name}_ci_low": iv.low,
                    f"{name}_ci_high": iv.high,
                }
            )
        for unit in units:
            if unit.fold < 0:
                summary.update(final_metrics(unit))
        params = _params(units, (TaskFiles.PARAMS,))  # the same for every task of a variant
        report = sorted(RunLayout(self.run_dir).report_dir.glob("*.png"))
        tags = {**self.base_tags(units[0], key), **race_tags(self.run_dir, key)}
        described = {k: v for k, v in tags.items()
                     if k.startswith(("foldrun.model", "dataset", "foldrun.race"))}  # fmt: skip
        sig = json.dumps(
            [
                sorted(summary.items()),
                sorted(params.items()),
                sorted(described.items()),
                [(p.name, p.stat().st_mtime_ns) for p in report],
            ]
        )
        import hashlib

        digest = hashlib.sha256(sig.encode()).hexdigest()[:32]
        run, created = self.run_for(key, self.cfg["prefix"] + key, tags, None)
        run_id = run.info.run_id
        _write_json(
            RunLayout(self.run_dir).task_path(key) / ID_FILE,
            {"run_id": run_id, "tracking_uri": self.cfg["uri"], "experiment_id": self.exp_id},
        )
        if run.data.tags.get("foldrun.sig.summary") == digest:
            return run_id, "unchanged"
        step = len(folds)  # the history shows how the mean moved as folds were added
        metrics = [self.Metric(self.key(k), v, 0, step) for k, v in summary.items() if v == v]
        tags["foldrun.sig.summary"] = digest
        self.log(run, metrics, params, tags)
        if self.cfg["artifacts"] and report:
            repo = self.artifacts(run)
            for png in report:
                repo.log_artifact(str(png), "report")
        self.client.set_terminated(run_id, "FINISHED")
        return run_id, "created" if created else "updated"


def _config(run_dir_or_spec: str | Path, tracking_uri: str | None, experiment: str | None):
    # lazy: pandas (results), for an export only, not on every run's check
    from foldrun.results.source import planned_tasks, resolve

    source = resolve(run_dir_or_spec)
    raw = source.raw.get("mlflow")
    if tracking_uri is None and not isinstance(raw, dict):
        raise TrackError(
            "the spec has no [mlflow] table; add one with tracking_uri and "
            "experiment, or pass --tracking-uri",
            key="mlflow",
        )
    raw = raw if isinstance(raw, dict) else {}
    base = source.spec_path.parent if source.spec_path else Path.cwd()
    default = MlflowSpec()  # the [mlflow] keys' defaults: spec/mlflow.py owns them
    uri = resolve_tracking_uri(tracking_uri or raw.get("tracking_uri", default.tracking_uri), base)
    name = experiment or raw.get("experiment") or source.run_name
    planned = planned_tasks(source)
    allowed = None
    if source.planned:  # core/state's rule: done with the fingerprint the plan gives

        allowed = {Path(p.ref.path).resolve() for p in planned
                   if disk_state(Path(p.ref.path), p.fingerprint) == TaskState.DONE}  # fmt: skip
    cfg = {
        "uri": uri,
        "experiment": str(name),
        "artifacts": bool(raw.get("artifacts", default.artifacts)),
        "prefix": str(raw.get("run_name_prefix", default.run_name_prefix)),
        "models": models if isinstance(models := source.raw.get("models"), dict) else {},
        "commit": git_commit(base),
        "spec": str(source.spec_path) if source.spec_path else None,
    }
    return source.run_dir, cfg, allowed


def _experiment(client: Any, name: str, uri: str) -> str:
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        if exp.lifecycle_stage != "active":
            raise RuntimeError(
                f"experiment {name!r} is deleted; restore it or rename [mlflow] experiment"
            )
        return str(exp.experiment_id)
    location = None
    if uri.startswith("sqlite:///"):  # beside the database, not in the current folder
        location = (Path(uri[len("sqlite:///") :]).parent / "mlartifacts").as_uri()
    try:
        return str(client.create_experiment(name, artifact_location=location))
    except Exception:
        exp = client.get_experiment_by_name(name)  # created meanwhile by another process
        if exp is None:
            raise
        return str(exp.experiment_id)


def export_run(
    run_dir_or_spec: str | Path, *, tracking_uri: str | None = None, experiment: str | None = None
) -> ExportReport:
    """Export (or update) the run's done tasks into MLflow; never raises for a bad server."""
    require_mlflow()
    run_dir, cfg, allowed = _config(run_dir_or_spec, tracking_uri, experiment)
    report = ExportReport(cfg["uri"])
    if cfg["uri"].startswith("file:"):
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3: opt-in
    if cfg["uri"].startswith("sqlite:///"):
        Path(cfg["uri"][len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    units = find_units(run_dir, allowed)
    with _quiet_http():
        from mlflow import MlflowClient

        try:
            client = MlflowClient(tracking_uri=cfg["uri"])
            report.experiment_id = _experiment(client, cfg["experiment"], cfg["uri"])
            exporter = _Exporter(client, report.experiment_id, run_dir, cfg)
        except Exception as err:  # unreachable or broken store: report it, retry next time
            report.error = " ".join(str(err).split())[:300]
            return report
        with _sqlite_unsynced(client, cfg["uri"]):
            _export_units(exporter, units, report)
    return report


def _export_units(exporter: _Exporter, units: list[Unit], report: ExportReport) -> None:
    """Each model × variant's parent run, then its children; failures are counted."""
    groups: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        groups[unit.parent_key].append(unit)
    for key, group in sorted(groups.items()):
        try:
            parent_id, outcome = exporter.export_parent(group)
            _count(report, outcome)
        except Exception as err:
            report.failed += [f"{key}: {err}"] + [u.key for u in group]
            continue
        for unit in group:
            try:
                _count(report, exporter.export_unit(unit, parent_id))
            except Exception as err:
                report.failed.append(f"{unit.key}: {' '.join(str(err).split())[:200]}")
    report.renamed = exporter.renamed
    report.too_big = exporter.too_big
    report.unreadable_curve_lines = exporter.unreadable


def _count(report: ExportReport, outcome: str) -> None:
    setattr(report, outcome, getattr(report, outcome) + 1)


def maybe_export_after_run(spec: Any, run_dir: str | Path, source: Any = None) -> str | None:
    """For the runner: export when the spec has [mlflow] (after_run); a message, never raises.
    `source`: the run as the command loaded it (results/source.py), so none is loaded again."""
    cfg = getattr(spec, "mlflow", None)
    if cfg is None or not getattr(cfg, "after_run", True):
        return None
    try:
        path = source or getattr(spec, "path", None) or run_dir
        return export_run(path).line()
    except Exception as err:
        return f"mlflow: not exported: {err}; run 'foldrun track SPEC' to retry"
