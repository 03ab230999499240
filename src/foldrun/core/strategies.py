"""The split strategy names, shared by the spec (which must load without pandas) and the
splitters."""

STRATEGIES = (
    "auto", "kfold", "stratified", "grouped", "stratified-grouped", "continuous",
    "multilabel", "predefined", "fixed",
)  # fmt: skip
GROUPED = ("grouped", "stratified-grouped")
