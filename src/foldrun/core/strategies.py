"""The split strategy names and manifest formats, shared by the spec (which must load
without pandas), the splitters and the split folder."""

STRATEGIES = (
    "auto", "kfold", "stratified", "grouped", "stratified-grouped", "continuous",
    "multilabel", "predefined", "fixed",
)  # fmt: skip
GROUPED = ("grouped", "stratified-grouped")
MANIFEST_FORMATS = ("csv", "parquet")  # `foldrun split --manifests`, `[split] manifests`
