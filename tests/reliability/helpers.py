"""Shared pieces of the reliability suite: a small project of short command-model tasks
whose every execution appends a line to a side-effect file, the real console script, and
snapshots of task folders and directory trees."""

from __future__ import annotations

import contextlib
import json
import os
import site
import subprocess
import sys
import traceback
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import foldrun as _package

FOLDRUN = str(Path(sys.executable).parent / "foldrun")

# train writes a model file; predict writes predictions. Each execution appends its key
# to counter.txt (O_APPEND, one write) so executions can be counted from side effects.
MODEL = """
import csv, os, sys
train, test, out, predictions, counter, key = sys.argv[1:7]
fd = os.open(counter, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
os.write(fd, (key + "\\n").encode())
os.close(fd)
fault = os.path.join(os.path.dirname(counter), "fault-" + key.replace("/", "_"))
if os.path.exists(fault):  # a one-off fault planted by the test
    action = open(fault).read().strip()
    os.unlink(fault)
    if action == "kill":
        os.kill(os.getpid(), 9)
    elif action == "memory":
        hog = bytearray(2 ** 31)
if predictions == "-":
    rows = list(csv.DictReader(open(train)))
    labels = [r["target"] for r in rows]
    open(out + "/model.txt", "w").write(max(sorted(set(labels)), key=labels.count))
else:
    rows = list(csv.DictReader(open(test)))
    cls = open(out + "/model.txt").read()
    with open(predictions, "w") as fh:
        fh.write("id,pred,score\\n")
        for r in rows:
            fh.write(f"{r['id']},{cls},{(float(r['x1']) * 7.31) % 1:.6f}\\n")
"""


def table(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": [f"s{i:03d}" for i in range(n)],
            "x1": rng.normal(size=n).round(4),
            "x2": rng.normal(size=n).round(4),
            "target": np.tile([0, 1], n // 2),
        }
    )


def project(root: Path, folds: int = 4, grid: int = 2, extra: str = "", prefix: str = "") -> Path:
    """A spec of one command model: grid x folds x (train, predict, evaluate) tasks."""
    root.mkdir(parents=True, exist_ok=True)
    table().to_csv(root / "samples.csv", index=False)
    (root / "model.py").write_text(MODEL)
    values = ", ".join(str(v) for v in range(grid))
    counter = root / "counter.txt"
    (root / "foldrun.toml").write_text(f'''name = "toy"
[data]
table = "samples.csv"
id = "id"
target = "target"
task = "classification"
[split]
folds = {folds}
seed = 0
[models.toy]
train = """{prefix}python model.py {{train}} - {{out}} - {{counter}} \\
  {{model}}/{{variant}}/{{fold}}/train"""
predict = """python model.py - {{test}} {{out}} {{predictions}} {{counter}} \\
  {{model}}/{{variant}}/{{fold}}/predict"""
params = {{ counter = "{counter}" }}
grid = {{ k = [{values}] }}
{extra}''')
    return root / "foldrun.toml"


def foldrun(*args: str, cwd: Path | None = None, env: dict | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The real console script."""
    return subprocess.run(
        [FOLDRUN, *args], cwd=cwd, env={**os.environ, **(env or {})},
        capture_output=True, text=True, timeout=timeout,
    )


def invoke(*args: str, cwd: Path | None = None, env: dict | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`foldrun *args` in this process: the console script's own main() (its exit codes and
    one-line errors) on click's CliRunner streams, with the cwd, environment and warnings a
    fresh process would have. The same result as foldrun() without a new interpreter's
    imports (1-2 s each); keep foldrun() where the process matters (signals, kill, closed
    stdout, the console script itself). `timeout` is foldrun()'s, unused here."""
    from foldrun.cli import main

    code, path, modules = 0, list(sys.path), set(sys.modules)
    with (contextlib.chdir(cwd or os.getcwd()), warnings.catch_warnings(),
          CliRunner().isolation(env=env) as (out, err, _)):  # fmt: skip
        _python_warnings()
        try:
            main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
        except Exception:  # what the real script would print and exit 1 with
            sys.stderr.write(traceback.format_exc())
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
    sys.path[:] = path
    for name in set(sys.modules) - modules:  # a user module of this project's folder: the
        where = getattr(sys.modules[name], "__file__", None)  # next may have its own
        if where and not where.startswith(_INSTALLED):
            del sys.modules[name]
    return subprocess.CompletedProcess(["foldrun", *args], code, out.getvalue().decode(),
                                       err.getvalue().decode())


# where modules that are not a test project's own come from: Python, the venv, this checkout
_INSTALLED = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages(),
                    str(Path(__file__).resolve().parents[2]), os.path.dirname(os.__file__),
                    os.path.dirname(_package.__file__)})


def _python_warnings() -> None:
    """Python's own warning filters and printing to stderr, as in a new process (pytest
    records warnings instead, so the one-line checks would not see them)."""
    warnings.resetwarnings()
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning,
                     ResourceWarning):
        warnings.simplefilter("ignore", category)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
    warnings.showwarning = _show_warning


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: object = None, line: str | None = None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def kill_seeds(total: int, default: tuple[int, ...]) -> list:
    """The kill tests' seeds 0..total-1 as parameters; those outside the sample skip (so the
    count of tests stays the same and -ra says how to run them). The sample is `default`,
    or FOLDRUN_KILL_SEEDS: "all", or seeds separated by commas ("3,17")."""
    wanted = os.environ.get("FOLDRUN_KILL_SEEDS", "").strip()
    chosen = (set(range(total)) if wanted == "all" else
              {int(s) for s in wanted.split(",")} if wanted else set(default))  # fmt: skip
    skip = pytest.mark.skip(reason="a kill seed outside the sample; FOLDRUN_KILL_SEEDS=all "
                                   "runs every seed, FOLDRUN_KILL_SEEDS=3,17 those")
    return [pytest.param(s, marks=() if s in chosen else skip) for s in range(total)]


def counts(root: Path) -> dict[str, int]:
    path = root / "counter.txt"
    lines = path.read_text().split() if path.exists() else []
    return {line: lines.count(line) for line in set(lines)}


def tasks_dir(root: Path) -> Path:
    return root / "runs/toy/tasks"


def done_keys(root: Path) -> set[str]:
    """`model/variant/fold/stage` of every task folder holding DONE (fold as a number)."""
    keys = set()
    for done in tasks_dir(root).glob("*/*/*/*/DONE"):
        if done.parent.name.startswith("."):
            continue  # a temporary folder (a commit in flight): foldrun never counts it
        stage, fold, variant, model = done.parts[-2], done.parts[-3], done.parts[-4], done.parts[-5]
        keys.add(f"{model}/{variant}/{int(fold.split('_')[1])}/{stage}")
    return keys


# files a DONE folder of each stage must hold
REQUIRED = {
    "train": {"cmd.txt", "train.log", "resources.json", "model.txt", "DONE"},
    "predict": {"cmd.txt", "train.log", "resources.json", "predictions.parquet", "DONE"},
    "evaluate": {"metrics.json", "predictions.parquet", "resources.json", "DONE"},
}


def check_folders(root: Path) -> None:
    """Every DONE task folder is whole; temporary folders are all dot-named (so never a task
    folder). A temporary folder may hold DONE: a worker that outlives a killed runner, or one
    whose rename hit a full disk, wrote it there; only the renamed folder counts as done."""
    for done in tasks_dir(root).glob("*/*/*/*/DONE"):
        folder = done.parent
        if folder.name.startswith("."):
            continue
        missing = REQUIRED[folder.name] - {p.name for p in folder.iterdir()}
        assert not missing, f"{folder} is DONE but lacks {missing}"
        assert done.read_text().strip(), f"{done} is empty"
        for name in ("metrics.json", "resources.json"):
            if (folder / name).exists():
                json.loads((folder / name).read_text())  # whole, parseable
        if (folder / "predictions.parquet").exists():
            pq.read_table(folder / "predictions.parquet")
    for path in tasks_dir(root).rglob("*"):
        assert ".tmp-" not in path.name or path.name.startswith("."), path


def results(root: Path) -> dict[str, object]:
    """metrics.json and predictions.parquet contents of every task folder, by key."""
    out: dict[str, object] = {}
    base = tasks_dir(root)
    for path in sorted(base.glob("*/*/*/*/metrics.json")):
        if not path.parent.name.startswith("."):  # temporary folders never count
            out[str(path.relative_to(base))] = json.loads(path.read_text())
    for path in sorted(base.glob("*/*/*/*/predictions.parquet")):
        if not path.parent.name.startswith("."):
            out[str(path.relative_to(base))] = pq.read_table(path).to_pylist()
    return out


def tree(root: Path) -> dict[str, int]:
    """Every file and folder below root with its size (folders: -1)."""
    return {
        str(p.relative_to(root)): (p.stat().st_size if p.is_file() else -1)
        for p in sorted(root.rglob("*"))
    }


def main_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`foldrun *args` through the console script's main() in this process, its output read
    from pytest's capsys: (exit code, stdout, stderr). For tests that only look at an exit
    code and a message; invoke() where the cwd, environment or warnings matter."""
    from foldrun.cli import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as ended:
        main(list(args))
    out, err = capsys.readouterr()
    return int(ended.value.code or 0), out, err
