"""Dataset meta-features with OpenML's quality names and definitions.

>>> qualities = compute_metafeatures(X, y, "binary")  # doctest: +SKIP
>>> qualities["ClassEntropy"]  # doctest: +SKIP

Groups: ``simple``, ``statistical``, ``info_theory`` (OpenML's qualities), ``landmarking``
(scikit-learn stand-ins for OpenML's Weka landmarkers, plus autometa's R² and LightGBM
landmarkers) and ``derived`` (auto-sklearn's).
Definitions and how they compare with OpenML's values: ``docs/metafeatures.md``. A table of
more than ``DESCRIBE_MAX_ROWS`` rows is described from a row sample, its counts from every
row (:mod:`autometa.metafeatures.sampling`).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module
from types import ModuleType

import pandas as pd
from threadpoolctl import threadpool_limits

from autometa.exceptions import DataError
from autometa.metafeatures._base import (
    TASK_TYPES,
    PreparedData,
    _as_category,
    _column_kind,
    clean,
)
from autometa.metafeatures.sampling import DESCRIBE_MAX_ROWS, prepare

GROUPS = ("simple", "statistical", "info_theory", "landmarking", "derived")


def _module(group: str) -> ModuleType:
    """A group's module, imported on first use: only ``landmarking`` needs scikit-learn,
    SciPy and LightGBM, so the other groups can be computed without importing them."""
    return import_module(f"autometa.metafeatures.{group}")


def _groups(groups: Sequence[str] | None) -> list[str]:
    if groups is None:
        return list(GROUPS)
    if isinstance(groups, str):
        groups = [groups]
    try:
        wanted = list(groups)  # once: an iterator would be used up by the checks
    except TypeError:
        raise DataError(
            f"groups must be a group name or a list of them, got {groups!r}; valid: {GROUPS}"
        ) from None
    if not wanted:
        raise DataError(f"groups is empty; choose from {GROUPS} (None = all)")
    unknown = sorted(map(str, set(wanted) - set(GROUPS)))
    if unknown:
        raise DataError(f"unknown meta-feature group(s) {unknown}; valid groups: {GROUPS}")
    return [g for g in GROUPS if g in wanted]


def metafeature_names(task_type: str, *, groups: Sequence[str] | None = None) -> list[str]:
    """The keys :func:`compute_metafeatures` returns for ``task_type``, in a stable order."""
    if task_type not in TASK_TYPES:
        raise DataError(f"task_type must be one of {TASK_TYPES}, got {task_type!r}")
    return [name for g in _groups(groups) for name in _module(g).names(task_type)]


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
        random_state: seed of the landmarking subsample and folds (and of the row sample
            of a table of more than ``DESCRIBE_MAX_ROWS`` rows: :mod:`.sampling`).

    Returns:
        ``{name: value}`` with the keys of :func:`metafeature_names`; ``None`` where a
        quality is undefined (as OpenML reports a missing value).

    Raises:
        DataError: unusable input (length mismatch, empty, missing target values, unknown
            task type or group).
    """
    selected = _groups(groups)
    data, counts = prepare(X, y, task_type, random_state=random_state)  # sampled when large
    values: dict[str, float | None] = {}
    # the matrices involved are small: multi-threaded BLAS only adds contention
    with threadpool_limits(limits=1, user_api="blas"):
        for g in selected:
            values |= _module(g).compute(data)
    values |= counts  # a sampled table's counts are the whole table's
    return {name: clean(values.get(name)) for name in metafeature_names(task_type, groups=selected)}


#: From this many features on, computing the landmarkers takes seconds (a note says so).
WIDE = 500


def slow_note(n_features: int) -> str | None:
    """A line for a progress callback when the landmarkers will take a while, else None."""
    if n_features < WIDE:
        return None
    return (
        f"computing meta-features of {n_features} features: the landmarkers' time grows "
        "with the number of features"
    )


def landmarking_sample(
    X: pd.DataFrame, y: pd.Series, task_type: str, *, random_state: int = 0
) -> tuple[pd.DataFrame, pd.Series]:
    """The rows the landmarkers use (at most ``SAMPLE_MAX_ROWS``, stratified by class):
    ``compute_metafeatures(*landmarking_sample(X, y, t), t, groups="landmarking")`` equals
    the landmarking group of the whole data, so the landmarkers can run elsewhere (another
    process) on a few thousand rows. Nominal columns and a class target become categoricals
    of the whole data first, so the sample keeps every declared level.
    """
    y = pd.Series(y) if not isinstance(y, pd.Series) else y
    if not isinstance(X, pd.DataFrame):
        raise DataError(f"X must be a pandas DataFrame, got {type(X).__name__}")
    # the sample's rows depend on the target alone: no need to convert the columns here
    rows = PreparedData(X.iloc[:, :0], y, task_type, random_state=random_state).sample_rows
    sample = X.iloc[rows].copy()
    for j in range(X.shape[1]):  # by position: any column names, any index
        col = X.iloc[:, j]
        if _column_kind(col) == "nominal":  # PreparedData's conversion, on the whole column
            sample.isetitem(j, _as_category(col).array[rows])
    if task_type != "regression":
        y = _as_category(y)
    return sample, y.iloc[rows]


__all__ = [
    "DESCRIBE_MAX_ROWS",
    "GROUPS",
    "compute_metafeatures",
    "landmarking_sample",
    "metafeature_names",
]
