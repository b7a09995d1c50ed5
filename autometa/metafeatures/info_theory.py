"""OpenML's information-theoretic qualities (``AttributeEntropy`` characterizer).

Entropies are in bits. As on OpenML, attribute entropy and mutual information are computed
for nominal attributes only (no discretisation of numeric ones) and all qualities of this
group are undefined (None) for a numeric target. Missing nominal values are left out of
the counts (OpenML's Java code counts them as the attribute's first value).
"""

from __future__ import annotations

import numpy as np

from autometa.metafeatures._base import PreparedData, Quality, entropy_bits, summary

_STATS = ("Mean", "Min", "Max", "Quartile1", "Quartile2", "Quartile3")
NAMES = (
    "ClassEntropy",
    *(f"{s}AttributeEntropy" for s in _STATS),
    *(f"{s}MutualInformation" for s in _STATS),
    "EquivalentNumberOfAtts",
    "MeanNoiseToSignalRatio",
)


def names(task_type: str) -> list[str]:
    """Quality names of this group (the same for every task type)."""
    return list(NAMES)


def compute(data: PreparedData) -> dict[str, Quality]:
    """Compute class entropy, attribute entropies and mutual information with the class."""
    out: dict[str, Quality] = dict.fromkeys(NAMES)
    if not data.is_classification:
        return out
    class_entropy = entropy_bits(data.class_counts)
    out["ClassEntropy"] = class_entropy
    if data.codes.shape[1] == 0:
        return out
    att_entropy, mutual_info = attribute_entropies(data)
    out |= summary(att_entropy, "AttributeEntropy") | summary(mutual_info, "MutualInformation")
    mean_mi, mean_h = out["MeanMutualInformation"], out["MeanAttributeEntropy"]
    if mean_mi is not None and mean_h is not None and mean_mi > 0:
        out["EquivalentNumberOfAtts"] = class_entropy / mean_mi
        out["MeanNoiseToSignalRatio"] = (mean_h - mean_mi) / mean_mi
    return out


def attribute_entropies(data: PreparedData) -> tuple[np.ndarray, np.ndarray]:
    """Per nominal attribute: entropy H(A) and mutual information I(A; C), in bits.

    One ``bincount`` builds every attribute-by-class contingency table at once; entropies
    follow from ``H = log2(N) - sum(c log2 c) / N`` with sums reduced per attribute.
    """
    codes, y = data.codes, data.y_codes
    k = max(data.n_target_levels, 1)
    width = np.maximum(data.n_levels, 1)
    offsets = np.concatenate([[0], np.cumsum(width)[:-1]])
    valid = codes >= 0
    keys = ((codes + offsets) * k + y[:, None])[valid]
    joint = np.bincount(keys, minlength=int(width.sum()) * k).reshape(-1, k).astype(np.float64)
    att_counts = joint.sum(axis=1)  # (levels,)
    cls_counts = np.add.reduceat(joint, offsets, axis=0)  # (attributes, k)
    n_obs = cls_counts.sum(axis=1)
    with np.errstate(all="ignore"):
        log_n = np.log2(n_obs)
        h_att = log_n - np.add.reduceat(_clogc(att_counts), offsets) / n_obs
        h_joint = log_n - np.add.reduceat(_clogc(joint).sum(axis=1), offsets) / n_obs
        h_cls = log_n - _clogc(cls_counts).sum(axis=1) / n_obs
    mutual_info = np.round(h_att + h_cls - h_joint, 14)  # OpenML rounds to 1e-14
    return h_att, mutual_info


def _clogc(c: np.ndarray) -> np.ndarray:
    """Elementwise ``c * log2(c)`` with ``0 log 0 = 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c > 0, c * np.log2(np.where(c > 0, c, 1.0)), 0.0)
