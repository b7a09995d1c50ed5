"""Preprocessing for estimators that cannot read category dtype or NaN themselves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

#: Categories seen fewer times than this in the training data share one "infrequent" column.
MIN_CATEGORY_FREQUENCY = 5
_CATEGORICAL_DTYPES = ("category", "object", "string", "bool")


def categorical_columns_of(X: Any) -> list[Any]:
    """Columns of a DataFrame whose dtype is categorical-like; [] for arrays.

    A module-level function (not a lambda) so fitted pipelines pickle.
    """
    if not hasattr(X, "select_dtypes"):
        return []
    return list(X.select_dtypes(include=list(_CATEGORICAL_DTYPES)).columns)


def tabular_pipeline(
    estimator: Any, categorical_columns: Sequence[str], *, scale: bool
) -> Pipeline:
    """``Pipeline(ColumnTransformer, estimator)``: one-hot categoricals, impute numerics.

    Missing categorical values become their own category (OneHotEncoder handles NaN);
    unseen or rare categories go to the infrequent column. Numerics: median imputation,
    plus standard scaling when ``scale``.
    """
    onehot = OneHotEncoder(
        handle_unknown="infrequent_if_exist",
        min_frequency=MIN_CATEGORY_FREQUENCY,
        sparse_output=False,
    )
    numeric_steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
    if scale:
        numeric_steps.append(("scale", StandardScaler()))
    columns: Any = list(categorical_columns) if categorical_columns else categorical_columns_of
    preprocess = ColumnTransformer(
        [("categorical", onehot, columns)],
        remainder=Pipeline(numeric_steps),
        verbose_feature_names_out=False,
    )
    return Pipeline([("preprocess", preprocess), ("model", estimator)])
