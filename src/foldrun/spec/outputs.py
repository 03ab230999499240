"""How foldrun reads the files a command model's program writes: its metrics files
(`metrics = [{file = ...}]`) and its predictions in its own columns
(`[models.X.predictions]`). Checked against the spec alone; read by run/outputs.py."""

from __future__ import annotations

import importlib.util
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

# a metrics file's format from its name (CSV/TSV: long or wide, from `format` or the header)
TREE_SUFFIXES = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
PREDICTION_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
MetricsFormat = Literal["json", "yaml", "toml", "long", "wide"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _suffix(path: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    return "." + name.rsplit(".", 1)[-1] if "." in name else ""


class MetricsSource(_Strict):
    """One file the program writes its metrics in, and how its values become foldrun's
    metric keys (`test/auc`, `val/loss`, plain keys are custom)."""

    file: str  # a path template: {out}, {fold}, {fold1}, params ...; relative to the spec
    format: MetricsFormat | None = None  # default: from the extension (CSV: from the header)
    keys: dict[str, str] | None = None  # foldrun key -> dotted path (or a wide file's column)
    metric: str | None = None  # long: the column naming the metric (default "metric")
    value: str | None = None  # long: the column holding its value (default "value")
    split: str | None = None  # long: a column of val / test / external:<name>
    prefix: str = ""  # put before every key read (`val/`)

    @field_validator("file")
    @classmethod
    def _file_given(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("file is empty; name the file the program writes, e.g. "
                             "'{out}/metrics.json'")  # fmt: skip
        return value

    @field_validator("keys")
    @classmethod
    def _keys_given(cls, keys: dict[str, str] | None) -> dict[str, str] | None:
        for key, path in (keys or {}).items():
            if not key.strip() or not path.strip():
                raise ValueError(f"keys maps {key!r} to {path!r}; name a metric key and the "
                                 "path (or column) holding its value")  # fmt: skip
        return keys

    @model_validator(mode="after")
    def _fits_the_format(self) -> MetricsSource:
        kind = self.kind()
        if kind is None:
            raise ValueError(
                f"cannot tell the format of {self.file!r} from its extension; name a .json, "
                ".yaml, .toml, .csv or .tsv file, or set format = json, yaml, toml, long or wide"
            )
        if (kind in ("long", "wide", "table")) != (_suffix(self.file) in TABLE_SUFFIXES):
            raise ValueError(f"format {kind!r} does not fit {self.file!r}: a .csv or .tsv "
                             "file is long or wide, any other is json, yaml or toml")  # fmt: skip
        long_keys = [k for k in ("metric", "value", "split") if getattr(self, k) is not None]
        if long_keys and kind in ("json", "yaml", "toml", "wide"):
            raise ValueError(
                f"{', '.join(long_keys)} name columns of a long CSV/TSV file (rows of "
                f"metric, value); {self.file!r} is read as {kind}"
            )
        if self.keys is not None and kind == "long":
            raise ValueError(
                "keys maps paths of a JSON/YAML/TOML file or columns of a wide CSV; a long "
                "file names its metrics in its rows: remove keys"
            )
        if kind == "yaml" and importlib.util.find_spec("yaml") is None:
            raise ValueError(f"{self.file!r} is YAML, and reading YAML needs PyYAML, which is "
                             "not installed: pip install pyyaml, or write JSON")  # fmt: skip
        return self

    def kind(self) -> str | None:
        """json, yaml, toml, long, wide; `table` for a CSV/TSV whose header decides."""
        if self.format is not None:
            return self.format
        suffix = _suffix(self.file)
        if suffix in TABLE_SUFFIXES:
            return "long" if self.metric or self.value or self.split else "table"
        return TREE_SUFFIXES.get(suffix)


class PredictionsSpec(_Strict):
    """`[models.X.predictions]`: the program's predictions file and which of its columns
    are the id and the prediction, score or probabilities."""

    file: str = "{predictions}"  # CSV/TSV or Parquet, by extension
    id: str = "id"
    pred: str | None = None
    score: str | None = None
    # the positive class's probability (a column), or class -> column
    proba: str | dict[str, str] | None = None

    @model_validator(mode="after")
    def _one_value(self) -> PredictionsSpec:
        given = [k for k in ("pred", "score", "proba") if getattr(self, k) is not None]
        if not given:
            raise ValueError("name the column of the predictions: pred, score or proba "
                             "(e.g. proba = \"prob\")")  # fmt: skip
        if self.score is not None and self.proba is not None:
            raise ValueError("score and proba are both given; a positive-class probability "
                             "is a score: keep one")  # fmt: skip
        if isinstance(self.proba, dict) and not self.proba:
            raise ValueError("proba is an empty table; map each class to its column")
        if self.file != "{predictions}" and not self.file.lower().endswith(PREDICTION_SUFFIXES):
            raise ValueError(f"file {self.file!r} must be a .csv, .tsv or .parquet file")
        proba = [self.proba] if isinstance(self.proba, str) else list((self.proba or {}).values())
        columns = [c for c in (self.id, self.pred, self.score, *proba) if c is not None]
        twice = sorted({c for c in columns if columns.count(c) > 1})
        if twice:
            raise ValueError(f"column {twice[0]!r} is named twice; each role needs its own")
        return self

    def renames(self) -> dict[str, str]:
        """The program's column -> foldrun's (`pred`, `score`, `proba_<class>`), id aside."""
        found = {}
        if self.pred is not None:
            found[self.pred] = "pred"
        if self.score is not None:
            found[self.score] = "score"
        if isinstance(self.proba, str):  # the positive class: a score for binary metrics
            found[self.proba] = "score"
        elif self.proba is not None:
            found.update({column: f"proba_{cls}" for cls, column in self.proba.items()})
        return found
