"""OpenML's statistical qualities (``Statistical`` and ``NominalAttDistinctValues``).

Per numeric attribute (the target too, for regression, as on OpenML): mean, sample standard
deviation (n - 1), bias-corrected sample skewness and excess kurtosis (Apache commons /
pandas estimators). Each is summarised over attributes by mean, min, max and quartiles.
"""

from __future__ import annotations

import numpy as np

from autometa.metafeatures._base import PreparedData, Quality, clean, summary

_STEMS = {
    "Means": "mean",
    "StdDev": "std",
    "Kurtosis": "kurt",
    "Skewness": "skew",
}
_NOMINAL = (
    "MaxNominalAttDistinctValues",
    "MinNominalAttDistinctValues",
    "MeanNominalAttDistinctValues",
    "StdvNominalAttDistinctValues",
)
_STATS = ("Mean", "Min", "Max", "Quartile1", "Quartile2", "Quartile3")
NAMES = tuple(f"{s}{k}OfNumericAtts" for k in _STEMS for s in _STATS) + _NOMINAL


def names(task_type: str) -> list[str]:
    """Quality names of this group (the same for every task type)."""
    return list(NAMES)


def compute(data: PreparedData) -> dict[str, Quality]:
    """Compute the statistical qualities."""
    out: dict[str, Quality] = {}
    moments = data.moments
    has_numeric = data.numeric.shape[1] > 0 or not data.is_classification
    for stem, key in _STEMS.items():
        per_att = moments[key]
        if not data.is_classification:
            per_att = np.append(per_att, _target_moment(data.y_values, key))
        if has_numeric:
            out |= summary(per_att, f"{stem}OfNumericAtts")
        else:
            out |= {f"{s}{stem}OfNumericAtts": None for s in _STATS}
    return out | _distinct_values(data)


def _target_moment(y: np.ndarray, key: str) -> float:
    """One moment of the (complete) numeric target, with the estimators of ``moments``."""
    n = float(len(y))
    if key == "mean":
        return float(y.mean())
    if key == "std":
        return float(y.std(ddof=1)) if n > 1 else 0.0
    d = y - y.mean()
    var = (d @ d) / (n - 1) if n > 1 else 0.0
    if y.min() == y.max() or n < (3 if key == "skew" else 4):
        return float("nan")
    if key == "skew":
        return n / ((n - 1) * (n - 2)) * float((d**3).sum()) / var**1.5
    m4 = float((d**4).sum())
    return n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * m4 / var**2 - 3 * (n - 1) ** 2 / (
        (n - 2) * (n - 3)
    )


def _distinct_values(data: PreparedData) -> dict[str, Quality]:
    """Observed distinct non-missing values per nominal attribute, the target included."""
    codes = data.codes
    counts = []
    if codes.shape[1]:
        # one bincount over all columns: offset each column's codes into its own range
        offsets = np.concatenate([[0], np.cumsum(data.n_levels + 1)[:-1]])
        flat = np.bincount((codes + 1 + offsets).ravel(), minlength=int((data.n_levels + 1).sum()))
        seen = flat > 0
        seen[offsets] = False  # the slot of code -1 (missing)
        counts = np.add.reduceat(seen, offsets).tolist()
    if data.is_classification:
        counts.append(len(data.class_counts))
    if not counts:
        return dict.fromkeys(_NOMINAL)
    v = np.asarray(counts, dtype=np.float64)
    return {
        "MaxNominalAttDistinctValues": float(v.max()),
        "MinNominalAttDistinctValues": float(v.min()),
        "MeanNominalAttDistinctValues": float(v.mean()),
        "StdvNominalAttDistinctValues": clean(v.std(ddof=1)) if len(v) > 1 else 0.0,
    }
