"""Racing (`[race] after, alpha`): the variants of a model run fold by fold, in waves, and
a variant that is significantly worse than the current best stops early.

Wave 0 holds every task of the first `after` folds (and every task of models with nothing
to race); wave w > 0 holds fold `after + w - 1` of the racing models; the refits come
last. Before each later wave the race is decided on the folds that every variant still in
it has finished: the best variant by mean, and for each other one the corrected paired
t-test of Nadeau & Bengio against it (the report's comparison test, one-sided here: is it
worse than the best?), Holm-corrected over the variants still racing; p < alpha stops
the variant. Its tasks not done
yet are recorded in `.foldrun/race.json` with their fingerprints: they have the state
`pruned`, and no later run executes them while their fingerprints stay the same (an edited
spec races them again). The decisions are kept beside them for the report.

A backend that steers (local) runs the race without waves: every task goes to it at
once, ranked by its wave (the first folds first, then a fold at a time), so a free worker
always takes the next fold of a variant still racing; the race is decided again each time
a variant's fold is scored, and the not-done tasks of a variant it stops are cancelled
(not started, or stopped while they run: neither done nor failed, pruned as above). A
model's refit waits until its race is over. The decisions are those of the waves: the
same rule on the folds that every variant still racing has finished.

Other backends run the waves: the runner hands each wave to `Backend.execute` and waits
for it (SLURM with --wait). A SLURM run that submits and returns submits the first wave
that has work; the next `foldrun run` decides on what has finished and submits the next
one.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from foldrun.core import audit, state
from foldrun.core.task import PlannedTask, TaskState
from foldrun.layout import RunLayout
from foldrun.run.backends.base import Backend, BackendResult, Outcome, RunContext
from foldrun.run.worker import task_folder


@dataclass(frozen=True)
class Race:
    after: int
    alpha: float
    chosen: str  # `[report] primary_metric`; "": the report's rule, on what the tasks wrote
    kind: str  # the problem kind (its default metric and fallbacks)
    lower_is_better: tuple[str, ...]
    entrants: dict[str, list[str]]  # model -> its final variants (those that race)
    positions: list[tuple[int, int]]  # (repeat, fold) in the order folds are raced
    last: dict[tuple[str, str, int, int], str] = field(default_factory=dict)  # fold's last task

    def metric(self, known: dict[tuple[str, str, int, int], dict[str, float]]) -> str:
        """The metric raced on: the chosen one, else the one the report ranks on among
        the test metrics of the folds read so far (`known`)."""
        from foldrun.results.metrics import PRIMARY, primary_among  # lazy: pandas, scipy

        if self.chosen:
            return self.chosen
        present = {name for scores in known.values() for name in scores}
        return primary_among(self.kind, present) or PRIMARY.get(self.kind, "")

    def greater(self, metric: str) -> bool:
        from foldrun.results.metrics import greater_is_better  # lazy: pandas, scipy

        return greater_is_better(metric, self.lower_is_better)

    def wave(self, task: PlannedTask) -> int:
        """The wave a task runs in (0 for a model with nothing to race)."""
        if task.model not in self.entrants:
            return 0
        if task.fold < 0:  # refit: once every fold has raced
            return max(len(self.positions) - self.after + 1, 0)
        return max(self.positions.index((task.repeat, task.fold)) - self.after + 1, 0)


def race_of(tasks: dict[str, PlannedTask]) -> Race | None:
    """The race of a plan; None without `[race]` or when no model has variants."""
    first = next(iter(tasks.values()), None)
    if first is None or first.recipe.race is None:
        return None
    recipe = first.recipe
    options = recipe.race
    last: dict[tuple[str, str, int, int], str] = {}
    finals: dict[str, list[str]] = {}
    for key, t in tasks.items():
        if t.recipe.last_in_fold:
            last[(t.model, t.variant, t.repeat, t.fold)] = key
            finals.setdefault(t.model, [])
            if t.variant not in finals[t.model]:
                finals[t.model].append(t.variant)
    positions = sorted({(t.repeat, t.fold) for t in tasks.values() if t.fold >= 0})
    return Race(
        after=int(options["after"]),
        alpha=float(options["alpha"]),
        chosen=(recipe.primary_metric or "").removeprefix("test/"),
        kind=recipe.problem or "",
        lower_is_better=tuple(recipe.lower_is_better or ()),
        entrants={m: v for m, v in finals.items() if len(v) > 1},
        positions=positions,
        last=last,
    )


def pruned_now(
    tasks: dict[str, PlannedTask], states: dict[str, TaskState], run_dir: Path
) -> set[str]:
    """Tasks the race stopped whose settings are unchanged and that are not done."""
    record = state.pruned_keys(RunLayout(run_dir).state_dir)
    return {
        k for k, t in tasks.items()
        if state.is_pruned(record, k, t.fingerprint) and states.get(k) != TaskState.DONE
    }  # fmt: skip


def execute(
    engine: Backend,
    tasks: dict[str, PlannedTask],
    keys: Sequence[str],
    ctx: RunContext,
    race: Race,
) -> BackendResult:
    """Run `keys` racing: steered where the backend can (deciding as folds are scored),
    else wave by wave."""
    if engine.steers and ctx.wait and not ctx.dry_run:
        return _steered(engine, tasks, keys, ctx, race)
    return _waves(engine, tasks, keys, ctx, race)


@dataclass
class _Steering:
    """The race as a backend's `Steering`: the rank of a task is its wave; when a fold
    that every variant still racing has finished is added, the race is decided again (as
    before a wave), and the newly pruned tasks are cancelled. The fold scores are read
    once each: those done before the run by the first decision, the others as they end."""

    race: Race
    tasks: dict[str, PlannedTask]
    run_dir: Path
    keys: set[str]  # the tasks of this execution
    pruned: set[str]
    scores: dict[tuple[str, str, int, int], dict[str, float]] = field(default_factory=dict)
    open: dict[str, set[str]] = field(default_factory=dict)  # racing model -> its fold tasks
    decided: dict[str, int] = field(default_factory=dict)  # model -> folds at its decision

    def __post_init__(self) -> None:
        for key in self.keys - self.pruned:
            t = self.tasks[key]
            if t.model in self.race.entrants and t.fold >= 0:
                self.open.setdefault(t.model, set()).add(key)

    def rank(self, task: PlannedTask) -> tuple[float, ...] | None:
        if task.fold < 0 and self.open.get(task.model):
            return None  # a refit: once its model's race is over
        return (self.race.wave(task),)

    def ended(self, key: str, outcome: Outcome) -> set[str]:
        task = self.tasks[key]
        self.open.get(task.model, set()).discard(key)
        if outcome is not Outcome.DONE or task.model not in self.race.entrants:
            return set()
        if not task.recipe.last_in_fold:
            return set()
        position = (task.repeat, task.fold)
        self.scores[(task.model, task.variant, *position)] = _scores(
            self.race, self.tasks, task.model, task.variant, position
        )
        new: set[str] = set()
        # again while a stop leaves more folds that all the others finished (none before
        # `after` such folds: the rule stops nothing then)
        while (finished := self.finished(task.model)) > max(
            self.decided.get(task.model, 0), self.race.after - 1
        ):
            self.decided[task.model] = finished
            now = decide(self.race, self.tasks, self.run_dir, self.scores)
            new |= (now - self.pruned) & self.keys
            self.pruned |= now
        for model in self.open.values():
            model -= new
        return new

    def finished(self, model: str) -> int:
        """How many folds every variant of `model` still racing has a score for."""
        out = {self.tasks[k].variant for k in self.pruned if self.tasks[k].model == model}
        alive = [v for v in self.race.entrants[model] if v not in out]
        known, metric = self.scores, self.race.metric(self.scores)
        return sum(
            all(metric in known.get((model, v, *p), {}) for v in alive)
            for p in self.race.positions
        )


def _steered(
    engine: Backend, tasks: dict[str, PlannedTask], keys: Sequence[str], ctx: RunContext,
    race: Race,
) -> BackendResult:  # fmt: skip
    """Every task to the backend at once, ranked by wave; decided as folds are scored."""
    scores: dict[tuple[str, str, int, int], dict[str, float]] = {}
    pruned: set[str] = set()
    todo = set(keys)
    if any(k not in todo for (m, *_), k in race.last.items() if m in race.entrants):
        # folds done before this run (or not selected): decided on now
        pruned = decide(race, tasks, Path(ctx.run_dir), scores)
    else:  # nothing to decide yet: what deciding imports loads while the backend starts
        threading.Thread(target=_load_deciding, daemon=True).start()
    steering = _Steering(race, tasks, Path(ctx.run_dir), set(keys), pruned, scores)
    steering.decided = {model: steering.finished(model) for model in race.entrants}
    result = engine.execute_steered([tasks[k] for k in keys if k not in pruned], ctx, steering)
    done = {k for k, found in result.outcomes.items() if found is Outcome.DONE}
    result.outcomes.update({k: Outcome.PRUNED for k in steering.pruned & (set(keys) - done)})
    return result


def _load_deciding() -> None:
    """Import what `decide` needs (pandas, scipy: seconds on a loaded machine) in a
    thread, while the backend's fork server starts in its own process."""
    # only now: a run without a race never imports the results stack
    import foldrun.results.collect
    import foldrun.results.nested
    import foldrun.results.refresh
    import foldrun.results.stats  # noqa: F401


def _waves(
    engine: Backend,
    tasks: dict[str, PlannedTask],
    keys: Sequence[str],
    ctx: RunContext,
    race: Race,
) -> BackendResult:
    """Run `keys` wave by wave, deciding the race before each wave after the first."""
    result = BackendResult()
    blocked: set[str] = set()  # failed, or not run because something upstream failed
    waves: dict[int, list[str]] = {}
    for key in keys:
        waves.setdefault(race.wave(tasks[key]), []).append(key)
    pruned: set[str] = set()
    order = sorted(waves)
    for i, number in enumerate(order):
        if number > 0:
            pruned |= decide(race, tasks, Path(ctx.run_dir))
        todo = [k for k in waves[number] if k not in pruned]
        run = _unblocked(tasks, todo, blocked, result)
        if not run:
            continue
        outcome = engine.execute([tasks[k] for k in run], ctx)
        result.outcomes.update(outcome.outcomes)
        result.messages.extend(outcome.messages)
        blocked |= {k for k in run if outcome.outcomes.get(k) is not Outcome.DONE}
        if not ctx.wait:  # submitted, not followed: the next run decides and goes on
            later = [k for n in order[i + 1 :] for k in waves[n]]
            result.outcomes.update({k: Outcome.QUEUED for k in later})
            break
    result.outcomes.update({k: Outcome.PRUNED for k in pruned if k in set(keys)})
    return result


def _unblocked(
    tasks: dict[str, PlannedTask], todo: list[str], blocked: set[str], result: BackendResult
) -> list[str]:
    """`todo` without the tasks whose upstream task failed in an earlier wave (marked
    failed, as a backend marks them within one wave)."""
    run = []
    for key in todo:
        if any(d in blocked for d in tasks[key].deps):
            blocked.add(key)
            result.blocked(key)
        else:
            run.append(key)
    return run


def decide(
    race: Race,
    tasks: dict[str, PlannedTask],
    run_dir: Path,
    scores: dict[tuple[str, str, int, int], dict[str, float]] | None = None,
) -> set[str]:
    """Stop the variants significantly worse than the best on the folds all finished;
    record them; return every pruned task (earlier decisions included). `scores` keeps
    the fold scores read (a done fold's score does not change during a run)."""
    layout = RunLayout(run_dir)
    record = state.read_race(layout.state_dir)
    before = (state.pruned_keys(layout.state_dir), list(record.get("decisions") or []))  # type: ignore[call-overload]
    pruned, decisions = _in_force(tasks, *before)
    stopped = {(d["model"], d["variant"]) for d in decisions if d.get("stopped")}
    known = {} if scores is None else scores
    alive = {model: [v for v in variants if (model, v) not in stopped]
             for model, variants in race.entrants.items()}  # fmt: skip
    metric = _read_all(race, tasks, alive, known)
    for model, variants in alive.items():
        for found in _decide_model(race, model, variants, metric, known):
            decisions.append(found)
            if found["stopped"]:
                stopped.add((model, found["variant"]))
    new = _tasks_of(tasks, stopped, pruned)
    if new:
        pruned.update(new)
        for key in new:
            audit.append(layout.audit_log, key, "pruned", _why(decisions, tasks[key]))
    if (pruned, decisions) != before:
        state.write_race(layout.state_dir, {"pruned": pruned, "decisions": decisions,
                                            "metric": metric, "alpha": race.alpha,
                                            "after": race.after})  # fmt: skip
    return {k for k, fp in pruned.items() if k in tasks and tasks[k].fingerprint == fp}


def _read_all(race: Race, tasks, alive: dict[str, list[str]], known: dict) -> str:
    """Every fold score of the variants still racing read into `known` first (the metric
    raced on is run-wide), then the metric."""
    for model, variants in alive.items():
        for v, p in ((v, p) for v in variants for p in race.positions):
            _known_scores(race, tasks, model, v, p, known)
    return race.metric(known)


def _in_force(
    tasks: dict[str, PlannedTask], pruned: dict[str, str], decisions: list[dict[str, object]]
) -> tuple[dict[str, str], list[dict[str, object]]]:
    """The recorded decisions and pruned tasks that still hold. A variant whose settings
    changed since its race stopped it (a pruned task of it, or of the earlier stage it is
    made from, has another fingerprint now) races again: its decision goes, and so do the
    pruned records of the tasks no variant still stopped keeps out of the race."""
    changed = {(t.model, t.variant) for k, fp in pruned.items()
               if (t := tasks.get(k)) is not None and t.fingerprint != fp}  # fmt: skip

    def void(d: dict[str, object]) -> bool:
        name = str(d["variant"])
        return any(m == d["model"] and (name == v or name.startswith(v + "+")) for m, v in changed)

    kept = [d for d in decisions if not void(d)]
    if len(kept) == len(decisions):
        return dict(pruned), list(decisions)
    out = _out_of_race(tasks, {(str(d["model"]), str(d["variant"])) for d in kept
                               if d.get("stopped")})  # fmt: skip

    def holds(key: str, fingerprint: str) -> bool:
        t = tasks.get(key)
        return t is None or (t.fingerprint == fingerprint and (t.model, t.variant) in out)

    return {k: fp for k, fp in pruned.items() if holds(k, fp)}, kept


def _decide_model(
    race: Race, model: str, alive: list[str], metric: str, known: dict
) -> list[dict[str, object]]:
    """The decisions on one model's variants still racing, from the fold scores read."""
    if len(alive) < 2:
        return []
    scores = {v: [known[(model, v, *p)].get(metric, math.nan) for p in race.positions]
              for v in alive}  # fmt: skip
    found = stops(scores, race.after, race.alpha, race.greater(metric),
                  _test_train_ratio(race))  # fmt: skip
    return [{"model": model, **d} for d in found]


def stops(
    scores: dict[str, list[float]], after: int, alpha: float, greater: bool, ratio: float
) -> list[dict[str, object]]:
    """The variants to stop, from each variant's per-fold scores (NaN: not finished): on
    the folds every variant finished, the best by mean, and each other one's corrected
    paired t-test against it, Holm over them; those below `alpha` stop. Nothing before
    `after` such folds. (Pure: the benchmark drives the same rule.)"""
    # lazy: pandas and scipy (results), which only a raced run needs
    from foldrun.results import stats

    alive = list(scores)
    n = min((len(s) for s in scores.values()), default=0)
    common = [i for i in range(n) if all(not math.isnan(scores[v][i]) for v in alive)]
    if len(alive) < 2 or len(common) < after:
        return []
    means = {v: sum(scores[v][i] for i in common) / len(common) for v in alive}
    best = (max if greater else min)(alive, key=lambda v: means[v])
    others = [v for v in alive if v != best]
    pvalues = []
    for v in others:
        diff = [(scores[best][i] - scores[v][i]) * (1 if greater else -1) for i in common]
        test = stats.corrected_ttest(diff, ratio)
        # one-sided: the question is "is v worse than the best?", not "do they differ?"
        pvalues.append(test.p / 2 if test.mean > 0 and not math.isnan(test.p) else 1.0)
    adjusted = stats.holm(pvalues)
    return [
        {
            "variant": v,
            "folds": len(common),
            "best": best,
            "mean": means[v],
            "best_mean": means[best],
            "p": p,
            "p_holm": ph,
            "stopped": True,
        }
        for v, p, ph in zip(others, pvalues, adjusted, strict=True)
        if ph < alpha  # a variant that goes on is decided again after the next fold
    ]


def _test_train_ratio(race: Race) -> float:
    """n_test / n_train of K-fold CV, 1 / (K - 1): the correction of the t-test."""
    folds = len({f for _, f in race.positions})
    return 1.0 / (folds - 1) if folds > 1 else 1.0


def _known_scores(
    race: Race, tasks, model: str, variant: str, position: tuple[int, int], known: dict
) -> dict[str, float]:
    """`_scores`, read once into `known` (empty: not finished; a steered race sets the
    scores of each fold that ends)."""
    key = (model, variant, *position)
    if key not in known:
        known[key] = _scores(race, tasks, model, variant, position)
    return known[key]


def _scores(
    race: Race, tasks, model: str, variant: str, position: tuple[int, int]
) -> dict[str, float]:
    """The `test/` metrics of a variant's fold: its last stage's values first, then the
    stages before it (a train-only program scores itself), from done tasks only."""
    # lazy: pandas and scipy (results), which only a raced run needs
    from foldrun.results.collect import TaskRef
    from foldrun.results.nested import fold_scores
    from foldrun.results.refresh import Planned

    key = race.last.get((model, variant, *position))
    chain: list[Planned] = []
    while key is not None and key in tasks:
        t = tasks[key]
        ref = TaskRef(t.model, t.variant, t.fold, t.repeat, t.stage, str(task_folder(t)))
        chain.append(Planned(ref, t.fingerprint))
        key = t.deps[0] if t.deps else None
    return fold_scores(chain)


def _tasks_of(
    tasks: dict[str, PlannedTask], stopped: set[tuple[str, str]], pruned: dict[str, str]
) -> dict[str, str]:
    """The not-done tasks of stopped variants not recorded yet: a variant's own tasks, and
    a task of an earlier stage (`md8` before `md8+t0.3`) once all variants it feeds stopped."""
    out_of_race = _out_of_race(tasks, stopped)
    new = {}
    for key, t in tasks.items():
        if (t.model, t.variant) not in out_of_race or key in pruned:
            continue
        if state.disk_state(task_folder(t), t.fingerprint) != TaskState.DONE:
            new[key] = t.fingerprint
    return new


def _out_of_race(
    tasks: dict[str, PlannedTask], stopped: set[tuple[str, str]]
) -> set[tuple[str, str]]:
    """(model, variant) of the stopped variants and of the earlier-stage variants that
    feed only stopped ones."""
    gone: dict[str, set[str]] = {}
    for model, variant in stopped:
        gone.setdefault(model, set()).add(variant)
    names: dict[str, set[str]] = {}
    for t in tasks.values():
        names.setdefault(t.model, set()).add(t.variant)
    return {
        (model, v) for model, stops in gone.items() for v in names.get(model, set())
        if v in stops or _only_feeds(v, stops, names[model])
    }  # fmt: skip


def _only_feeds(variant: str, gone: set[str], names: set[str]) -> bool:
    """Whether every later-stage variant made from `variant` is stopped."""
    fed = {v for v in names if v.startswith(variant + "+")}
    return bool(fed) and fed <= gone


def _why(decisions: list[dict[str, object]], task: PlannedTask) -> str:
    for d in reversed(decisions):
        if d["model"] == task.model and (
            task.variant == d["variant"] or str(d["variant"]).startswith(task.variant + "+")
        ):
            return (
                f"stopped by the race after {d['folds']} folds: worse than {d['best']} "
                f"(p = {float(d['p_holm']):.3g}, Holm)"
            )  # type: ignore[arg-type]
    return "stopped by the race"
