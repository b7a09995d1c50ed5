"""Dataset meta-features with OpenML's quality names and definitions.

>>> qualities = compute_metafeatures(X, y, "binary")  # doctest: +SKIP
>>> qualities["ClassEntropy"]  # doctest: +SKIP

Groups: ``simple``, ``statistical``, ``info_theory`` (OpenML's qualities), ``landmarking``
(scikit-learn stand-ins for OpenML's Weka landmarkers, plus autometa's R² and LightGBM
landmarkers) and ``derived`` (auto-sklearn's).
Definitions and how they compare with OpenML's values: ``docs/metafeatures.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from threadpoolctl import threadpool_limits

from autometa.exceptions import DataError
from autometa.metafeatures import derived, info_theory, landmarking, simple, statistical
from autometa.metafeatures._base import TASK_TYPES, PreparedData, clean

GROUPS = ("simple", "statistical", "info_theory", "landmarking", "derived")
_MODULES = {
    "simple": simple,
    "statistical": statistical,
    "info_theory": info_theory,
    "landmarking": landmarking,
    "derived": derived,
}


def _groups(groups: Sequence[str] | None) -> list[str]:
    if groups is None:
        return list(GROUPS)
    if isinstance(groups, str):
        groups = [groups]
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        raise DataError(f"unknown meta-feature group(s) {unknown}; valid groups: {GROUPS}")
    return [g for g in GROUPS if g in groups]


def metafeature_names(task_type: str, *, groups: Sequence[str] | None = None) -> list[str]:
    """The keys :func:`compute_metafeatures` returns for ``task_type``, in a stable order."""
    if task_type not in TASK_TYPES:
        raise DataError(f"task_type must be one of {TASK_TYPES}, got {task_type!r}")
    return [name for g in _groups(groups) for name in _MODULES[g].names(task_type)]


def compute_metafeatures(
    X: pd.DataFrame,
    y: pd.Series,
    task_type: str,
    *,
    groups: Sequence[str] | None = None,
    random_state: int = 0,
) -> dict[str, float | None]:
    """Compute meta-features of the dataset ``(X, y)``.

    Args:
        X: attributes; numeric columns (NaN = missing) and ``category`` columns (bool,
            object and string columns are treated as categorical).
        y: the target, categorical for ``binary``/``multiclass``, numeric for ``regression``.
        task_type: ``"binary"``, ``"multiclass"`` or ``"regression"``.
        groups: subset of :data:`GROUPS` (default: all).
        random_state: seed of the landmarking subsample and folds.

    Returns:
        ``{name: value}`` with the keys of :func:`metafeature_names`; ``None`` where a
        quality is undefined (as OpenML reports a missing value).

    Raises:
        DataError: unusable input (length mismatch, empty, missing target values, unknown
            task type or group).
    """
    selected = _groups(groups)
    data = PreparedData(X, y, task_type, random_state=random_state)
    values: dict[str, float | None] = {}
    # the matrices involved are small: multi-threaded BLAS only adds contention
    with threadpool_limits(limits=1, user_api="blas"):
        for g in selected:
            values |= _MODULES[g].compute(data)
    return {name: clean(values.get(name)) for name in metafeature_names(task_type, groups=selected)}


__all__ = ["GROUPS", "compute_metafeatures", "metafeature_names"]
