"""The run's split folder: made once from `[split]` (or taken `from` an existing one), then
reused; and what planning reads from it (fold folders, manifests, holdout).

The options and the data table's sha256 a split was made with are kept in
`.foldrun/split.json`; a later run whose options or data differ is refused, since tasks
made on other folds must not be mixed with new ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foldrun.core.files import file_sha256, write_json
from foldrun.data.table import read_table_shared
from foldrun.errors import FoldrunError, SpecError, SplitError
from foldrun.layout import INNER_MANIFESTS, MANIFESTS, SplitLayout, fold_dir_name
from foldrun.plan.data import check_columns, filtered

if TYPE_CHECKING:
    from foldrun.spec.model import Spec
    from foldrun.split import Folds


@dataclass(frozen=True)
class FoldFiles:
    repeat: int
    fold: int
    manifests: dict[str, Path | None]  # train / val / test; None when absent
    # the inner folds of the training part (`[split] inner`): train / test per inner fold
    inner: tuple[dict[str, Path | None], ...] = ()


@dataclass
class SplitFiles:
    """The manifests of a split folder, found on disk."""

    root: Path
    folds: list[FoldFiles] = field(default_factory=list)
    n_repeats: int = 1
    holdout: Path | None = None


def split_dir(spec: Spec) -> Path:
    """`[split] from`, or the run's own `split/`."""
    return spec.split_from or spec.layout.split_dir


def scan_split(root: Path) -> SplitFiles:
    """The fold folders (`fold_00`, or `repeat_00/fold_00`) with a train manifest."""
    split = SplitLayout(root)
    repeats = split.repeats()
    found = SplitFiles(root=root, n_repeats=max(len(repeats), 1))
    for repeat in repeats or [None]:
        for fold, folder in split.folds_in(repeat):
            manifests = {m: _manifest(folder, m) for m in MANIFESTS}
            if manifests["train"] is not None:
                found.folds.append(FoldFiles(repeat or 0, fold, manifests, _inner(folder)))
    found.holdout = split.find_holdout()
    if not found.folds:
        raise SpecError(
            "the split folder has no fold folders (fold_00/train.csv ...); point [split] "
            "from at a folder written by 'foldrun split', or remove it",
            file=root,
            key="split.from",
        )
    return found


def _inner(folder: Path) -> tuple[dict[str, Path | None], ...]:
    """The inner folds of a fold folder (`inner_00/{train,test}.csv`), in order."""
    found = []
    for _, inner_folder in SplitLayout.inners_in(folder):
        inner = {m: _manifest(inner_folder, m) for m in INNER_MANIFESTS}
        if inner["train"] is not None and inner["test"] is not None:
            found.append(inner)
    return tuple(found)


def fold_dir(files: FoldFiles, n_repeats: int) -> str:
    return fold_dir_name(files.fold, files.repeat, n_repeats)


def _manifest(folder: Path, subset: str) -> Path | None:
    """The manifest `subset`.csv (or `subset`.parquet) of `folder`, or None when it is
    absent or holds no rows (no val set)."""
    path = SplitLayout.manifest(folder, subset, "csv")
    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
    except (FileNotFoundError, IsADirectoryError):
        return _parquet_manifest(SplitLayout.manifest(folder, subset, "parquet"))
    _, _, rows = head.partition(b"\n")
    return path if rows.strip() else None


def _parquet_manifest(path: Path) -> Path | None:
    if not path.is_file():
        return None
    import pyarrow.parquet as pq

    try:
        return path if pq.read_metadata(path).num_rows > 0 else None
    except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
        raise SpecError(
            f"manifest {path.name} is not a Parquet file ({err}); make the split again",
            file=path,
        ) from None


def ensure_split(spec: Spec) -> Folds | None:
    """The split of this spec: `from`, or made once under the run folder and reused.

    Raises SpecError when the run's existing split was made with other options or data.
    Returns the `Folds` (None for a hand-made folder that `load_folds` cannot read).
    """
    made = prepare_split(spec)
    return made if made is not None else _load(split_dir(spec))


def pending_split(spec: Spec) -> Folds | None:
    """What `prepare_split` would do, checked without writing anything: the folds it would
    make (in memory), else None (the split is there and still fits, or comes `from` a
    folder). A spec with datasets checks every one before it writes any."""
    root = split_dir(spec)
    if spec.split_from is not None:
        check_split_from(spec)
        return None
    if root.is_dir():
        check_split_unchanged(spec)
        return None
    return make_split(spec)


def check_split_from(spec: Spec) -> None:
    """`[split] from` names a folder that is there; writes nothing."""
    _from_exists(split_dir(spec))


def _from_exists(root: Path) -> None:
    if not root.is_dir():
        raise SpecError(
            "split folder not found; run 'foldrun split' first or fix the path",
            file=root,
            key="split.from",
        )


def prepare_split(spec: Spec, made: Folds | None = None) -> Folds | None:
    """Make the run's split if it is absent (returning it; `made`: the folds
    `pending_split` made), else check that it still fits the spec. Light: no pandas unless
    the split has to be made."""
    root = split_dir(spec)
    if spec.split_from is not None:
        _from_exists(root)
        record = spec.layout.split_from_file  # results read the split there
        if _read_record(record) != {"from": str(root)}:
            _write_record(record, {"from": str(root)})
        return None
    record_path = spec.layout.split_record
    if root.is_dir():
        _check_unchanged(spec, record_path)
        return None
    folds = made if made is not None else make_split(spec)
    folds.save(root, manifests=spec.split.manifest_format)
    _write_record(record_path, _record(spec))
    return folds


def _load(root: Path) -> Folds | None:
    # lazy: foldrun.split loads pandas and pyarrow, which a check of a spec without a
    # split folder (and `import foldrun`) need not pay for
    from foldrun.split import load_folds

    scan_split(root)  # the manifests planning needs, with its own error
    try:
        return load_folds(root)
    except FoldrunError:  # manifests written by hand, without details.json
        return None


def make_split(spec: Spec) -> Folds:
    """The folds of `[split]` on the data table, in memory (nothing written)."""
    from foldrun.split import make_folds  # lazy: pandas and pyarrow, as in _load

    check_columns(spec)  # a misspelt column is named before any fold is made
    table = read_table_shared(spec.table_path, text=(spec.data.id, *spec.data.groups))
    folds = make_folds(
        filtered(spec, table),
        id=spec.data.id,
        target=spec.data.target,
        group=spec.data.group,
        source=spec.table_path,
        **spec.split_options(),
    )
    _check_listed(spec, folds)
    return folds


def _check_listed(spec: Spec, folds: Folds) -> None:
    """A fold table must place every row and match every key, unless the spec says
    unlisted rows sit out (check and run refuse it before anything is written)."""
    from foldrun.split.fold_table import unlisted_problem  # lazy: pandas, as in _load

    # a filter drops rows whose keys the fold table still lists: those keys are expected
    problem = unlisted_problem(folds.details.get("fold_table"), spec.data.filter is None)
    if problem and spec.split.unlisted != "sit out":
        files = spec.split.fold_tables()
        raise SplitError(problem, file=spec.resolve(files[0]) if files else None,
                         key="split.fold_column")  # fmt: skip


def _record(spec: Spec, known: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the split depends on; the table is re-hashed only when its size/mtime moved."""
    stat = spec.table_path.stat()
    table_stat = [stat.st_size, stat.st_mtime_ns]
    if known and known.get("table_stat") == table_stat and "table_sha256" in known:
        sha = str(known["table_sha256"])
    else:
        sha = file_sha256(spec.table_path)
    data = spec.data
    record = {
        "options": spec.split.options(),
        "data": {"id": data.id, "target": data.target, "group": data.group},
        **({"filter": data.filter} if data.filter is not None else {}),
        # absent for CSV (the default): a record written before the key existed still fits
        **({"manifests": spec.split.manifests} if spec.split.manifest_format != "csv" else {}),
        "table_sha256": sha,
        "table_stat": table_stat,
    }
    tables = [spec.resolve(f) for f in spec.split.fold_tables()]
    if tables:  # an edited fold table changes the folds like an edited data table
        record["fold_tables_sha256"] = [file_sha256(t) if t.is_file() else None for t in tables]
    return record


_WHAT = {
    "options": "the [split] options",
    "data": "[data] id/target/group",
    "filter": "the filter",
    "table_sha256": "the data table",
    "fold_tables_sha256": "the fold table",
    "manifests": "[split] manifests",
}


def split_changes(spec: Spec) -> str | None:
    """Why the run's existing split no longer matches the spec (None when it does)."""
    old = _read_record(spec.layout.split_record)
    return _changes(old, _record(spec, old)) if old is not None else None


def _changes(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    # a record written before fold tables were hashed has no such key: nothing to compare
    # (a filter or manifest format added to a spec whose split had none is a change)
    known = [k for k in _WHAT if k in old or (k in ("filter", "manifests") and k in new)]
    changed = [k for k in known if old.get(k) != new.get(k)]
    if not changed:
        return None
    differ = "folds would differ" if changed != ["manifests"] else (
        f"manifests are {old.get('manifests', 'csv')} files, not {new.get('manifests', 'csv')}"
    )  # fmt: skip
    return (
        f"{', '.join(_WHAT[k] for k in changed)} changed since the run's split was made, so "
        f"its {differ}; use a new output folder, or restore them"
    )


def check_split_unchanged(spec: Spec) -> None:
    """Refuse a run's split made with other options or data; writes nothing (for planning
    that only looks: status, check, a dry run)."""
    changes = split_changes(spec)
    if changes:
        raise SpecError(changes, file=spec.path, key=_split_key(spec))


def _check_unchanged(spec: Spec, record_path: Path) -> None:
    old = _read_record(record_path)
    if old is None:  # a split folder put there by hand: adopt it as it is
        _write_record(record_path, _record(spec))
        return
    new = _record(spec, old)  # once: the table is re-hashed only when its stat moved
    changes = _changes(old, new)
    if changes:
        raise SpecError(changes, file=spec.path, key=_split_key(spec))
    if old != new:  # same content, new mtime: remember it so the next run skips the hash
        _write_record(record_path, new)


def _split_key(spec: Spec) -> str:
    """`split`, or `datasets.<name>.split` for a dataset's: the error names the one at fault."""
    return f"datasets.{spec.dataset}.split" if spec.dataset else "split"


def _read_record(path: Path) -> Any:
    """A JSON record of `.foldrun/`; None when absent or not JSON (not written whole)."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _write_record(path: Path, record: dict[str, Any]) -> None:
    write_json(path, record, sort_keys=True, indent=1)


