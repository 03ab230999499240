"""A task's identity: THE format and parse of its key, `[<dataset>/]model/variant/<fold
dir>/stage`, and of its fold dir (`fold_00`, `repeat_01/fold_00`, `fold_00/inner_01`, `all`).

The key is also the task folder relative to `tasks/`, the audit log's fields and the SLURM
array files' lines; every layer builds and reads it here (issue 23), never by its own
slicing. A fold dir is read from the key's end, never by prefix: a variant named
`inner_relu` or `fold_x` is no fold part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REFIT_FOLD = -1  # the fold number of tasks that use all non-holdout data (folder `all`)
REFIT_DIR = "all"
# the words of a fold dir's parts (`fold_00`, `repeat_01`, `inner_02`), also the split
# folder's (layout.SplitLayout)
FOLD, REPEAT, INNER = "fold", "repeat", "inner"
_FOLD, _REPEAT, _INNER = (re.compile(rf"{w}_(\d+)") for w in (FOLD, REPEAT, INNER))
_PARTS = {FOLD: _FOLD, REPEAT: _REPEAT, INNER: _INNER}


def part_name(word: str, number: int) -> str:
    """One part of a fold dir: `fold_03`, `repeat_01`, `inner_00`."""
    return f"{word}_{number:02d}"


def part_number(name: str, word: str) -> int | None:
    """The number of a fold dir's part named `name` (`fold_03` -> 3 for FOLD); None when
    `name` is no such part."""
    m = _PARTS[word].fullmatch(name)
    return int(m.group(1)) if m else None


def part_glob(word: str, digits: bool = False) -> str:
    """The glob of a fold dir's part: `fold_*`; with `digits`, `fold_[0-9][0-9]*` (two
    digits at least, as `part_name` writes them: the owned split folder's patterns)."""
    return f"{word}_[0-9][0-9]*" if digits else f"{word}_*"


def is_inner_part(name: str) -> bool:
    """Whether a folder beside a fold's stages is one of its inner folds (`inner_…`, read by
    results/nested.py; never a stage)."""
    return name.startswith(f"{INNER}_")


def fold_dir_name(fold: int, repeat: int = 0, n_repeats: int = 1, inner: int = -1) -> str:
    """`fold_00`; `repeat_01/fold_00` when the split has several repeats; `all` for refit;
    `fold_00/inner_01` for inner fold 1 of outer fold 0 (nested selection), as in split/."""
    if fold == REFIT_FOLD:
        return REFIT_DIR
    name = part_name(FOLD, fold)
    if inner >= 0:
        name = f"{name}/{part_name(INNER, inner)}"
    return f"{part_name(REPEAT, repeat)}/{name}" if n_repeats > 1 else name


def parse_fold_dir(parts: list[str] | str) -> tuple[int, int, int] | None:
    """(fold, repeat, inner) of a whole fold dir (`fold_00`, `repeat_01/fold_00`,
    `fold_00/inner_01`, `all`: fold -1), given as text or its parts; None for anything else."""
    parts = parts.split("/") if isinstance(parts, str) else list(parts)
    if parts == [REFIT_DIR]:
        return REFIT_FOLD, 0, -1
    repeat = inner = None
    if parts and (m := _INNER.fullmatch(parts[-1])):
        inner, parts = int(m.group(1)), parts[:-1]
    if len(parts) == 2 and (m := _REPEAT.fullmatch(parts[0])):
        repeat, parts = int(m.group(1)), parts[1:]
    if len(parts) == 1 and (m := _FOLD.fullmatch(parts[0])):
        return int(m.group(1)), repeat or 0, -1 if inner is None else inner
    return None


def _fold_start(parts: list[str]) -> int:
    """Where the fold dir starts in a key's parts (before the stage), read from the end."""
    start = len(parts) - 1
    if parts[start - 1] == REFIT_DIR:
        return start - 1
    for pattern in (_INNER, _FOLD, _REPEAT):
        if start > 2 and pattern.fullmatch(parts[start - 1]):
            start -= 1
        elif pattern is _FOLD:
            break  # no fold_NN: nothing before it is a fold part
    return start


def variant_key(model: str, variant: str, dataset: str = "") -> str:
    """`model/variant`, `<dataset>/model/variant` in a spec with datasets: the head of its
    tasks' keys (and their folder under `tasks/`)."""
    return f"{dataset}/{model}/{variant}" if dataset else f"{model}/{variant}"


def parse_variant_key(key: str) -> tuple[str, str, str] | None:
    """(dataset, model, variant) of a `variant_key` (dataset "" without one); None for
    text that is none."""
    parts = key.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        return None
    dataset = parts[0] if len(parts) == 3 else ""
    return dataset, parts[-2], parts[-1]


def fold_key(model_variant: str, fold_dir: str) -> str:
    """The key of one fold of a variant (its tasks' keys less the stage): what an MLflow
    run of a fold is named by."""
    return f"{model_variant}/{fold_dir}"


def task_key(model_variant: str, fold_dir: str, stage: str) -> str:
    """The key of a task from its parts (`TaskId.key`, without making a TaskId: planning
    makes 100,000 keys)."""
    return f"{fold_key(model_variant, fold_dir)}/{stage}"


@dataclass(frozen=True)
class TaskId:
    """One task: model × variant × fold (× repeat, × inner fold) × stage, of a dataset.
    `repeated`: the split has several repeats, so the fold dir names the repeat."""

    model: str
    variant: str
    fold: int
    stage: str
    repeat: int = 0
    inner: int = -1
    dataset: str = ""
    repeated: bool = False

    @property
    def fold_dir(self) -> str:
        return fold_dir_name(self.fold, self.repeat, 2 if self.repeated else 1, self.inner)

    @property
    def model_variant(self) -> str:
        """`model/variant`, `<dataset>/model/variant` in a spec with datasets."""
        return variant_key(self.model, self.variant, self.dataset)

    @property
    def key(self) -> str:
        return task_key(self.model_variant, self.fold_dir, self.stage)

    def __str__(self) -> str:
        return self.key

    @property
    def path(self) -> str:
        """The task folder relative to `tasks/` (the key itself)."""
        return self.key

    @classmethod
    def parse(cls, key: str) -> TaskId | None:
        """The TaskId of a key; None when it is not one (no fold dir, too few parts)."""
        parts = key.split("/")
        start = _fold_start(parts)
        where = parse_fold_dir(parts[start:-1]) if start < len(parts) - 1 else None
        head = parts[:start]
        if where is None or len(head) not in (2, 3) or not all(parts):
            return None
        fold, repeat, inner = where
        repeated = any(_REPEAT.fullmatch(p) for p in parts[start:-1])
        dataset = head[0] if len(head) == 3 else ""
        return cls(head[-2], head[-1], fold, parts[-1], repeat, inner, dataset, repeated)

    @classmethod
    def of_parts(
        cls, model_variant: str, fold_dir: str, stage: str
    ) -> TaskId | None:
        """The TaskId of an audit line's fields (`[dataset/]model/variant`, fold dir, stage)."""
        return cls.parse(f"{model_variant}/{fold_dir}/{stage}")


def split_key(key: str) -> tuple[str, str, str]:
    """`[<dataset>/]model/variant/<fold dir>/stage` -> (fold dir, [dataset/]model/variant,
    stage), read from the end (see `_fold_start`); a key that is no task key is split as
    far as it goes."""
    parts = key.split("/")
    start = _fold_start(parts)
    return "/".join(parts[start:-1]), "/".join(parts[:start]), parts[-1]
