"""Validated, array-backed view of one dataset, shared by all meta-feature groups.

Everything a group needs (numeric matrix, category codes, class codes, per-column moments,
the landmarking subsample) is computed at most once here, vectorised over columns.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from functools import cached_property

import numpy as np
import pandas as pd

from autometa.exceptions import DataError

TASK_TYPES = ("binary", "multiclass", "regression")
#: Rows used by landmarkers and the PCA meta-features (stratified, seeded subsample).
SAMPLE_MAX_ROWS = 2000
#: Most frequent levels one-hot encoded per categorical column in the design matrix.
MAX_ONEHOT_LEVELS = 50
_STATS = ("Mean", "Min", "Max", "Quartile1", "Quartile2", "Quartile3")

Quality = float | None


class PreparedData:
    """Arrays of a dataset ``(X, y)`` for a task type; raises :class:`DataError` if unusable."""

    def __init__(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        task_type: str,
        random_state: int = 0,
        sample_rows: np.ndarray | None = None,
    ):
        if task_type not in TASK_TYPES:
            raise DataError(f"task_type must be one of {TASK_TYPES}, got {task_type!r}")
        if not isinstance(X, pd.DataFrame):
            raise DataError(f"X must be a pandas DataFrame, got {type(X).__name__}")
        y = pd.Series(y) if not isinstance(y, pd.Series) else y
        if len(X) != len(y):
            raise DataError(f"X has {len(X)} rows but y has {len(y)}")
        if len(X) == 0:
            raise DataError("the dataset has no rows")
        if y.isna().any():
            raise DataError(f"the target has {int(y.isna().sum())} missing values")
        self.task_type = task_type
        self.random_state = random_state
        if sample_rows is not None:  # given: the rows of a larger table's landmarking sample
            self.__dict__["sample_rows"] = np.asarray(sample_rows, dtype=np.int64)
        self.n_rows = len(X)
        self.n_columns = X.shape[1]
        kinds = [_column_kind(X.iloc[:, j]) for j in range(X.shape[1])]
        num_pos = [j for j, k in enumerate(kinds) if k == "numeric"]
        cat_pos = [j for j, k in enumerate(kinds) if k == "nominal"]
        #: (n, p) float64 numeric attributes, NaN = missing.
        self.numeric = X.iloc[:, num_pos].to_numpy(dtype=np.float64, na_value=np.nan)
        cats = [_as_category(X.iloc[:, j]) for j in cat_pos]
        #: (n, q) int64 category codes, -1 = missing.
        self.codes = (
            np.column_stack([c.cat.codes.to_numpy(np.int64) for c in cats])
            if cats
            else np.empty((self.n_rows, 0), dtype=np.int64)
        )
        #: Declared number of levels per categorical column (Weka's ``numValues``).
        self.n_levels = np.array([len(c.cat.categories) for c in cats], dtype=np.int64)
        if self.is_classification:
            target = _as_category(y)
            self.y_codes = target.cat.codes.to_numpy(np.int64)
            self.n_target_levels = len(target.cat.categories)
            present = len(np.unique(self.y_codes[self.y_codes >= 0]))
            if task_type == "binary" and present > 2:
                raise DataError(
                    f"a binary target has at most 2 classes, this one has {present}; "
                    "use task_type='multiclass' or 'regression'"
                )
            self.y_values = np.empty(0)
        else:
            try:
                self.y_values = y.to_numpy(dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise DataError(f"a regression target must be numeric: {exc}") from exc
            self.y_codes = np.empty(0, dtype=np.int64)
            self.n_target_levels = 0

    @property
    def is_classification(self) -> bool:
        """Whether the target is nominal."""
        return self.task_type != "regression"

    @cached_property
    def class_counts(self) -> np.ndarray:
        """Counts of the observed classes (zero-count declared levels removed)."""
        counts = np.bincount(self.y_codes, minlength=self.n_target_levels)
        return counts[counts > 0]

    @cached_property
    def numeric_missing(self) -> np.ndarray:
        """Boolean mask of missing numeric cells."""
        return np.isnan(self.numeric)

    @cached_property
    def moments(self) -> dict[str, np.ndarray]:
        """Per numeric column, on non-missing values: count, mean, std and the
        bias-corrected sample skewness/kurtosis (Apache commons ``evaluate``), plus the
        population (biased) skewness/kurtosis that scipy and auto-sklearn use.

        Constant columns get NaN skewness/kurtosis (0/0), as in Apache commons and scipy.
        """
        a, miss = self.numeric, self.numeric_missing
        if a.shape[1] == 0:
            empty = np.empty(0)
            keys = ("count", "mean", "std", "skew", "kurt", "pop_skew", "pop_kurt")
            return dict.fromkeys(keys, empty)
        has_missing = bool(miss.any())
        if has_missing:
            a = np.where(miss, 0.0, a)
            n = (~miss).sum(axis=0).astype(np.float64)
        else:
            n = np.full(a.shape[1], float(self.n_rows))
        with np.errstate(all="ignore"):
            mean = a.sum(axis=0) / n
            d = a - mean
            if has_missing:
                d[miss] = 0.0
            d2 = d * d
            m2 = d2.sum(axis=0)
            m3, m4 = np.einsum("ij,ij->j", d2, d), np.einsum("ij,ij->j", d2, d2)
            var = np.where(n == 1, 0.0, np.where(n == 0, np.nan, m2 / (n - 1)))
            skew = n / ((n - 1) * (n - 2)) * m3 / var**1.5
            kurt = (n * (n + 1) / ((n - 1) * (n - 2) * (n - 3))) * m4 / var**2 - 3 * (
                n - 1
            ) ** 2 / ((n - 2) * (n - 3))
            pop_skew = (m3 / n) / (m2 / n) ** 1.5
            pop_kurt = (m4 / n) / (m2 / n) ** 2 - 3.0
        # NaN-ignoring column range (all-NaN columns give NaN, which is not "constant")
        lo, hi = np.fmin.reduce(self.numeric, axis=0), np.fmax.reduce(self.numeric, axis=0)
        constant = lo == hi
        for arr, min_n in ((skew, 3), (kurt, 4), (pop_skew, 1), (pop_kurt, 1)):
            arr[constant | (n < min_n)] = np.nan
        return {
            "count": n, "mean": mean, "std": np.sqrt(var), "skew": skew, "kurt": kurt,
            "pop_skew": pop_skew, "pop_kurt": pop_kurt,
        }  # fmt: skip

    @cached_property
    def sample_rows(self) -> np.ndarray:
        """Sorted indices of at most :data:`SAMPLE_MAX_ROWS` rows, stratified by class
        (unless given to the constructor)."""
        return self.stratified_rows(SAMPLE_MAX_ROWS)

    def stratified_rows(self, k: int) -> np.ndarray:
        """Sorted indices of at most ``k`` rows, seeded, stratified by class (each class
        keeps a row): all rows when there are at most ``k``."""
        n = self.n_rows
        if n <= k:
            return np.arange(n)
        rng = np.random.default_rng(self.random_state)
        perm = rng.permutation(n)
        if not self.is_classification:
            return np.sort(perm[:k])
        counts = np.bincount(self.y_codes, minlength=self.n_target_levels)
        exact = k * counts / n
        quota = np.minimum(np.maximum(np.floor(exact), counts > 0), counts).astype(int)
        # rows lost to flooring go to the classes with room and the largest remainders
        spare = np.lexsort((quota - exact, quota >= counts))
        quota[spare[: max(k - quota.sum(), 0)]] += 1
        order = perm[np.argsort(self.y_codes[perm], kind="stable")]
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        labels = self.y_codes[order]
        rank = np.arange(n) - starts[labels]
        return np.sort(order[rank < quota[labels]])

    @cached_property
    def sample_design(self) -> np.ndarray:
        """:meth:`design_matrix` of :attr:`sample_rows` (landmarkers, PCA)."""
        return self.design_matrix(self.sample_rows)

    def design_matrix(self, rows: np.ndarray) -> np.ndarray:
        """Dense model input for ``rows``: numeric columns median-imputed and min-max scaled
        to [0, 1]; categorical columns one-hot encoded with value 1/sqrt(2), so that one
        differing nominal value adds 1 to a squared Euclidean distance (as in Weka's IBk).
        """
        num = self.imputed_numeric(rows)
        lo, span = num.min(axis=0), np.ptp(num, axis=0)
        num = np.where(span > 0, (num - lo) / np.where(span > 0, span, 1.0), 0.0)
        blocks = [num]
        for j in range(self.codes.shape[1]):
            col = self.codes[rows, j]
            counts = np.bincount(col[col >= 0], minlength=1)
            keep = np.argsort(-counts, kind="stable")[: min(MAX_ONEHOT_LEVELS, len(counts))]
            keep = keep[counts[keep] > 0]
            blocks.append((col[:, None] == keep[None, :]) * np.sqrt(0.5))
        return np.hstack(blocks).astype(np.float64, copy=False)

    def imputed_numeric(self, rows: np.ndarray) -> np.ndarray:
        """Numeric columns for ``rows`` with NaN/inf replaced by the column median (0 if none)."""
        num = self.numeric[rows]
        bad = ~np.isfinite(num)
        if bad.any():
            num = np.where(bad, np.nan, num)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
                med = np.nan_to_num(np.nanmedian(num, axis=0))
            num = np.where(bad, med, num)
        return num


def _column_kind(col: pd.Series) -> str:
    if isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(col.dtype):
        return "nominal"
    if pd.api.types.is_numeric_dtype(col.dtype):
        return "numeric"
    if pd.api.types.is_object_dtype(col.dtype) or pd.api.types.is_string_dtype(col.dtype):
        return "nominal"
    raise DataError(f"column {col.name!r} has unsupported dtype {col.dtype}")


def _as_category(col: pd.Series) -> pd.Series:
    return col if isinstance(col.dtype, pd.CategoricalDtype) else col.astype("category")


def summary(
    values: Iterable[float], stem: str, stats: tuple[str, ...] = _STATS
) -> dict[str, Quality]:
    """``{stat + stem: value}`` over the finite ``values`` (OpenML's Mean, Min, Max and
    Quartile1-3 via Apache commons' legacy percentile = numpy ``method="weibull"``)."""
    v = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {s + stem: None for s in stats}
    q1, q2, q3 = np.percentile(v, [25, 50, 75], method="weibull")
    table = {"Mean": v.mean(), "Min": v.min(), "Max": v.max(),
             "Quartile1": q1, "Quartile2": q2, "Quartile3": q3}  # fmt: skip
    return {s + stem: float(table[s]) for s in stats}


def entropy_bits(counts: np.ndarray) -> float:
    """Shannon entropy in bits of a count vector (zero counts ignored)."""
    c = np.asarray(counts, dtype=np.float64)
    c = c[c > 0]
    if c.size == 0:
        return float("nan")
    p = c / c.sum()
    return float(-(p * np.log2(p)).sum())


def clean(value: object) -> Quality:
    """A plain float, or None where the value is missing or not finite."""
    if value is None:
        return None
    v = float(value)  # type: ignore[arg-type]
    return v if np.isfinite(v) else None
