"""Data intake: load a table, type its columns, infer the task type and fingerprint it.

The rules (formats, typing, exclusions, task inference, errors) are documented in
``docs/data.md``; keep the two in step.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import numpy as np
import pandas as pd

from autometa.data import columns as typing_
from autometa.data.columns import FeatureType
from autometa.data.features import type_features
from autometa.data.io import (
    DECLARED_TYPES_ATTR,
    check_columns,
    dataset_name,
    read_table_limited,
)
from autometa.data.target import TaskType, doubtful_target, resolve_target
from autometa.data.words import in_cli, setting
from autometa.exceptions import DataError

MIN_ROWS = 5  #: fewest rows (with a target value) a dataset may have
_DROP_NOTES = {
    "id-like": "Dropped id-like column(s) (a distinct value in every row): {}; "
    "declare them categorical or numeric to keep them.",
    "constant": "Dropped constant column(s) (at most one distinct value): {}.",
    "all missing": "Dropped all-missing column(s): {}.",
}


class DataWarning(UserWarning):
    """Something about the data was changed or guessed while loading (also kept on Dataset)."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """A typed, validated dataset ready for meta-feature extraction and recommendation."""

    X: pd.DataFrame
    y: pd.Series
    task_type: TaskType
    target: str
    feature_types: dict[str, FeatureType]
    dropped: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    fingerprint: str = ""
    name: str = "dataset"

    def __post_init__(self) -> None:
        if list(self.feature_types) != [str(c) for c in self.X.columns]:
            raise DataError("Dataset.feature_types must list the columns of X in order.")
        if len(self.y) != len(self.X):
            raise DataError(f"X has {len(self.X)} rows but y has {len(self.y)}; align them.")
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", fingerprint(self.X, self.y))

    @property
    def n_rows(self) -> int:
        """Number of rows (instances)."""
        return len(self.X)

    @property
    def n_features(self) -> int:
        """Number of kept feature columns."""
        return self.X.shape[1]

    @property
    def categorical_columns(self) -> list[str]:
        """Names of categorical and boolean columns, in column order."""
        return [c for c, t in self.feature_types.items() if t in ("categorical", "boolean")]

    def summary(self) -> dict[str, Any]:
        """Plain-data overview for display (CLI, logs)."""
        by_type = {t: 0 for t in get_args(FeatureType)}
        for kind in self.feature_types.values():
            by_type[kind] += 1
        n_classes = None if self.task_type == "regression" else int(self.y.nunique())
        return {
            "name": self.name,
            "rows": self.n_rows,
            "features": self.n_features,
            "feature_types": by_type,
            "dropped": dict(self.dropped),
            "task_type": self.task_type,
            "target": self.target,
            "n_classes": n_classes,
            "fingerprint": self.fingerprint,
            "warnings": len(self.warnings),
        }


def load_dataset(
    source: str | os.PathLike[str] | pd.DataFrame | np.ndarray | Dataset,
    y: pd.Series | np.ndarray | Sequence[Any] | None = None,
    *,
    target: str | None = None,
    task: str | None = None,
    name: str | None = None,
    categorical: Sequence[str] | None = None,
    numeric: Sequence[str] | None = None,
    encoding: str = "utf-8",
    max_columns: int = 10_000,
) -> Dataset:
    """Load a file, DataFrame or array (+ ``y``) into a typed :class:`Dataset`.

    Warnings are issued as :class:`DataWarning` and recorded in ``Dataset.warnings``;
    unusable data raises :class:`~autometa.exceptions.DataError`.
    """
    if isinstance(source, Dataset):
        if y is not None or target or task or categorical or numeric:
            raise DataError(
                "A Dataset is already loaded; pass its source file or DataFrame instead."
            )
        return source
    guessed = target is None and y is None and not isinstance(source, np.ndarray)
    frame, target, name, declared = _frame_of(source, y, target, name, encoding, max_columns)
    overrides = _overrides(frame, target, categorical, numeric)
    messages: list[str] = []
    if guessed:
        _check_guess(frame[target])
    frame, numbers, codes = _with_target(frame, target, messages)
    y_raw = frame[target]
    if len(frame) < MIN_ROWS:
        raise DataError(
            f"{name} has {len(frame)} row(s) with a target value; at least {MIN_ROWS} are needed."
        )
    task_type, y_out = resolve_target(y_raw, numbers, codes, task, target, messages)
    if guessed:
        messages.insert(0, _guessed(target, task_type, isinstance(source, pd.DataFrame)))
    X, feature_types, dropped = type_features(
        frame.drop(columns=[target]), overrides, declared, messages
    )
    for reason, note in _DROP_NOTES.items():
        cols = [c for c, r in dropped.items() if r == reason]
        if cols:
            messages.append(note.format(", ".join(cols)))
    for message in messages:
        warnings.warn(message, DataWarning, stacklevel=2)
    return Dataset(
        X=X,
        y=y_out,
        task_type=task_type,
        target=target,
        feature_types=feature_types,
        dropped=dropped,
        warnings=tuple(messages),
        fingerprint=fingerprint(X, y_out),
        name=name,
    )


def _check_guess(column: pd.Series) -> None:
    """Refuse the last column as a guessed target when it looks like no target."""
    if doubt := doubtful_target(column):
        raise DataError(
            f"No target given, and the last column {column.name!r} looks like {doubt}, not a "
            f"target; name the target with {_target_hint()}."
        )


def _guessed(target: str, task_type: str, frame: bool) -> str:
    """The warning that the last column was taken as the target."""
    rows = (
        ""
        if in_cli() or not frame
        else ("; to type rows for prediction (no target), use autometa.data.TableTyper")
    )
    return (
        f"No target given: took the last column {target!r} as the target ({task_type}), "
        f"as autometa does by default; name it with {_target_hint()} if it is not{rows}."
    )


def _target_hint() -> str:
    """How to name the target: ``--target COLUMN`` in the CLI, ``target= or y=`` in Python."""
    return setting("target", placeholder="COLUMN") + ("" if in_cli() else " or y=")


def _with_target(
    frame: pd.DataFrame, target: str, messages: list[str]
) -> tuple[pd.DataFrame, np.ndarray | None, tuple[np.ndarray, np.ndarray] | None]:
    """The rows with a target value, and the target read as numbers, else as text codes
    and labels; a note in ``messages`` when rows were dropped."""
    y_raw = frame[target]
    typing_.check_cells(target, y_raw)
    numbers = typing_.numbers_of(y_raw)
    codes = None if numbers is not None else typing_.text_codes_labels(y_raw)
    missing = np.isnan(numbers) if numbers is not None else codes[0] < 0  # type: ignore[index]
    if missing.all():
        raise DataError(f"Target column '{target}' has no values; choose another target.")
    if missing.any():
        messages.append(f"Dropped {int(missing.sum())} row(s) with a missing target '{target}'.")
        keep = ~missing
        frame = frame.loc[keep].reset_index(drop=True)
        numbers = None if numbers is None else numbers[keep]
        codes = None if codes is None else (codes[0][keep], codes[1])
    return frame, numbers, codes


def fingerprint(X: pd.DataFrame, y: pd.Series) -> str:
    """SHA-256 of the typed content of ``X`` and ``y``, independent of row and column order.

    Each row is hashed from its values (columns in name order, target last); the sorted row
    hashes and the column and target names go into the digest.
    """
    names = sorted(str(c) for c in X.columns)
    by_name = {str(c): X[c] for c in X.columns}
    rows = np.full(len(y), 0x9E3779B97F4A7C15, dtype=np.uint64)
    for col in [*(by_name[n] for n in names), y]:
        rows = (rows * np.uint64(0x100000001B3)) ^ pd.util.hash_array(_hashable(col))
    header = json.dumps({"v": 1, "columns": names, "target": str(y.name)}, ensure_ascii=True)
    digest = hashlib.sha256(header.encode())
    digest.update(np.sort(rows).astype("<u8").tobytes())
    return digest.hexdigest()


def _hashable(col: pd.Series) -> np.ndarray | pd.Categorical:
    """Numbers as float64 (-0.0 folded into 0.0), everything else as category strings."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        values = col.array
        if values.categories.dtype != "str":  # type: ignore[attr-defined]
            values = values.rename_categories([str(c) for c in values.categories])  # type: ignore[attr-defined]
        return values  # type: ignore[return-value]
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(np.float64, na_value=np.nan) + 0.0
    return pd.Categorical(col.astype(object).map(str, na_action="ignore"))


def _frame_of(
    source: Any,
    y: Any,
    target: str | None,
    name: str | None,
    encoding: str,
    max_columns: int,
) -> tuple[pd.DataFrame, str, str, dict[str, str]]:
    """Return (frame with the target inside, target name, dataset name, declared types)."""
    if isinstance(source, str | os.PathLike):
        if y is not None:
            raise DataError("y= can only be used with a DataFrame or array source, not a file.")
        frame = read_table_limited(source, encoding=encoding, max_columns=max_columns)
        declared = dict(frame.attrs.get(DECLARED_TYPES_ATTR, {}))
        frame.attrs = {}
        return (
            frame,
            _target_name(frame, target, str(source)),
            name or dataset_name(Path(source)),
            declared,
        )
    if isinstance(source, np.ndarray):
        if source.ndim != 2:
            raise DataError(f"A numpy source must be 2-D (rows x features); got {source.ndim}-D.")
        if y is None:
            raise DataError("Pass the target as y= when the source is a numpy array.")
        source = pd.DataFrame(source, columns=[f"x{j}" for j in range(source.shape[1])])
        name = name or "array"
    if not isinstance(source, pd.DataFrame):
        raise DataError(
            f"Cannot load a {type(source).__name__}; "
            "pass a file path, a DataFrame or a numpy array."
        )
    name = name or "dataframe"
    frame = source.set_axis([str(c) for c in source.columns], axis=1).reset_index(drop=True)
    frame.attrs = {}
    if y is not None:
        y_series = _as_series(y, len(frame))
        y_name = target or (str(y_series.name) if y_series.name is not None else "target")
        if y_name in frame.columns:
            raise DataError(
                f"The target name '{y_name}' is also a feature column; "
                "pass target= with another name."
            )
        frame[y_name] = y_series.array
        target = y_name
    check_columns(frame, f"The {name} table", max_columns)
    if frame.shape[1] == 0 or len(frame) == 0:
        raise DataError(
            f"The {name} table is empty ({frame.shape[0]} rows x {frame.shape[1]} columns)."
        )
    return frame, _target_name(frame, target, name), name, {}


def _as_series(y: Any, n_rows: int) -> pd.Series:
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise DataError(f"y must be one column; got a DataFrame with {y.shape[1]} columns.")
        y = y.iloc[:, 0]
    if not isinstance(y, pd.Series):
        values = np.asarray(y)
        if values.ndim == 2 and values.shape[1] == 1:  # a column vector, as scikit-learn takes
            values = values[:, 0]
        if values.ndim != 1:
            raise DataError(f"y must be one column; got an array of shape {values.shape}.")
        y = pd.Series(values)
    series = y.reset_index(drop=True)
    if len(series) != n_rows:
        raise DataError(
            f"y has {len(series)} values but the features have {n_rows} rows; align them."
        )
    return series


def _target_name(frame: pd.DataFrame, target: str | None, where: str) -> str:
    if target is None:
        return str(frame.columns[-1])
    found = _find_column(frame, target)
    if found is None:
        shown = ", ".join(repr(c) for c in frame.columns[:8])
        more = f", ... ({frame.shape[1]} in all)" if frame.shape[1] > 8 else ""
        raise DataError(
            f"Target column {target!r} not found in {where}{_did_you_mean(frame, target)}; "
            f"available columns: {shown}{more}. Pass one of them as "
            f"{setting('target', placeholder='COLUMN')}."
        )
    return found


def _find_column(frame: pd.DataFrame, name: str) -> str | None:
    """The column called ``name``, else the only one equal to it without surrounding spaces."""
    if name in frame.columns:
        return name
    stripped = [c for c in frame.columns if str(c).strip() == str(name).strip()]
    return str(stripped[0]) if len(stripped) == 1 else None


def _did_you_mean(frame: pd.DataFrame, name: str) -> str:
    """A hint such as " (did you mean 'x'?)" naming the closest columns, or "" if none is close."""
    by_key = {str(c).strip().lower(): str(c) for c in frame.columns}
    close = difflib.get_close_matches(str(name).strip().lower(), list(by_key), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(by_key[k]) for k in close)}?)" if close else ""


def _overrides(
    frame: pd.DataFrame,
    target: str,
    categorical: Sequence[str] | None,
    numeric: Sequence[str] | None,
) -> dict[str, typing_.Override]:
    result: dict[str, typing_.Override] = {}
    for kind, cols in (("categorical", categorical), ("numeric", numeric)):
        for given in [cols] if isinstance(cols, str) else (cols or []):
            col = _find_column(frame, given)
            if col is None:
                raise DataError(
                    f"{kind}= names an unknown column {given!r}{_did_you_mean(frame, given)}; "
                    "check the spelling."
                )
            if col == target:
                raise DataError(
                    f"{col!r} is the target; set its type with {setting('task')} instead of "
                    f"{setting(kind)}."
                )
            if result.get(col, kind) != kind:
                raise DataError(f"Column {col!r} is in both categorical= and numeric=; pick one.")
            result[col] = kind  # type: ignore[assignment]
    return result
