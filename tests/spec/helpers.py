"""Small data sets, hand-written split folders (the split folder format) and test specs."""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

COLUMNS = ["id", "patient", "x1", "x2", "label"]


def write_table(path: Path, n: int = 40) -> list[list[object]]:
    """A small classification table: id, patient (group), two features, label."""
    rows = [[f"s{i:03d}", f"p{i // 2}", i * 0.5, (i * 7) % 11, i % 2] for i in range(n)]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return rows


def write_split(
    root: Path, rows: list[list[object]], folds: int = 3, repeats: int = 1, holdout: int = 0
) -> Path:
    """A split folder as foldrun writes it: fold_XX/{train,val,test}.csv (+ holdout.csv)."""
    kept, held = rows[holdout:], rows[:holdout]
    for repeat in range(repeats):
        base = root / f"repeat_{repeat:02d}" if repeats > 1 else root
        for fold in range(folds):
            test = [r for i, r in enumerate(kept) if (i + repeat) % folds == fold]
            train = [r for r in kept if r not in test]
            folder = base / f"fold_{fold:02d}"
            folder.mkdir(parents=True)
            _write(folder / "train.csv", train)
            _write(folder / "test.csv", test)
            _write(folder / "val.csv", [])
    if holdout:
        _write(root / "holdout.csv", held)
    return root


def _write(path: Path, rows: list[list[object]]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(rows)


BASE = """\
name = "demo"
[data]
table = "samples.csv"
id = "id"
target = "label"
group = "patient"
[split]
from = "split"
"""


def write_spec(folder: Path, models: str, head: str = BASE, **split: int) -> Path:
    """samples.csv + split/ + foldrun.toml with `models` (TOML text) appended."""
    if not (folder / "samples.csv").exists():
        rows = write_table(folder / "samples.csv")
        write_split(folder / "split", rows, **split)
    path = folder / "foldrun.toml"
    path.write_text(head + textwrap.dedent(models))
    return path
