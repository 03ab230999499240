"""Writes a small synthetic stand-in for the mPower audio data, in the seed's file shapes
(seeded, so every run writes the same bytes):

- data/melSpec/{healthCode}_{record_id}_audio_audio_m4a.jpg: one 16 x 24 grey mel
  spectrogram per voice recording, 2 to 4 recordings per patient (UUID healthCodes); a
  patient with Parkinson's disease has more energy in the low mel bands, plus noise;
- data/Demographics_Survey.csv: `healthCode,professional-diagnosis` (True/False; a few
  patients answered nothing, and a few never recorded);
- splits/common_val_test_all_subdbs.csv: `fold_iteration,healthCode,subset`, the val and
  test patients of each of 3 folds, shared by every sub-database;
- splits/subdb{k}_train_{PD}_{control}.csv: the same header, the train patients of each
  fold for sub-database k, drawn with the share of PD / control patients its name says
  (the IMBALMED sub-databases differ in their class imbalance).
"""

import random
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

HERE = Path(__file__).resolve().parent
FOLDS = 3
SUBDBS = {1: (50, 50), 2: (30, 70), 3: (15, 85)}  # sub-database: % PD / % control in train
rng = np.random.default_rng(2)
ids = random.Random(2)


def new_uuid() -> str:
    return str(uuid.UUID(int=ids.getrandbits(128), version=4))


def spectrogram(pd_patient: bool, voice: float) -> np.ndarray:
    """Mel bands (rows, low first) x frames: a voice level per patient, and low-band energy
    for a PD patient (the signal the stand-in model can learn), plus noise."""
    bands = np.linspace(1.0, 0.2, 16)[:, None] * voice + rng.normal(0, 0.04, (16, 1))
    if pd_patient:
        bands = bands + np.r_[np.full(6, 0.08), np.zeros(10)][:, None]
    pixels = 255 * np.clip(bands + rng.normal(0, 0.2, (16, 24)), 0, 1)
    return pixels.astype(np.uint8)


def patients(n: int) -> pd.DataFrame:
    codes = [new_uuid() for _ in range(n)]
    return pd.DataFrame({"healthCode": codes, "pd": rng.random(n) < 0.4})


def write_recordings(people: pd.DataFrame) -> None:
    folder = HERE / "data/melSpec"
    folder.mkdir(parents=True, exist_ok=True)
    for code, is_pd in zip(people["healthCode"], people["pd"], strict=True):
        voice = rng.uniform(0.3, 0.6)
        for _ in range(rng.integers(2, 5)):
            image = Image.fromarray(spectrogram(bool(is_pd), voice))  # grey (L)
            image.save(folder / f"{code}_{new_uuid()}_audio_audio_m4a.jpg", quality=90)


def write_survey(people: pd.DataFrame, unrecorded: pd.DataFrame) -> None:
    answer = people["pd"].map({True: "True", False: "False"})
    answer.iloc[:3] = ""  # no answer: foldrun scan drops these patients' recordings
    survey = pd.concat([
        pd.DataFrame({"healthCode": people["healthCode"], "professional-diagnosis": answer}),
        pd.DataFrame({"healthCode": unrecorded["healthCode"],
                      "professional-diagnosis": unrecorded["pd"].astype(str)}),
    ]).sample(frac=1, random_state=2)  # fmt: skip
    survey.to_csv(HERE / "data/Demographics_Survey.csv", index=False)


def common_split(people: pd.DataFrame) -> tuple[pd.DataFrame, list[list[str]]]:
    """Patients dealt to 3 test folds; fold f validates on 6 patients of fold f+1's test
    set. Returns the common file and, per fold, the patients left for training."""
    order = people.sample(frac=1, random_state=2)["healthCode"].tolist()
    test = [order[f::FOLDS] for f in range(FOLDS)]
    rows, rest = [], []
    for f in range(FOLDS):
        val = test[(f + 1) % FOLDS][:6]
        rows += [(f, code, "test") for code in test[f]] + [(f, code, "val") for code in val]
        rest.append([c for c in order if c not in set(test[f]) | set(val)])
    return pd.DataFrame(rows, columns=["fold_iteration", "healthCode", "subset"]), rest


def train_split(people: pd.DataFrame, rest: list[list[str]], share: tuple) -> pd.DataFrame:
    """Per fold, as many of the patients left as give the sub-database's PD share."""
    is_pd = people.set_index("healthCode")["pd"]
    rows = []
    for f, codes in enumerate(rest):
        sick = [c for c in codes if is_pd[c]]
        well = [c for c in codes if not is_pd[c]]
        n_sick = min(len(sick), round(len(well) * share[0] / share[1]))
        n_well = min(len(well), round(n_sick * share[1] / share[0]))
        chosen = sorted(sick[:n_sick] + well[:n_well])
        rows += [(f, code, "train") for code in chosen]
    return pd.DataFrame(rows, columns=["fold_iteration", "healthCode", "subset"])


people = patients(60)
unrecorded = patients(5)  # answered the survey, never recorded their voice
write_recordings(people)
write_survey(people, unrecorded)
(HERE / "splits").mkdir(exist_ok=True)
common, rest = common_split(people)
common.to_csv(HERE / "splits/common_val_test_all_subdbs.csv", index=False)
for k, share in SUBDBS.items():
    train = train_split(people, rest, share)
    train.to_csv(HERE / f"splits/subdb{k}_train_{share[0]}_{share[1]}.csv", index=False)
    print(f"subdb{k}: {len(train)} train patient-folds ({share[0]}% PD)")
n_images = len(list((HERE / "data/melSpec").glob("*.jpg")))
print(f"wrote {n_images} mel spectrograms of {len(people)} patients, the survey and the splits")
