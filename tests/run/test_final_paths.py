"""A task runs in its final folder: every path it sees or records ({out}, {predictions},
FOLDRUN_TASK_DIR, cmd.txt, train.log) is the one that stays, and the commit stays atomic:
a failed or killed rerun leaves the earlier folder as it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from tests.reliability.helpers import FOLDRUN
from tests.reliability.helpers import invoke as foldrun  # main() in this process

PROGRAM = """import json, os, sys, time
out, preds = sys.argv[1], sys.argv[2]
seen = {"out": out, "task_dir": os.environ["FOLDRUN_TASK_DIR"], "predictions": preds}
json.dump(seen, open(os.path.join(out, "seen.json"), "w"))
if os.path.exists("fail-now"):
    sys.exit(3)
if os.path.exists("hang-now"):  # hangs until the test takes the file away (60 s at most)
    open("hanging", "w").write("1")
    end = time.time() + 60
    while os.path.exists("hang-now") and time.time() < end:
        time.sleep(0.05)
"""


def _project(root: Path) -> Path:
    (root / "samples.csv").write_text(
        "id,x,label\n" + "".join(f"s{i:02d},{i},{i % 2}\n" for i in range(12))
    )
    (root / "prog.py").write_text(PROGRAM)
    spec = root / "foldrun.toml"
    spec.write_text('''name = "fp"
[data]
table = "samples.csv"
id = "id"
[split]
folds = 2
strategy = "kfold"
[models.m]
train = "python prog.py {out} {predictions}"
''')
    return spec


def _train(root: Path) -> Path:
    return root / "runs/fp/tasks/m/default/fold_00/train"


def test_paths_a_task_sees_and_records_are_final(tmp_path: Path) -> None:
    spec = _project(tmp_path)
    done = foldrun("run", str(spec))
    assert done.returncode == 0, done.stderr
    final = _train(tmp_path)
    seen = json.loads((final / "seen.json").read_text())
    assert seen == {"out": str(final), "task_dir": str(final),
                    "predictions": str(final / "predictions.csv")}  # fmt: skip
    assert str(final) in (final / "cmd.txt").read_text()
    first = (final / "train.log").read_text().splitlines()[0]
    assert first.startswith("$ ") and str(final) in first and ".tmp-" not in first
    assert not (final / ".foldrun-running").exists()
    left = [p.name for p in final.parent.glob(".train.*") if p.name != ".train.lock"]
    assert not left  # no attempt or earlier folder left


def _done_then_stale(root: Path, fault: str) -> tuple[Path, Path, str]:
    """A run done, then the program edited (its tasks stale) with a fault planted."""
    spec = _project(root)
    assert foldrun("run", str(spec)).returncode == 0
    final = _train(root)
    before = (final / "DONE").read_text()
    (root / fault).write_text("1")
    with open(root / "prog.py", "a") as fh:
        fh.write("# edited: the train tasks are stale\n")
    return spec, final, before


def test_failed_rerun_keeps_the_earlier_folder(tmp_path: Path) -> None:
    spec, final, before = _done_then_stale(tmp_path, "fail-now")
    again = foldrun("run", str(spec), "--force", "--folds", "0")
    assert again.returncode == 1
    assert (final / "DONE").read_text() == before  # the earlier result is back, whole
    assert (final.parent / "train.failed/train.log").is_file()
    assert "stale" in foldrun("status", str(spec)).stdout  # the earlier result, as it was


def test_killed_rerun_puts_the_earlier_folder_back(tmp_path: Path) -> None:
    spec, final, before = _done_then_stale(tmp_path, "hang-now")
    proc = subprocess.Popen([FOLDRUN, "run", str(spec), "--force", "--folds", "0"],
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.time() + 60
    while not (tmp_path / "hanging").exists() and time.time() < deadline:
        time.sleep(0.1)
    assert (final / ".foldrun-running").exists() and not (final / "DONE").exists()
    # the runner and its fork server at once; the task's slot has a process group of its
    # own and lives on (it commits later, unheard), holding the task's lock
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    status = foldrun("status", str(spec), "--format", "json")
    states = {t["fold"] + "/" + t["stage"]: t["state"] for t in json.loads(status.stdout)["tasks"]}
    assert states["fold_00/train"] == "stale"  # the earlier folder counts, not the attempt
    (earlier,) = final.parent.glob(".train.prev-*")
    assert (earlier / "DONE").read_text() == before  # kept whole beside the dead attempt
    refused = foldrun("run", str(spec), "--folds", "0")  # a plain run: stale stays stale
    assert refused.returncode == 2 and "stale" in refused.stderr
    (tmp_path / "hang-now").unlink()  # the orphaned task ends (it slept 60 s: as long a test)
    rerun = foldrun("run", str(spec), "--force", "--folds", "0")
    assert rerun.returncode == 0, rerun.stderr
    assert (final / "DONE").read_text() != before  # the new attempt committed
    assert [p.name for p in final.parent.glob(".train.*")] == [".train.lock"]
