"""auto-sklearn's derived meta-features, with auto-sklearn's names and definitions.

Unlike OpenML's qualities, these count the columns of ``X`` only (the target excluded),
``Log*`` is the natural logarithm, ``*STD`` is the population standard deviation and the
skewness/kurtosis are scipy's biased (population) estimators. Where auto-sklearn returns 0
for an empty set (no categorical or no numeric column) so does autometa. The PCA features
use the seeded landmarking subsample (design matrix z-scored), not the whole dataset, and
scikit-learn's sign convention for the first component (largest loading positive).
"""

from __future__ import annotations

import math

import numpy as np

from autometa.metafeatures._base import PreparedData, Quality, clean

_CLASS = ("ClassProbabilityMin", "ClassProbabilityMax", "ClassProbabilityMean",
          "ClassProbabilitySTD")  # fmt: skip
_PCA = ("PCAFractionOfComponentsFor95PercentVariance", "PCAKurtosisFirstPC",
        "PCASkewnessFirstPC")  # fmt: skip
NAMES = (
    "LogNumberOfInstances",
    "LogNumberOfFeatures",
    "NumberOfFeaturesWithMissingValues",
    "PercentageOfFeaturesWithMissingValues",
    "NumberOfCategoricalFeatures",
    "RatioNumericalToNominal",
    "RatioNominalToNumerical",
    "DatasetRatio",
    "LogDatasetRatio",
    "InverseDatasetRatio",
    "LogInverseDatasetRatio",
    *_CLASS,
    "SymbolsMin",
    "SymbolsMax",
    "SymbolsMean",
    "SymbolsSTD",
    "SymbolsSum",
    "KurtosisMin",
    "KurtosisMax",
    "KurtosisMean",
    "KurtosisSTD",
    "SkewnessMin",
    "SkewnessMax",
    "SkewnessMean",
    "SkewnessSTD",
    *_PCA,
)


def names(task_type: str) -> list[str]:
    """Meta-feature names of this group (the same for every task type)."""
    return list(NAMES)


def compute(data: PreparedData) -> dict[str, Quality]:
    """Compute auto-sklearn's derived meta-features."""
    n, p = data.n_rows, data.n_columns
    n_num, n_cat = data.numeric.shape[1], data.codes.shape[1]
    cols_missing = int(data.numeric_missing.any(axis=0).sum() + (data.codes < 0).any(axis=0).sum())
    ratio = p / n
    out: dict[str, Quality] = {
        "LogNumberOfInstances": math.log(n),
        "LogNumberOfFeatures": math.log(p) if p else None,
        "NumberOfFeaturesWithMissingValues": float(cols_missing),
        "PercentageOfFeaturesWithMissingValues": cols_missing / p if p else None,
        "NumberOfCategoricalFeatures": float(n_cat),
        "RatioNumericalToNominal": n_num / n_cat if n_cat else 0.0,
        "RatioNominalToNumerical": n_cat / n_num if n_num else 0.0,
        "DatasetRatio": ratio,
        "LogDatasetRatio": math.log(ratio) if p else None,
        "InverseDatasetRatio": n / p if p else None,
        "LogInverseDatasetRatio": math.log(n / p) if p else None,
    }
    if data.is_classification:
        prob = data.class_counts / n
        out |= dict(zip(_CLASS, (prob.min(), prob.max(), prob.mean(), prob.std()), strict=True))
    else:
        out |= dict.fromkeys(_CLASS)
    out |= _symbols(data)
    out |= _spread("Kurtosis", data.moments["pop_kurt"], n_num)
    out |= _spread("Skewness", data.moments["pop_skew"], n_num)
    return out | _pca(data)


def _symbols(data: PreparedData) -> dict[str, Quality]:
    """Distinct non-missing values per categorical column (auto-sklearn's NumSymbols)."""
    if data.codes.shape[1] == 0:
        return {f"Symbols{s}": 0.0 for s in ("Min", "Max", "Mean", "STD", "Sum")}
    counts = np.array([len(np.unique(c[c >= 0])) for c in data.codes.T], dtype=np.float64)
    pos = counts[counts > 0]
    return {
        "SymbolsMin": float(pos.min()) if pos.size else 0.0,
        "SymbolsMax": float(counts.max()),
        "SymbolsMean": float(pos.mean()) if pos.size else 0.0,
        "SymbolsSTD": float(pos.std()) if pos.size else 0.0,
        "SymbolsSum": float(counts.sum()),
    }


def _spread(stem: str, values: np.ndarray, n_numeric: int) -> dict[str, Quality]:
    """Min, Max, Mean, STD of per-column values, NaN ignored; 0 without numeric columns."""
    keys = [f"{stem}{s}" for s in ("Min", "Max", "Mean", "STD")]
    if n_numeric == 0:
        return dict.fromkeys(keys, 0.0)
    v = values[np.isfinite(values)]
    if v.size == 0:
        return dict.fromkeys(keys)
    return dict(zip(keys, (v.min(), v.max(), v.mean(), v.std()), strict=True))


def _pca(data: PreparedData) -> dict[str, Quality]:
    """PCA of the z-scored design matrix of the subsample (auto-sklearn's PCA features)."""
    x = data.sample_design
    width = x.shape[1]
    x = x - x.mean(axis=0)
    sd = x.std(axis=0)
    x = x[:, sd > 0] / sd[sd > 0]
    if x.shape[0] < 2 or x.shape[1] == 0:
        return dict.fromkeys(_PCA)
    eigval, eigvec = np.linalg.eigh(x.T @ x)  # ascending; cheaper than an SVD of x
    eigval = np.clip(eigval[::-1], 0.0, None)
    ratio = eigval / eigval.sum()
    n_comp = min(int(np.searchsorted(np.cumsum(ratio), 0.95)) + 1, len(ratio))
    first = eigvec[:, -1]
    first = first * np.sign(first[np.argmax(np.abs(first))])  # scikit-learn's svd_flip sign
    pc = x @ first
    d2 = pc**2
    m2 = d2.mean()
    return {
        "PCAFractionOfComponentsFor95PercentVariance": n_comp / width,
        "PCAKurtosisFirstPC": clean((d2 * d2).mean() / m2**2 - 3.0) if m2 > 0 else None,
        "PCASkewnessFirstPC": clean((d2 * pc).mean() / m2**1.5) if m2 > 0 else None,
    }
