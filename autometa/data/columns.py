"""Column typing for :mod:`autometa.data`: decide each feature's type and convert it.

Work happens on a column's distinct values where possible (factorize once, then parse the
uniques), so typing stays vectorised and cheap even for 100k-row tables.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pandas.api.types import (
    infer_dtype,
    is_bool_dtype,
    is_complex_dtype,
    is_datetime64_any_dtype,
    is_numeric_dtype,
    is_timedelta64_dtype,
)
from pandas.tseries.api import guess_datetime_format

from autometa.exceptions import DataError

FeatureType = Literal["numeric", "categorical", "boolean", "datetime"]
Override = Literal["numeric", "categorical"]

MAX_INT_CATEGORIES = 10  #: integer-valued columns with at most this many values are categorical
ID_MIN_ROWS = 20  #: unique-per-row columns are only called id-like from this many rows on
#: integer columns are id-like (a counter) only when max - min + 1 <= this x the row count,
#: i.e. at least half the integers in their range are used
ID_MAX_SPAN_PER_ROW = 2
DATETIME_MIN_SHARE = 0.95  #: share of non-missing values a date format must parse
BOOL_PAIRS = frozenset(
    frozenset(p) for p in (("true", "false"), ("yes", "no"), ("t", "f"), ("y", "n"))
)
_NUMBER_KINDS = ("integer", "floating", "mixed-integer-float", "decimal")
_MIXED_KINDS = ("complex", "mixed", "mixed-integer", "unknown-array")  #: may hold odd cells
_EPOCH = pd.Timestamp("1970-01-01")
_DAY = pd.Timedelta(days=1)


@dataclass
class Typed:
    """Outcome for one column: ``kind`` and ``values``, or ``dropped`` with a reason."""

    kind: FeatureType | None = None
    values: np.ndarray | pd.Categorical | None = None
    dropped: str | None = None


def type_column(
    name: str,
    col: pd.Series,
    *,
    override: Override | None,
    declared: str | None,
    messages: list[str],
) -> Typed:
    """Type one feature column; appends human-readable notes to ``messages``."""
    check_cells(name, col)
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes, labels = _codes_labels(col)
        return _from_labels(name, codes, labels, override, "categorical", messages)
    if is_bool_dtype(col.dtype):
        codes, labels = _codes_labels(col)
        return _from_labels(name, codes, labels, override, "categorical", messages)
    if is_datetime64_any_dtype(col.dtype):
        return _from_datetime(name, col, override, messages)
    if is_timedelta64_dtype(col.dtype):
        return _from_numbers(name, (col / _DAY).to_numpy(np.float64), override, declared)
    if is_numeric_dtype(col.dtype):
        return _from_numbers(name, col.to_numpy(np.float64, na_value=np.nan), override, declared)
    if col.dtype == object:
        inferred = infer_dtype(col, skipna=True)
        if inferred in _NUMBER_KINDS:
            values = pd.to_numeric(col, errors="coerce").to_numpy(np.float64, na_value=np.nan)
            return _from_numbers(name, values, override, declared)
        if inferred in ("datetime", "datetime64", "date"):
            parsed = pd.to_datetime(col, errors="coerce", utc=True)
            return _from_datetime(name, parsed, override, messages)
    codes, labels = _codes_labels(col)
    return _from_labels(name, codes, labels, override, declared, messages)


def check_cells(name: str, col: pd.Series) -> None:
    """Raise DataError when a column holds complex numbers or unhashable cells (dicts, lists)."""
    if is_complex_dtype(col.dtype):
        kinds: set[type] = {complex}
    elif col.dtype == object and infer_dtype(col, skipna=True) in _MIXED_KINDS:
        kinds = set(map(type, col.to_numpy()))
    else:
        return
    if any(issubclass(k, complex | np.complexfloating) for k in kinds):
        raise DataError(
            f"Column '{name}' holds complex numbers; split it into two numeric columns "
            "(real and imaginary parts) or drop it."
        )
    bad = sorted(k.__name__ for k in kinds if not issubclass(k, Hashable))
    if bad:
        hint = " (e.g. one column per key)" if bad[0] == "dict" else ""
        raise DataError(
            f"Column '{name}' holds {bad[0]} values; convert them to numbers or text{hint} "
            "or drop the column."
        )


def _codes_labels(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 = missing) and distinct cleaned string labels of a column."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    if len(uniques) == 0:
        return codes, np.array([], dtype=object)
    if isinstance(uniques, pd.Categorical):
        uniques = np.asarray(uniques)
    clean = pd.Index(uniques).astype(str).str.strip()
    labels, inverse = np.unique(clean.to_numpy(dtype=object), return_inverse=True)
    codes = np.where(codes >= 0, inverse[np.maximum(codes, 0)], -1)
    if len(labels) and labels[0] == "":  # empty strings are missing values
        codes = codes - 1
        labels = labels[1:]
    return codes, labels


def _from_labels(
    name: str,
    codes: np.ndarray,
    labels: np.ndarray,
    override: Override | None,
    declared: str | None,
    messages: list[str],
) -> Typed:
    if len(labels) == 0:
        return Typed(dropped="all missing")
    if override == "numeric":
        return _forced_numeric(name, codes, labels, messages)
    if len(labels) == 1:
        return Typed(dropped="constant")
    if override == "categorical":
        return Typed("categorical", _categorical(codes, labels))
    if len(labels) == 2 and frozenset(lab.lower() for lab in labels) in BOOL_PAIRS:
        return Typed("boolean", _categorical(codes, labels))
    if declared == "categorical":
        return _categorical_or_id(codes, labels)
    counts = np.bincount(codes[codes >= 0], minlength=len(labels))
    numbers = pd.to_numeric(pd.Series(labels, dtype=object), errors="coerce").to_numpy(np.float64)
    parsed = ~np.isnan(numbers)
    if declared != "datetime" and parsed.all():
        return _from_numbers(name, _take(numbers, codes), None, declared)
    if declared != "datetime" and counts[parsed].sum() >= DATETIME_MIN_SHARE * counts.sum():
        messages.append(
            f"Column '{name}' is mostly numbers but has text values such as "
            f"{labels[~parsed][0]!r}, so it is not numeric; pass numeric=['{name}'] to read "
            "the text values as missing."
        )
    else:
        days = _parse_dates(labels, counts)
        if days is not None:
            bad = int(counts[np.isnan(days)].sum())
            if bad:
                messages.append(
                    f"Column '{name}': {bad} value(s) do not match the date format and are "
                    "treated as missing."
                )
            return Typed("datetime", _take(days, codes))
    return _categorical_or_id(codes, labels)


def _categorical_or_id(codes: np.ndarray, labels: np.ndarray) -> Typed:
    n = len(codes)
    if n >= ID_MIN_ROWS and len(labels) == n:
        return Typed(dropped="id-like")
    return Typed("categorical", _categorical(codes, labels))


def _forced_numeric(name: str, codes: np.ndarray, labels: np.ndarray, messages: list[str]) -> Typed:
    numbers = pd.to_numeric(pd.Series(labels, dtype=object), errors="coerce").to_numpy(np.float64)
    bad = np.isnan(numbers)
    if bad.all():
        raise DataError(
            f"Column '{name}' has no numeric values (e.g. {labels[0]!r}); remove it from numeric=."
        )
    if bad.any():
        n_bad = int(np.isin(codes, np.flatnonzero(bad)).sum())
        messages.append(
            f"Column '{name}': {n_bad} non-numeric value(s) such as {labels[bad][0]!r} "
            "are treated as missing (numeric= override)."
        )
    return _from_numbers(name, _take(numbers, codes), "numeric", None)


def _from_numbers(
    name: str, values: np.ndarray, override: Override | None, declared: str | None
) -> Typed:
    finite = np.isfinite(values)
    present = ~np.isnan(values)
    if not np.array_equal(finite, present):
        raise DataError(
            f"Column '{name}' contains infinite values; replace them with finite numbers "
            "or leave the cells empty (missing)."
        )
    if not present.any():
        return Typed(dropped="all missing")
    x = values if present.all() else values[present]
    if x.min() == x.max():
        return Typed(dropped="constant")
    if override == "numeric":
        return Typed("numeric", values)
    integer = bool(np.array_equal(x, np.trunc(x)))
    n_distinct = len(pd.unique(x)) if integer or override == "categorical" else len(x)
    if override == "categorical" or (
        integer and declared != "numeric" and n_distinct <= MAX_INT_CATEGORIES
    ):
        return Typed("categorical", _categorical(*number_codes_labels(values)))
    if integer and counter_like(x, len(values), n_distinct):
        return Typed(dropped="id-like")
    return Typed("numeric", values)


def counter_like(x: np.ndarray, n_rows: int, n_distinct: int) -> bool:
    """Integer values that look like a row counter: no missing, all distinct, a narrow span."""
    if not (len(x) == n_rows >= ID_MIN_ROWS and n_distinct == n_rows):
        return False
    return float(x.max()) - float(x.min()) + 1 <= ID_MAX_SPAN_PER_ROW * n_rows


def _from_datetime(
    name: str, col: pd.Series, override: Override | None, messages: list[str]
) -> Typed:
    if col.dt.tz is not None:
        col = col.dt.tz_convert("UTC").dt.tz_localize(None)
    days = ((col - _EPOCH) / _DAY).to_numpy(np.float64, na_value=np.nan)
    if override == "categorical":
        codes, labels = _codes_labels(col.dt.strftime("%Y-%m-%d %H:%M:%S"))
        return _from_labels(name, codes, labels, override, None, messages)
    present = ~np.isnan(days)
    if not present.any():
        return Typed(dropped="all missing")
    if days[present].min() == days[present].max():
        return Typed(dropped="constant")
    if override == "numeric":
        return Typed("numeric", days)
    return Typed("datetime", days)


#: Longest text cell read as a possible date (the longest strftime output is far shorter).
MAX_DATE_CHARS = 64


def _parse_dates(labels: np.ndarray, counts: np.ndarray) -> np.ndarray | None:
    """Days since 1970 per label under the best guessed format, or None if not dates."""
    return _best_dates(labels, counts)[0]


def date_format(labels: np.ndarray, counts: np.ndarray) -> str | None:
    """The guessed format that parses the most of ``labels`` (weighted by ``counts``) when
    it parses at least :data:`DATETIME_MIN_SHARE` of them, else None."""
    return _best_dates(labels, counts)[1]


def _best_dates(labels: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    short = np.fromiter((len(str(v)) <= MAX_DATE_CHARS for v in labels), bool, len(labels))
    if not short.any():
        return None, None
    formats: list[str] = []
    candidates = labels[short]  # long strings are not dates (and pandas' guess is quadratic)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns about day-first guesses
        for label in candidates[:: max(1, len(candidates) // 5)][:5]:
            for dayfirst in (False, True):
                fmt = guess_datetime_format(str(label), dayfirst=dayfirst)
                if fmt and ("%Y" in fmt or "%y" in fmt) and fmt not in formats:
                    formats.append(fmt)
    best: np.ndarray | None = None
    best_format: str | None = None
    best_share = 0.0
    for fmt in formats:
        parsed = pd.to_datetime(
            pd.Series(np.where(short, labels, None), dtype=object),
            format=fmt, errors="coerce", utc=True,
        )  # fmt: skip
        parsed = parsed.dt.tz_localize(None)
        days = ((parsed - _EPOCH) / _DAY).to_numpy(np.float64, na_value=np.nan)
        share = counts[~np.isnan(days)].sum() / counts.sum()
        if share > best_share:
            best, best_format, best_share = days, fmt, share
    if best_share < DATETIME_MIN_SHARE:
        return None, None
    return best, best_format


def _take(per_label: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Expand per-label float values to rows (code -1 -> NaN)."""
    return np.where(codes >= 0, per_label[np.maximum(codes, 0)], np.nan)


def _categorical(codes: np.ndarray, labels: np.ndarray) -> pd.Categorical:
    """Categorical from codes into sorted, distinct string labels."""
    return pd.Categorical.from_codes(codes, dtype=_cat_dtype(labels))


def _cat_dtype(labels: np.ndarray) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(pd.Index(labels, dtype="str"))


def number_label(value: float) -> str:
    """String form of a number used as a category: "3" for 3.0, repr otherwise."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def number_codes_labels(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 = NaN) and string labels of numbers, labels ordered by value."""
    present = ~np.isnan(values)
    uniques = np.sort(pd.unique(values[present]))
    codes = np.where(present, np.searchsorted(uniques, np.where(present, values, 0.0)), -1)
    return codes, np.array([number_label(v) for v in uniques], dtype=object)


def text_codes_labels(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 = missing or blank) and sorted, stripped string labels of any column."""
    return _codes_labels(col)


def numbers_of(col: pd.Series) -> np.ndarray | None:
    """A column as float64 when its dtype is numeric (object columns of numbers too), else None."""
    if is_bool_dtype(col.dtype) or isinstance(col.dtype, pd.CategoricalDtype):
        return None
    if is_numeric_dtype(col.dtype):
        return col.to_numpy(np.float64, na_value=np.nan)
    if col.dtype == object and infer_dtype(col, skipna=True) in _NUMBER_KINDS:
        return pd.to_numeric(col, errors="coerce").to_numpy(np.float64, na_value=np.nan)
    return None
