"""The names of foldrun's splitter classes, read by the package (which loads them lazily,
without scikit-learn) and by split/splitters.py (its __all__): a leaf module, so neither
imports the other."""

SPLITTERS = (
    "ContinuousStratifiedGroupKFold",
    "ContinuousStratifiedKFold",
    "GroupKFold",
    "KFold",
    "MultilabelStratifiedKFold",
    "PredefinedSplit",
    "RepeatedContinuousStratifiedGroupKFold",
    "RepeatedContinuousStratifiedKFold",
    "RepeatedGroupKFold",
    "RepeatedKFold",
    "RepeatedMultilabelStratifiedKFold",
    "RepeatedStratifiedGroupKFold",
    "RepeatedStratifiedKFold",
    "StratifiedGroupKFold",
    "StratifiedKFold",
)
