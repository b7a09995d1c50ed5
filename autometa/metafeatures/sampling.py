"""Meta-features of a large table from a row sample, with the whole table's counts.

A table of more than :data:`DESCRIBE_MAX_ROWS` rows is described from a seeded sample of
that many rows, stratified by class (:meth:`PreparedData.stratified_rows`): the moments,
entropies and mutual information of the ``statistical``, ``info_theory`` and ``derived``
groups. The sample holds the landmarkers' rows of the whole table, so the landmarkers, the
probes and the PCA meta-features are those of the whole table. The qualities that count
rows, cells, classes or levels (:data:`COUNT_QUALITIES`) are computed on every row, cheaply
(missing cells, class counts, observed levels per nominal column): a 1,000,000-row table's
``NumberOfInstances`` is 1,000,000. Tables of at most :data:`DESCRIBE_MAX_ROWS` rows are
described on every row, as before (docs/recommend.md, "Large tables").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from autometa.metafeatures import simple
from autometa.metafeatures._base import (
    PreparedData,
    Quality,
    _as_category,
    _column_kind,
    entropy_bits,
)

#: Rows above which the meta-features other than the counts come from a sample of this
#: many rows (the size anchors' largest tables have 100,000 rows: described on every row).
DESCRIBE_MAX_ROWS = 100_000

#: The qualities computed on every row of a sampled table (counts and what follows from
#: them: shares of rows or cells, class sizes and probabilities, observed levels).
COUNT_QUALITIES = (
    "NumberOfInstances",
    "Dimensionality",
    "NumberOfClasses",
    "NumberOfMissingValues",
    "PercentageOfMissingValues",
    "NumberOfInstancesWithMissingValues",
    "PercentageOfInstancesWithMissingValues",
    "MajorityClassSize",
    "MajorityClassPercentage",
    "MinorityClassSize",
    "MinorityClassPercentage",
    "AutoCorrelation",
    "MaxNominalAttDistinctValues",
    "MinNominalAttDistinctValues",
    "MeanNominalAttDistinctValues",
    "StdvNominalAttDistinctValues",
    "ClassEntropy",
    "LogNumberOfInstances",
    "NumberOfFeaturesWithMissingValues",
    "PercentageOfFeaturesWithMissingValues",
    "DatasetRatio",
    "LogDatasetRatio",
    "InverseDatasetRatio",
    "LogInverseDatasetRatio",
    "ClassProbabilityMin",
    "ClassProbabilityMax",
    "ClassProbabilityMean",
    "ClassProbabilitySTD",
    "SymbolsMin",
    "SymbolsMax",
    "SymbolsMean",
    "SymbolsSTD",
    "SymbolsSum",
)


_NOMINAL = (
    "MaxNominalAttDistinctValues",
    "MinNominalAttDistinctValues",
    "MeanNominalAttDistinctValues",
    "StdvNominalAttDistinctValues",
)


@dataclass(frozen=True)
class TableCounts:
    """What the count qualities need of a whole table."""

    n_rows: int
    n_columns: int
    cells_missing: int  #: missing cells of the attributes (the target has none)
    rows_missing: int  #: rows with a missing attribute
    columns_missing: int  #: attributes with a missing cell
    levels_seen: np.ndarray  #: observed (non-missing) levels of each nominal attribute
    class_counts: np.ndarray  #: rows per observed class (empty for regression)
    autocorrelation: Quality

    @classmethod
    def of(cls, data: PreparedData) -> TableCounts:
        """The counts of a prepared (whole) table."""
        missing = np.hstack([data.numeric_missing, data.codes < 0])
        codes = data.codes
        seen = [len(np.unique(c[c >= 0])) for c in codes.T]
        return cls(
            n_rows=data.n_rows,
            n_columns=data.n_columns,
            cells_missing=int(missing.sum()),
            rows_missing=int(missing.any(axis=1).sum()),
            columns_missing=int(missing.any(axis=0).sum()),
            levels_seen=np.asarray(seen, dtype=np.int64),
            class_counts=data.class_counts if data.is_classification else np.empty(0),
            autocorrelation=simple._autocorrelation(data),
        )

    @classmethod
    def of_table(cls, X: pd.DataFrame, target: PreparedData) -> TableCounts:
        """The counts of ``X``, column by column (no matrix of the whole table), with the
        target's from ``target`` (a PreparedData of the target alone)."""
        row_missing = np.zeros(len(X), dtype=np.int32)
        columns_missing, seen = 0, []
        for j in range(X.shape[1]):
            col = X.iloc[:, j]
            if _column_kind(col) == "nominal":
                codes = _as_category(col).cat.codes.to_numpy()
                missing = codes < 0
                seen.append(int(np.count_nonzero(np.bincount(codes[~missing], minlength=1))))
            else:
                missing = col.isna().to_numpy()
            row_missing += missing
            columns_missing += bool(missing.any())
        return cls(
            n_rows=target.n_rows,
            n_columns=X.shape[1],
            cells_missing=int(row_missing.sum()),
            rows_missing=int(np.count_nonzero(row_missing)),
            columns_missing=columns_missing,
            levels_seen=np.asarray(seen, dtype=np.int64),
            class_counts=target.class_counts if target.is_classification else np.empty(0),
            autocorrelation=simple._autocorrelation(target),
        )


def count_qualities(counts: TableCounts, task_type: str) -> dict[str, Quality]:
    """:data:`COUNT_QUALITIES` from a table's counts, with the groups' definitions."""
    n, p = counts.n_rows, counts.n_columns
    n_features = p + 1  # OpenML counts the target
    out: dict[str, Quality] = {
        "NumberOfInstances": float(n),
        "Dimensionality": n_features / n,
        "NumberOfMissingValues": float(counts.cells_missing),
        "PercentageOfMissingValues": 100.0 * counts.cells_missing / (n_features * n),
        "NumberOfInstancesWithMissingValues": float(counts.rows_missing),
        "PercentageOfInstancesWithMissingValues": 100.0 * counts.rows_missing / n,
        "AutoCorrelation": counts.autocorrelation,
        "LogNumberOfInstances": math.log(n),
        "NumberOfFeaturesWithMissingValues": float(counts.columns_missing),
        "PercentageOfFeaturesWithMissingValues": counts.columns_missing / p if p else None,
        "DatasetRatio": p / n,
        "LogDatasetRatio": math.log(p / n) if p else None,
        "InverseDatasetRatio": n / p if p else None,
        "LogInverseDatasetRatio": math.log(n / p) if p else None,
    }
    return out | _class_qualities(counts, task_type) | _level_qualities(counts, task_type)


def _class_qualities(counts: TableCounts, task_type: str) -> dict[str, Quality]:
    """Class sizes, shares, probabilities and entropy (None for regression, as the groups)."""
    names = ("MajorityClassSize", "MajorityClassPercentage", "MinorityClassSize",
             "MinorityClassPercentage", "ClassEntropy", "ClassProbabilityMin",
             "ClassProbabilityMax", "ClassProbabilityMean", "ClassProbabilitySTD")  # fmt: skip
    if task_type == "regression":
        return {"NumberOfClasses": 0.0, **dict.fromkeys(names)}
    c, n = counts.class_counts, counts.n_rows
    prob = c / n
    return {
        "NumberOfClasses": float(len(c)),
        "MajorityClassSize": float(c.max()),
        "MajorityClassPercentage": 100.0 * c.max() / n,
        "MinorityClassSize": float(c.min()),
        "MinorityClassPercentage": 100.0 * c.min() / n,
        "ClassEntropy": entropy_bits(c),
        "ClassProbabilityMin": float(prob.min()),
        "ClassProbabilityMax": float(prob.max()),
        "ClassProbabilityMean": float(prob.mean()),
        "ClassProbabilitySTD": float(prob.std()),
    }


def _level_qualities(counts: TableCounts, task_type: str) -> dict[str, Quality]:
    """Observed levels per nominal attribute: OpenML's (the class target counted too) and
    auto-sklearn's ``Symbols*`` (attributes only)."""
    seen = counts.levels_seen.astype(np.float64)
    nominal = list(seen) + ([float(len(counts.class_counts))] if task_type != "regression" else [])
    openml: dict[str, Quality] = dict.fromkeys(_NOMINAL)
    if nominal:
        v = np.asarray(nominal)
        std = float(v.std(ddof=1)) if len(v) > 1 else 0.0
        openml = {
            "MaxNominalAttDistinctValues": float(v.max()),
            "MinNominalAttDistinctValues": float(v.min()),
            "MeanNominalAttDistinctValues": float(v.mean()),
            "StdvNominalAttDistinctValues": std if np.isfinite(std) else None,
        }
    pos = seen[seen > 0]
    symbols = {
        "SymbolsMin": float(pos.min()) if pos.size else 0.0,
        "SymbolsMax": float(seen.max()) if seen.size else 0.0,
        "SymbolsMean": float(pos.mean()) if pos.size else 0.0,
        "SymbolsSTD": float(pos.std()) if pos.size else 0.0,
        "SymbolsSum": float(seen.sum()),
    }
    return openml | symbols


def prepare(
    X: pd.DataFrame, y: pd.Series, task_type: str, random_state: int = 0
) -> tuple[PreparedData, dict[str, Quality]]:
    """The PreparedData the groups compute on, and the count qualities of the whole table
    to put over theirs: the table itself and nothing, or, above :data:`DESCRIBE_MAX_ROWS`
    rows, a sample of that many rows (with the whole table's landmarking rows) and the
    counts. Raises DataError as PreparedData does."""
    if not isinstance(X, pd.DataFrame) or len(X) <= DESCRIBE_MAX_ROWS:
        return PreparedData(X, y, task_type, random_state=random_state), {}
    y = pd.Series(y) if not isinstance(y, pd.Series) else y
    if task_type != "regression":
        y = _as_category(y)  # the sample keeps every declared class
    target = PreparedData(X.iloc[:, :0], y, task_type, random_state=random_state)
    landmarks = target.sample_rows  # the whole table's: the landmarkers do not change
    rows = np.union1d(target.stratified_rows(DESCRIBE_MAX_ROWS), landmarks)
    sample = X.iloc[rows].copy()
    for j in range(X.shape[1]):  # nominal columns keep the whole column's levels
        col = X.iloc[:, j]
        if _column_kind(col) == "nominal" and not isinstance(col.dtype, pd.CategoricalDtype):
            sample.isetitem(j, _as_category(col).array[rows])
    data = PreparedData(
        sample, y.iloc[rows], task_type, random_state, sample_rows=np.searchsorted(rows, landmarks)
    )
    return data, count_qualities(TableCounts.of_table(X, target), task_type)
