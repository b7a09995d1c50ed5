"""OpenML's simple qualities (``SimpleMetaFeatures`` of the OpenML evaluation engine).

As on OpenML, the target counts as an attribute: NumberOfFeatures, the numeric / symbolic /
binary counts and the missing-value percentage include it.
"""

from __future__ import annotations

import numpy as np

from autometa.metafeatures._base import PreparedData, Quality

NAMES = (
    "NumberOfInstances",
    "NumberOfFeatures",
    "NumberOfClasses",
    "NumberOfNumericFeatures",
    "NumberOfSymbolicFeatures",
    "NumberOfBinaryFeatures",
    "Dimensionality",
    "NumberOfMissingValues",
    "PercentageOfMissingValues",
    "NumberOfInstancesWithMissingValues",
    "PercentageOfInstancesWithMissingValues",
    "MajorityClassSize",
    "MajorityClassPercentage",
    "MinorityClassSize",
    "MinorityClassPercentage",
    "AutoCorrelation",
    "PercentageOfNumericFeatures",
    "PercentageOfSymbolicFeatures",
    "PercentageOfBinaryFeatures",
)


def names(task_type: str) -> list[str]:
    """Quality names of this group (the same for every task type)."""
    return list(NAMES)


def compute(data: PreparedData) -> dict[str, Quality]:
    """Compute the simple qualities."""
    n = data.n_rows
    cls = data.is_classification
    n_features = data.n_columns + 1
    n_numeric = data.numeric.shape[1] + (0 if cls else 1)
    n_symbolic = data.codes.shape[1] + (1 if cls else 0)
    n_binary = int((data.n_levels == 2).sum()) + int(cls and data.n_target_levels == 2)

    row_missing = data.numeric_missing.sum(axis=1) + (data.codes < 0).sum(axis=1)
    n_missing = int(row_missing.sum())
    n_rows_missing = int((row_missing > 0).sum())

    out: dict[str, Quality] = {
        "NumberOfInstances": float(n),
        "NumberOfFeatures": float(n_features),
        "NumberOfNumericFeatures": float(n_numeric),
        "NumberOfSymbolicFeatures": float(n_symbolic),
        "NumberOfBinaryFeatures": float(n_binary),
        "Dimensionality": n_features / n,
        "NumberOfMissingValues": float(n_missing),
        "PercentageOfMissingValues": 100.0 * n_missing / (n_features * n),
        "NumberOfInstancesWithMissingValues": float(n_rows_missing),
        "PercentageOfInstancesWithMissingValues": 100.0 * n_rows_missing / n,
        "PercentageOfNumericFeatures": 100.0 * n_numeric / n_features,
        "PercentageOfSymbolicFeatures": 100.0 * n_symbolic / n_features,
        "PercentageOfBinaryFeatures": 100.0 * n_binary / n_features,
        "AutoCorrelation": _autocorrelation(data),
    }
    if cls:
        counts = data.class_counts
        out |= {
            "NumberOfClasses": float(len(counts)),
            "MajorityClassSize": float(counts.max()),
            "MajorityClassPercentage": 100.0 * counts.max() / n,
            "MinorityClassSize": float(counts.min()),
            "MinorityClassPercentage": 100.0 * counts.min() / n,
        }
    else:
        out |= {"NumberOfClasses": 0.0, "MajorityClassSize": None, "MinorityClassSize": None}
        out |= {"MajorityClassPercentage": None, "MinorityClassPercentage": None}
    return out


def _autocorrelation(data: PreparedData) -> Quality:
    """OpenML: ``(n - 1 - changes) / (n - 1)`` in file order; for a nominal target ``changes``
    counts consecutive rows whose class differs; for a numeric target it is OpenML's
    ``sum(y[i-1] - y[i])`` (which telescopes to ``y[0] - y[-1]``)."""
    n = data.n_rows
    if n < 2:
        return None
    if data.is_classification:
        changes = float(np.count_nonzero(data.y_codes[1:] != data.y_codes[:-1]))
    else:
        changes = float(data.y_values[0] - data.y_values[-1])
    return (n - 1 - changes) / (n - 1)
