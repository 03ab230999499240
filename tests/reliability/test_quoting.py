"""Hostile values (quotes, `;`, `$()`, backticks, newlines, markup) in ids, paths and params
reach programs as one argument each, are never executed, round-trip exactly through the
manifests, stay quoted in SLURM scripts and are escaped in the HTML report."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.reliability.helpers import invoke, table

MARK = "PWNED"
HOSTILE = [
    f"'; touch {MARK}1 #",
    f'"; touch {MARK}2 #',
    f"$(touch {MARK}3)",
    f"`touch {MARK}4`",
    f"a\ntouch {MARK}5",
    "<script>alert(1)</script>",
    "&amp; \\ back\\slash {braces}",
]

ARGS = """
import json, sys
out = sys.argv[1]
with open(out + "/args-" + sys.argv[2] + ".json", "w") as fh:
    json.dump(sys.argv[2:], fh)
if len(sys.argv) > 2 and sys.argv[2] == "predict":
    import csv
    rows = list(csv.DictReader(open(sys.argv[3], newline="")))
    with open(sys.argv[4], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "score"])
        for i, r in enumerate(rows):
            w.writerow([r["id"], (i % 5) / 5])
"""


def _project(root: Path) -> Path:
    """A project in a folder whose name is hostile, with hostile ids and params."""
    home = root / "we'ird $(touch PWNED0) `x` ;dir"
    home.mkdir(parents=True)
    frame = table(40)
    frame["id"] = [HOSTILE[i % len(HOSTILE)] + f" #{i}" for i in range(40)]
    frame.to_csv(home / "samples.csv", index=False)
    (home / "args.py").write_text(ARGS)
    params = ", ".join(f"p{i} = {json.dumps(v)}" for i, v in enumerate(HOSTILE))
    placeholders = " ".join(f"{{p{i}}}" for i in range(len(HOSTILE)))
    (home / "foldrun.toml").write_text(f'''name = "toy"
[data]
table = "samples.csv"
id = "id"
target = "target"
task = "classification"
[split]
folds = 2
seed = 0
[models.toy]
train = "python args.py {{out}} train {placeholders} {{train}}"
predict = "python args.py {{out}} predict {{test}} {{predictions}} {placeholders}"
params = {{ {params} }}
grid = {{ g = [{json.dumps(HOSTILE[5])}, {json.dumps(HOSTILE[0])}] }}
''')
    return home / "foldrun.toml"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    spec = _project(root)
    done = invoke("run", str(spec), "--jobs", "2", cwd=spec.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    return spec


def _no_marks(root: Path) -> None:
    assert not [p for p in root.rglob(f"{MARK}*")], "a value was executed"


def test_values_reach_the_program_as_one_argument(hostile_run: Path) -> None:
    home = hostile_run.parent
    _no_marks(home.parent)
    trains = sorted((home / "runs/toy/tasks/toy").glob("*/fold_*/train/args-train.json"))
    assert len(trains) == 4
    for path in trains:
        argv = json.loads(path.read_text())
        assert argv[1 : 1 + len(HOSTILE)] == HOSTILE
        assert Path(argv[-1]).is_file()  # the manifest path under the hostile folder


def test_manifests_and_predictions_round_trip_ids(hostile_run: Path) -> None:
    home = hostile_run.parent
    ids = set(pd.read_csv(home / "samples.csv")["id"])
    split = home / "runs/toy/split"
    tests = pd.concat(pd.read_csv(p) for p in sorted(split.glob("fold_*/test.csv")))
    assert set(tests["id"]) == ids and len(tests) == len(ids)
    assert set(pd.read_parquet(split / "folds.parquet")["id"]) == ids
    preds = home / "runs/toy/tasks/toy"
    got = set()
    for path in preds.glob("*/fold_*/evaluate/predictions.parquet"):
        got |= set(pq.read_table(path).column("id").to_pylist())
    assert got == ids


def test_html_report_escapes_markup(hostile_run: Path) -> None:
    home = hostile_run.parent
    done = invoke("report", str(hostile_run), cwd=home)
    assert done.returncode == 0, done.stderr[-3000:]
    html = (home / "runs/toy/report/index.html").read_text()
    assert "<script>alert(1)</script>" not in html
    _no_marks(home.parent)


def test_slurm_dry_run_scripts_parse_and_quote(tmp_path: Path) -> None:
    spec = _project(tmp_path)
    done = invoke("run", str(spec), "--backend", "slurm", "--dry-run", cwd=spec.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    scripts = sorted((spec.parent / "runs/toy").rglob("*.sbatch"))
    assert scripts
    for script in scripts:
        assert subprocess.run(["bash", "-n", str(script)]).returncode == 0, script
        text = script.read_text()
        for line in text.splitlines():
            # the hostile folder name only ever appears inside quotes
            if "we'ird" in line and not line.startswith("#SBATCH"):
                assert "'we'\"'\"'ird" in line or '"we' in line, line
    # the printed submission commands parse as a shell script too
    jobs = "\n".join(line for line in done.stdout.splitlines() if line.startswith("JOB_"))
    assert jobs
    assert subprocess.run(["bash", "-n"], input=jobs, text=True).returncode == 0
    # run them with a stand-in sbatch: nothing in the hostile path may execute
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "sbatch").write_text("#!/bin/sh\necho 1\n")
    (fake / "sbatch").chmod(0o755)
    subprocess.run(["bash", "-c", jobs], cwd=tmp_path, env={"PATH": f"{fake}:/usr/bin:/bin"})
    _no_marks(tmp_path)
