"""``TableTyper``: autometa's column typing as a fitted scikit-learn transformer.

``fit`` types the training rows exactly as :func:`~autometa.data.load_dataset` does (numbers,
categories, booleans, dates as days since 1970; constant, empty and id-like columns dropped)
and remembers the outcome; ``transform`` gives any later rows, one row included, the same
columns, dtypes and categories, so a model fitted on the typed training table predicts
them. A category unseen in training becomes missing; a column missing from the rows is a
ValueError naming it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from autometa.data import columns as typing_
from autometa.data.dataset import DataWarning
from autometa.data.features import type_features


class TableTyper(TransformerMixin, BaseEstimator):
    """Type a table's columns on ``fit``; type later rows the same way on ``transform``.

    Args:
        categorical: columns to read as categories whatever their values.
        numeric: columns to read as numbers (text cells become missing).
    """

    def __init__(
        self, categorical: Sequence[str] | None = None, numeric: Sequence[str] | None = None
    ) -> None:
        self.categorical = categorical
        self.numeric = numeric

    def fit(self, X: Any, y: Any = None) -> TableTyper:
        """Learn each column's type, categories and date format from the rows of ``X``."""
        self._fit(X)
        return self

    def fit_transform(self, X: Any, y: Any = None, **params: Any) -> pd.DataFrame:
        """:meth:`fit`, and the training rows as typed there (what :meth:`transform`
        would give them, without typing them twice)."""
        return self._fit(X)

    def _fit(self, X: Any) -> pd.DataFrame:
        frame = as_table(X)
        overrides: dict[str, Any] = {str(c): "categorical" for c in self.categorical or ()}
        overrides.update({str(c): "numeric" for c in self.numeric or ()})
        messages: list[str] = []
        typed, types, dropped = type_features(frame, overrides, {}, messages)
        for message in messages:
            warnings.warn(message, DataWarning, stacklevel=2)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.feature_types_ = types
        self.dropped_ = dropped
        self.categories_ = {
            c: typed[c].cat.categories for c, t in types.items() if t in ("categorical", "boolean")
        }
        self.number_labels_ = {
            c: typing_.numbers_of(frame[c]) is not None or _all_number_labels(cats)
            for c, cats in self.categories_.items()
        }
        self.date_formats_ = {
            c: _date_format(frame[c]) for c, t in types.items() if t == "datetime"
        }
        return typed

    def transform(self, X: Any) -> pd.DataFrame:
        """The typed columns of ``X`` (any number of rows), as in the training table."""
        check_is_fitted(self, "feature_types_")
        frame = as_table(X, self.feature_names_in_)
        missing = [c for c in self.feature_types_ if c not in frame.columns]
        if missing:
            raise ValueError(
                f"the rows lack the training column(s) {', '.join(map(repr, missing))}"
            )
        out = {c: self._column(c, frame[c]) for c in self.feature_types_}
        return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The kept columns' names."""
        check_is_fitted(self, "feature_types_")
        return np.asarray(list(self.feature_types_), dtype=object)

    def _column(self, name: str, col: pd.Series) -> Any:
        kind = self.feature_types_[name]
        if kind in ("categorical", "boolean"):
            return _labels(col, self.number_labels_[name], self.categories_[name])
        if kind == "datetime":
            return _days(col, self.date_formats_[name])
        numbers = typing_.numbers_of(col)
        if numbers is None:
            numbers = pd.to_numeric(col.astype(str).str.strip(), errors="coerce").to_numpy(
                np.float64, na_value=np.nan
            )
        return numbers


def as_table(X: Any, names: Sequence[str] | np.ndarray | None = None) -> pd.DataFrame:
    """``X`` as a DataFrame with string column names (an array's columns named as in
    training, or ``x0``, ``x1``, ...), its index reset."""
    if isinstance(X, pd.DataFrame):
        frame = X.set_axis([str(c) for c in X.columns], axis=1)
    else:
        values = np.asarray(X, dtype=object) if not hasattr(X, "shape") else X
        if getattr(values, "ndim", 2) != 2:
            raise ValueError(f"expected a 2-D table of rows x columns, got {values.ndim}-D")
        width = values.shape[1]
        columns = list(names) if names is not None and len(names) == width else None
        frame = pd.DataFrame(values, columns=columns or [f"x{j}" for j in range(width)])
    return frame.reset_index(drop=True)


def _labels(col: pd.Series, numbers: bool, categories: pd.Index) -> pd.Categorical:
    """A column's cells as the training categories (unseen or blank cells: missing)."""
    values = typing_.numbers_of(col) if numbers else None
    if values is not None:
        labels = pd.Series(
            [typing_.number_label(v) if not np.isnan(v) else None for v in values], dtype=object
        )
    else:
        labels = (
            col.astype(object)
            .where(col.notna())
            .map(lambda v: str(v).strip() if v is not None else None)
        )
    known = labels.where(labels.isin(categories))  # unseen labels: missing, said plainly
    return pd.Categorical(known, dtype=pd.CategoricalDtype(categories))


def _days(col: pd.Series, fmt: str | None) -> np.ndarray:
    """Days since 1970 of a date column (text parsed with the training format)."""
    if not pd.api.types.is_datetime64_any_dtype(col.dtype):
        col = pd.to_datetime(col, format=fmt, errors="coerce", utc=True)
    if col.dt.tz is not None:
        col = col.dt.tz_convert("UTC").dt.tz_localize(None)
    return ((col - typing_._EPOCH) / typing_._DAY).to_numpy(np.float64, na_value=np.nan)


def _date_format(col: pd.Series) -> str | None:
    """The format text dates of a training column parse with (None: a datetime dtype)."""
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        return None
    codes, labels = typing_.text_codes_labels(col)
    counts = np.bincount(codes[codes >= 0], minlength=len(labels))
    return typing_.date_format(labels, counts)


def _all_number_labels(categories: pd.Index) -> bool:
    numbers = pd.to_numeric(pd.Series(categories, dtype=object), errors="coerce")
    return bool(numbers.notna().all()) and all(
        typing_.number_label(v) == c for v, c in zip(numbers, categories, strict=True)
    )
