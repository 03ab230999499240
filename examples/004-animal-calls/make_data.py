"""Writes clips.csv and benchmark.csv: small synthetic stand-ins for the training clips
and the benchmark corpus (seeded).

clips.csv: 240 clips cut from 24 tapes (a tape's clips stay in one fold), each a `call`
(the target sound) or `noise` (mined from the same tape), 6 spectrogram summary features
and the tape's recording quality. clips_more_noise.csv: the same clips and 4 more noise
clips per tape (the seed's `random_more_noise` dataset variant). benchmark.csv: 80 clips
from 8 other tapes (recorded later, a little louder), the corpus every fold model is
benchmarked on and none trains on; it has no label column: its call events are in
corpus_index.json ({clip: call|noise}), as the seed's corpus annotations.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
rng = np.random.default_rng(4)


def clips(tapes: range, level: float) -> pd.DataFrame:
    rows = []
    for tape in tapes:
        loudness = rng.normal(level, 0.5)  # every tape has its own recording level
        for clip in range(10):
            call = int(rng.random() < 0.4)
            bands = rng.normal(loudness, 1, 6) + call * np.array([1.5, 1.0, 0, 0, 0.5, 0])
            rows.append({"clip": f"tape{tape:02d}-{clip:02d}", "tape": f"tape{tape:02d}",
                         "label": "call" if call else "noise",
                         **{f"band{j}": round(v, 4) for j, v in enumerate(bands)}})
    return pd.DataFrame(rows)


def more_noise(frame: pd.DataFrame, per_tape: int = 4) -> pd.DataFrame:
    """The training clips plus `per_tape` more noise clips mined from each tape (the seed's
    `random_more_noise` variant): around the level of the tape's own noise clips."""
    bands = [f"band{j}" for j in range(6)]
    extra = []
    for tape, rows in frame.groupby("tape"):
        level = rows.loc[rows["label"] == "noise", bands].mean().fillna(0).to_numpy()
        for k in range(per_tape):
            values = rng.normal(level, 1)
            extra.append({"clip": f"{tape}-n{k:02d}", "tape": tape, "label": "noise",
                          "quality": rows["quality"].iloc[0],
                          **{b: round(v, 4) for b, v in zip(bands, values, strict=True)}})
    return pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)


def with_quality(frame: pd.DataFrame) -> pd.DataFrame:
    """A tape's recording quality (`good` for 3 tapes in 4), as the seed's quality labels."""
    number = frame["tape"].str.removeprefix("tape").astype(int)
    return frame.assign(quality=["poor" if n % 4 == 0 else "good" for n in number])


training = with_quality(clips(range(24), 0.0))
corpus = with_quality(clips(range(24, 32), 0.3))
# the benchmark corpus has no label column: its call events are annotated in corpus_index.json
(HERE / "corpus_index.json").write_text(json.dumps(dict(zip(corpus["clip"], corpus["label"],
                                                            strict=True)), indent=1))
for name, frame in (("clips.csv", training),
                    ("benchmark.csv", corpus.drop(columns="label")),
                    ("clips_more_noise.csv", more_noise(training))):
    frame.to_csv(HERE / name, index=False)
    print(f"wrote {len(frame)} clips to {name}")
