"""Tasks -> SLURM job arrays: one array per (stage, resource class), with dependencies.

Arrays of equal shape whose tasks line up one to one (fold i's predict after fold i's
train) are chained with `aftercorr`, so each task starts as soon as its own parent
succeeded. Where shapes differ (a stage grid fanning out, refit after every fold) the
array waits on the whole parent array, or on the parent elements it needs: with `afterok`
when every task needs all of them, else with `afterany` plus a check in the job script that
the task's own parents are done, so one failed fold does not stop another variant's refit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from foldrun.core.task import STAGES, PlannedTask, Resources


def class_name(resources: Resources) -> str:
    """A file-name-safe label of a resource class: `c1-g0-m4096-t60`."""
    cpus, gpus, mem_mb, time_min = resources.class_key()
    return f"c{cpus}-g{gpus}-m{mem_mb}-t{time_min}"


@dataclass
class ArrayGroup:
    """The tasks of one sbatch array, in array-index order, and what the array waits on."""

    stage: str
    resources: Resources
    tasks: list[PlannedTask]
    # (kind, group index) on arrays of this submission: "aftercorr" or "afterok"
    after_groups: list[tuple[str, int]] = field(default_factory=list)
    # (group index, array index) elements of this submission to wait for
    after_elements: list[tuple[int, int]] = field(default_factory=list)
    # "jobid_index" elements already in the queue from an earlier submission
    after_queued: list[str] = field(default_factory=list)
    # True when tasks need different parents: wait with afterany, check parents in the job
    check_deps: bool = False

    @property
    def label(self) -> str:
        return f"{self.stage}-{class_name(self.resources)}"

    def dependency(self, job_ids: Mapping[int, str]) -> str:
        """The `--dependency` value given the job ids (or placeholders) of earlier groups."""
        whole = "afterany" if self.check_deps else "afterok"
        parts = [
            f"{whole if kind == 'afterok' else kind}:{job_ids[index]}"
            for kind, index in self.after_groups
        ]
        elements = [f"{job_ids[g]}_{i}" for g, i in self.after_elements] + self.after_queued
        if elements:
            parts.append(f"{whole}:" + ":".join(elements))
        return ",".join(parts)


def group_tasks(
    tasks: Sequence[PlannedTask], queued: Mapping[str, str] | None = None
) -> list[ArrayGroup]:
    """Arrays for `tasks` (in dependency order), with their dependencies resolved.

    `queued` maps keys of tasks already in the scheduler to their `jobid_index`.
    """
    queued = queued or {}
    by_class: dict[tuple[str, tuple[int, ...]], ArrayGroup] = {}
    for task in tasks:
        key = (task.stage, task.resources.class_key())
        if key not in by_class:
            by_class[key] = ArrayGroup(task.stage, task.resources, [])
        by_class[key].tasks.append(task)
    # deps always point to an earlier stage, so stage order is a topological order
    groups = sorted(by_class.values(), key=lambda g: STAGES.index(g.stage))
    where: dict[str, tuple[int, int]] = {}  # task key -> (group index, array index)
    for number, group in enumerate(groups):
        _resolve(group, where, queued)
        where.update({task.key: (number, i) for i, task in enumerate(group.tasks)})
    return groups


def _deps_in(task: PlannedTask, where: Mapping[str, tuple[int, int]], group: int) -> list[int]:
    return [where[d][1] for d in task.deps if d in where and where[d][0] == group]


def _aligned_order(
    group: ArrayGroup, where: Mapping[str, tuple[int, int]], parent: int, size: int
) -> list[PlannedTask] | None:
    """The group's tasks reordered so task i depends on parent element i, if possible."""
    if len(group.tasks) != size:
        return None
    slots: dict[int, PlannedTask] = {}
    for task in group.tasks:
        found = _deps_in(task, where, parent)
        if len(found) != 1 or found[0] in slots:
            return None
        slots[found[0]] = task
    return [slots[i] for i in range(size)]


def _resolve(
    group: ArrayGroup, where: Mapping[str, tuple[int, int]], queued: Mapping[str, str]
) -> None:
    parents = sorted({where[d][0] for t in group.tasks for d in t.deps if d in where})
    sizes = {g: sum(1 for spot in where.values() if spot[0] == g) for g in parents}
    for parent in parents:
        ordered = _aligned_order(group, where, parent, sizes[parent])
        if ordered is not None and (
            ordered == group.tasks or not any(k == "aftercorr" for k, _ in group.after_groups)
        ):
            group.tasks = ordered
            group.after_groups.append(("aftercorr", parent))
            continue
        needed = sorted({i for t in group.tasks for i in _deps_in(t, where, parent)})
        if len(needed) == sizes[parent]:
            group.after_groups.append(("afterok", parent))
        else:
            group.after_elements += [(parent, i) for i in needed]
    group.after_queued = sorted({queued[d] for t in group.tasks for d in t.deps if d in queued})
    group.check_deps = _needs_differ(group, where, queued)


def _needs_differ(
    group: ArrayGroup, where: Mapping[str, tuple[int, int]], queued: Mapping[str, str]
) -> bool:
    """Whether tasks wait on different parents outside their aftercorr parents."""
    corr = {index for kind, index in group.after_groups if kind == "aftercorr"}
    needs = {
        frozenset(d for d in t.deps if d in queued or (d in where and where[d][0] not in corr))
        for t in group.tasks
    }
    return len(needs) > 1
