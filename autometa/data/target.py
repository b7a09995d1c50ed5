"""Target typing and task-type inference for :mod:`autometa.data`."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from autometa.data import columns as typing_
from autometa.data.words import setting
from autometa.exceptions import DataError

TaskType = Literal["binary", "multiclass", "regression"]

MAX_INT_CLASSES = 20  #: integer targets with more distinct values are regression
MIN_ROWS_PER_INT_CLASS = 5  #: integer targets need this many rows per distinct value on average
#: a classification target with more classes than this must repeat them: more than half of
#: its classes with a single row, or fewer than MIN_ROWS_PER_CLASS rows per class on average,
#: is an error (a continuous number, an id or free text, not a class label)
MAX_SPARSE_CLASSES = 50
MIN_ROWS_PER_CLASS = 3
TASK_CHOICES = ("binary", "multiclass", "regression", "classification")


def infer_task_type(y: pd.Series) -> TaskType:
    """Infer binary / multiclass / regression from a target column (missing values ignored)."""
    y = y if isinstance(y, pd.Series) else pd.Series(y)
    numbers = typing_.numbers_of(y)
    label = str(y.name) if y.name is not None else "target"
    if numbers is None:
        _, labels = typing_.text_codes_labels(y)
        return _class_task(len(labels), label, labels)
    values = numbers[~np.isnan(numbers)]
    if len(values) == 0:
        raise DataError(f"Target column '{label}' has no values; choose another target.")
    if not (np.isfinite(values).all() and np.array_equal(values, np.trunc(values))):
        return "regression"
    distinct = pd.unique(values)
    k = len(distinct)
    if k <= 2 or (k <= MAX_INT_CLASSES and len(values) >= MIN_ROWS_PER_INT_CLASS * k):
        return _class_task(k, label, distinct)
    return "regression"


def resolve_target(
    y: pd.Series,
    numbers: np.ndarray | None,
    codes: tuple[np.ndarray, np.ndarray] | None,
    task: str | None,
    target: str,
    messages: list[str],
) -> tuple[TaskType, pd.Series]:
    """Resolve the task type and build the typed target series."""
    wanted = task.lower() if task is not None else None
    if wanted is not None and wanted not in TASK_CHOICES:
        raise DataError(f"Unknown task {task!r}; use one of {', '.join(TASK_CHOICES)}.")
    if pd.api.types.is_datetime64_any_dtype(y.dtype):
        raise DataError(
            f"Target column '{target}' holds dates, which cannot be a target; choose another "
            f"target (or turn the dates into numbers, e.g. days, and use "
            f"{setting('task', 'regression')})."
        )
    if wanted == "regression" or (wanted is None and infer_task_type(y) == "regression"):
        values = _regression_target(y, numbers, target)
        messages.extend(_scale_note(values, target))
        return "regression", values
    if codes is None:
        codes = typing_.number_codes_labels(numbers)  # type: ignore[arg-type]
    labels = codes[1]
    n_classes = len(labels)
    actual = _class_task(n_classes, target, labels)
    if wanted in ("binary", "multiclass") and wanted != actual:
        raise DataError(
            f"{setting('task', wanted)} but target '{target}' has {n_classes} classes; "
            f"use {setting('task', 'classification')} to pick binary/multiclass from the data."
        )
    counts = np.bincount(codes[0], minlength=n_classes)
    singles = [str(lab) for lab, c in zip(labels, counts, strict=True) if c == 1]
    numeric = numbers is not None or _all_numbers(labels)
    _check_sparse_classes(target, n_classes, len(codes[0]), len(singles), numeric)
    if singles:
        messages.append(
            f"Target class(es) with a single row: {', '.join(singles[:10])}; "
            "they cannot appear in both training and test folds."
        )
    messages.extend(_case_note([str(v) for v in labels], target))
    values = pd.Categorical.from_codes(
        codes[0], dtype=pd.CategoricalDtype(pd.Index(labels, dtype="str"))
    )
    return actual, pd.Series(values, name=target)


def _case_note(labels: list[str], target: str) -> list[str]:
    """A warning when some classes differ only in letter case (``yes``, ``Yes``, ``YES``)."""
    groups: dict[str, list[str]] = {}
    for label in labels:
        groups.setdefault(label.casefold(), []).append(label)
    alike = [g for g in groups.values() if len(g) > 1]
    if not alike:
        return []
    shown = "; ".join(", ".join(repr(v) for v in g) for g in alike[:3])
    return [
        f"Target '{target}' has classes that differ only in letter case ({shown}): they are "
        f"kept apart ({len(labels)} classes); normalise them first if they are the same class."
    ]


#: Largest target magnitude whose squared errors stay finite in float64 (RMSE, R^2).
MAX_TARGET_MAGNITUDE = 1e150


def _scale_note(values: pd.Series, target: str) -> list[str]:
    """A warning when the target's scale makes squared-error scores meaningless."""
    peak = float(np.nanmax(np.abs(values.to_numpy(dtype=float)))) if len(values) else 0.0
    if peak <= MAX_TARGET_MAGNITUDE:
        return []
    return [
        f"Target '{target}' reaches {peak:.3g}: squared errors overflow at this scale, so "
        "RMSE and R^2 (and the predicted scores) mean nothing; rescale the target (e.g. "
        "divide it by a power of ten) first."
    ]


def _all_numbers(labels: np.ndarray) -> bool:
    return bool(pd.to_numeric(pd.Series(labels, dtype=object), errors="coerce").notna().all())


def _check_sparse_classes(
    target: str, n_classes: int, n_rows: int, n_singles: int, numeric: bool
) -> None:
    """Refuse a target whose classes (almost) never repeat (see MAX_SPARSE_CLASSES)."""
    if n_classes <= MAX_SPARSE_CLASSES:
        return
    if 2 * n_singles > n_classes:
        detail = "most of them a single row"
    elif n_rows < MIN_ROWS_PER_CLASS * n_classes:
        detail = f"{n_rows / n_classes:.1f} rows per class on average"
    else:
        return
    advice = (
        f"it looks like a numeric target; use {setting('task', 'regression')}"
        if numeric
        else "classification needs several rows per class; choose another target or group "
        "its values into fewer classes"
    )
    raise DataError(
        f"Target '{target}' has {n_classes} classes in {n_rows} rows, {detail}: {advice}."
    )


def _regression_target(y: pd.Series, numbers: np.ndarray | None, target: str) -> pd.Series:
    if numbers is None:
        if pd.api.types.is_bool_dtype(y.dtype):
            parsed = np.full(len(y), np.nan)
        else:
            parsed = pd.to_numeric(y.astype(object), errors="coerce").to_numpy(np.float64)
        if np.isnan(parsed).any():
            example = y[np.isnan(parsed)].iloc[0]
            raise DataError(
                f"Target column '{target}' is text (e.g. {example!r}) but "
                f"{setting('task', 'regression')} needs numbers; use "
                f"{setting('task', 'classification')} or choose a numeric target."
            )
        numbers = parsed
    if np.isinf(numbers).any():
        raise DataError(
            f"Target column '{target}' contains infinite values; replace them with finite numbers."
        )
    if numbers.min() == numbers.max():
        raise DataError(
            f"Target column '{target}' has a single value ({numbers[0]:g}); choose another target."
        )
    return pd.Series(numbers, name=target, dtype=np.float64)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _class_task(n_classes: int, target: str, labels: Any) -> TaskType:
    if n_classes == 0:
        raise DataError(f"Target column '{target}' has no values; choose another target.")
    if n_classes == 1:
        raise DataError(
            f"Target column '{target}' has a single class ({_plain(labels[0])!r}); "
            "classification needs at least two classes: choose another target."
        )
    return "binary" if n_classes == 2 else "multiclass"


#: Mean length from which a text column reads as free text rather than class labels.
FREE_TEXT_CHARS = 40


def doubtful_target(y: pd.Series) -> str | None:
    """Why the last column, taken as the target for want of one, looks like no target: an
    id (a row counter, or a distinct text value in every row) or free text; None if not."""
    present = y.dropna()
    n = len(present)
    numbers = typing_.numbers_of(present)
    if numbers is not None:
        integer = bool(np.array_equal(numbers, np.trunc(numbers)))
        distinct = len(pd.unique(numbers))
        if integer and typing_.counter_like(numbers, n, distinct):
            return "a row counter (distinct integers in a narrow span: an id)"
        return None
    text = present.astype(str).str.strip()
    if n and text.str.len().mean() >= FREE_TEXT_CHARS:
        return f"free text (on average {text.str.len().mean():.0f} characters a value)"
    if n >= typing_.ID_MIN_ROWS and text.nunique() == n:
        return "an id (a distinct value in every row)"
    return None
