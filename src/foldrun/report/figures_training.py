"""The training curves a model's tasks logged (results/curves.py reads them): their points as
rows, one panel per curve base name (train and val overlaid), and the report folder's
training_curves.png (matplotlib)."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from foldrun.report.figure_drawing import MAX_PANELS, PARTIAL, cached_file, panel_grid, save
from foldrun.results.curves import read_file, task_curves


def training_curves(task_paths: dict[str, list[Path]], path: Path) -> Path | None:
    """The training curves of the selected variants' tasks (results/curves.py reads them):
    one panel per curve, train solid and val dashed in it."""
    rows, unreadable = [], 0
    for label, paths in task_paths.items():
        for fold, folder in enumerate(paths):
            found, bad = read_curves(folder, label, fold)
            rows, unreadable = rows + found, unreadable + bad
    if not rows:
        return None
    return _training_figure(pd.DataFrame(rows), list(task_paths), path, unreadable)


@cached_file
def _training_figure(df: pd.DataFrame, labels: list[str], path: Path, unreadable: int = 0):
    df = df.assign(base=[curve_base(n)[0] for n in df["name"]])
    bases = sorted(df["base"].unique())[:MAX_PANELS]
    fig, axes = panel_grid(len(bases), size=3.6)
    colors = dict(zip(labels, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 10,
                      strict=False))  # fmt: skip
    for ax, base in zip(axes, bases, strict=True):
        for (label, name, fold), part in df[df["base"] == base].groupby(["label", "name", "fold"]):
            dashed = curve_base(str(name))[1] not in ("", "train")  # val (test) dashed
            ax.plot(part["step"], part["value"], color=colors[label], alpha=0.6, lw=1,
                    ls="--" if dashed else "-",
                    label=f"{label} {name}" if fold == part["fold"].min() else None)  # fmt: skip
        ax.set(xlabel="step", title=base)
    handles = {h.get_label(): h for ax in axes for h in ax.get_lines() if h.get_label()[:1] != "_"}
    if handles:
        axes[0].legend(handles.values(), handles.keys(), fontsize=7)
    if unreadable:
        fig.suptitle(unreadable_note(unreadable), fontsize=8, color=PARTIAL)
    return save(fig, path)


def unreadable_note(count: int) -> str:
    return f"{count} line(s) of the training logs could not be read: left out"


_SURROGATE = re.compile("[\ud800-\udfff]")


def read_curves(folder: Path, label: str, fold: int) -> tuple[list[dict[str, object]], int]:
    """A task folder's curve points as rows (label, fold, name, value, step), and how many
    lines of its logs could not be read (never drawn)."""
    found = task_curves(folder)
    return _rows(found.points, label, fold), found.unreadable


def read_jsonl(path: Path, label: str, fold: int) -> list[dict[str, object]]:
    """The points of one curve file as rows (see read_curves)."""
    return _rows(read_file(path).points, label, fold)


def _rows(points: list, label: str, fold: int) -> list[dict[str, object]]:
    # JSON can hold a lone surrogate ("\\ud800"), which no frame of text can
    return [{"label": label, "fold": fold, "name": _SURROGATE.sub("\ufffd", name),
             "value": value, "step": step} for name, step, value, _ in points]  # fmt: skip


SPLITS = ("train", "val", "valid", "validation", "test")


def curve_base(name: str) -> tuple[str, str]:
    """("loss", "val") of "val_loss" / "val/loss" / "loss_val": one panel per base name,
    train and val overlaid in it."""
    low = name.lower()
    for split in SPLITS:
        for sep in ("_", "/", "-"):
            if low.startswith(split + sep):
                return name[len(split) + 1 :], split
            if low.endswith(sep + split):
                return name[: -len(split) - 1], split
    return name, ""
