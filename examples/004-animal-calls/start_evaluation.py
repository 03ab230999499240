"""Stand-in for the seed's evaluation (`start_evaluation.py <cfg>`, `build_pred_index.py`,
`evaluate_benchmark.py`): eval.cfg names the detections, the annotated truth (a table with
a `label` column, or the corpus's `corpus_index.json` of annotated call events) and the run
folder. It writes `<output_dir>/evaluation/index.json` (the detections indexed by clip) and
`<output_dir>/metrics.csv` (`metric,value`: precision, recall, f1 of the `call` events).
It knows nothing of foldrun."""

import json
import sys
from pathlib import Path

import pandas as pd
from spot_cfg import read_cfg

cfg = read_cfg(sys.argv[1])
path = cfg["prediction_file"]
found = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
found = found.astype({cfg["id_column"]: str}).set_index(cfg["id_column"])[cfg["detection_column"]]
truth = pd.read_csv(cfg["truth_file"], dtype={"clip": str})
if "label" in truth:
    events = truth.set_index("clip")["label"]
else:  # the benchmark corpus: its annotations are the call events of the corpus index
    events = pd.Series(json.loads(Path(cfg["corpus_index"]).read_text()))
out = Path(cfg["output_dir"])
(out / "evaluation").mkdir(parents=True, exist_ok=True)
(out / "evaluation/index.json").write_text(json.dumps(found.to_dict(), indent=1))
hit, said = found.index.map(events).to_numpy() == "call", found.to_numpy() == "call"
precision = (hit & said).sum() / max(said.sum(), 1)
recall = (hit & said).sum() / max(hit.sum(), 1)
f1 = 2 * precision * recall / max(precision + recall, 1e-12)
pd.DataFrame({"metric": ["precision", "recall", "f1"], "value": [precision, recall, f1]}).to_csv(
    out / "metrics.csv", index=False)
