"""A stand-in for XGBoost's XGBClassifier in the tests (xgboost is not a dependency): it
takes the integer classes 0..k-1 only and raises XGBoost's error on any other labels."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression


class IntegerClassesOnly(ClassifierMixin, BaseEstimator):
    def __init__(self, C: float = 1.0) -> None:
        self.C = C

    def fit(self, X: Any, y: Any) -> IntegerClassesOnly:
        values = np.unique(np.asarray(y))
        expected = np.arange(len(values))
        if values.dtype.kind not in "iu" or not np.array_equal(values, expected):
            raise ValueError("Invalid classes inferred from unique values of `y`.  "
                             f"Expected: {expected}, got {values}")  # fmt: skip
        self.inner_ = LogisticRegression(C=self.C, max_iter=5000).fit(X, y)
        self.classes_ = self.inner_.classes_
        return self

    def predict(self, X: Any) -> Any:
        return self.inner_.predict(X)

    def predict_proba(self, X: Any) -> Any:
        return self.inner_.predict_proba(X)
