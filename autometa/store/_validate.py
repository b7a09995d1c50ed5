"""Content checks of snapshot tables: impossible scores, and rows that would merge silently.

A checksum only proves that a file is the one its manifest describes; these checks catch a
file damaged before it was checksummed (or re-checksummed after an edit).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from autometa.exceptions import StoreError
from autometa.metrics import METRIC_RANGES

_SHOWN = 3  # bad rows named in a message
# Rounding slack at the bounds: a macro-averaged AUC of 1 can sum to 1.0000000000000002.
RANGE_SLACK = 1e-9


def _numbers(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(values, null mask) of a float column; NaN in ``values`` is a real NaN only where
    the mask is False."""
    null = column.is_null().to_numpy(zero_copy_only=False)
    values = column.to_numpy(zero_copy_only=False).astype(float)
    return values, null


def _bounds(metrics: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the lowest and highest value its metric can take (±inf when unknown)."""
    encoded = pc.dictionary_encode(metrics).combine_chunks()
    names = encoded.dictionary.to_pylist()
    low = np.array([METRIC_RANGES.get(n, (-np.inf, np.inf))[0] for n in names] + [-np.inf])
    high = np.array([METRIC_RANGES.get(n, (-np.inf, np.inf))[1] for n in names] + [np.inf])
    index = encoded.indices.fill_null(len(names)).to_numpy(zero_copy_only=False)
    return low[index], high[index]


def _why(value: float, low: float, high: float, what: str) -> str:
    if not np.isfinite(value):
        return f"{what} {value}"
    return f"{what} {value:.6g} {'< ' + f'{low:g}' if value < low else '> ' + f'{high:g}'}"


def check_evaluation_values(data: pa.Table, path: Path) -> None:
    """Refuse scores that are NaN, ±inf or outside their metric's range (``METRIC_RANGES``;
    metrics it does not list need only be finite) and fit times that are NaN, ±inf or
    negative, naming the first rows and the count. A missing value is allowed: a failed
    fit, or a metric undefined on its fold (AUC of a one-class fold), stores none."""
    value, value_null = _numbers(data.column("value"))
    low, high = _bounds(data.column("metric"))
    with np.errstate(invalid="ignore"):
        inside = (value >= low - RANGE_SLACK) & (value <= high + RANGE_SLACK)
        bad_value = ~value_null & ~(inside & np.isfinite(value))
    seconds, seconds_null = _numbers(data.column("fit_seconds"))
    with np.errstate(invalid="ignore"):
        bad_seconds = ~seconds_null & ~(np.isfinite(seconds) & (seconds >= 0))
    bad = np.flatnonzero(bad_value | bad_seconds)
    if not len(bad):
        return
    shown = []
    for row in bad[:_SHOWN]:
        r = {c: data.column(c)[int(row)].as_py() for c in _KEY_COLUMNS}
        why = (
            _why(value[row], low[row], high[row], "value")
            if bad_value[row]
            else _why(seconds[row], 0.0, np.inf, "fit_seconds")
        )
        key = ", ".join(f"{c} {r[c]}" for c in _KEY_COLUMNS)
        shown.append(f"row {int(row)} ({key}): {why}")
    raise StoreError(
        f"snapshot file {path}: {len(bad)} rows hold impossible values (the file is damaged), "
        f"e.g. {'; '.join(shown)}"
    )


_KEY_COLUMNS = ("task_id", "config_id", "fold", "metric", "status")


def refuse_duplicates(
    frame: pd.DataFrame, columns: Sequence[str], path: Path, what: str, label: str | None = None
) -> None:
    """Refuse rows of ``frame`` sharing ``columns`` (``what`` says why that is wrong),
    naming the first such group (by its ``label`` column when given) and the row count."""
    cols = list(columns)
    repeated = frame.duplicated(cols, keep=False)
    if not repeated.any():
        return
    rows = frame[repeated]
    first = rows.iloc[0][cols]
    group = rows[(rows[cols] == first).all(axis=1)]
    key = ", ".join(f"{c} {_text(first[c])}" for c in cols)
    example = f"{key} appears {len(group)} times"
    if label is not None:
        example = f"{label} {', '.join(_text(v) for v in group[label].head(_SHOWN))} share {key}"
    raise StoreError(
        f"snapshot file {path}: {int(repeated.sum())} rows share their {'/'.join(cols)} with "
        f"another row, e.g. {example}: {what}"
    )


def _text(value: Any) -> str:
    return str(value.item() if hasattr(value, "item") else value)


def check_tasks(tasks: pd.DataFrame, path: Path) -> None:
    """Refuse two tasks with one fingerprint (one dataset stored twice) or one
    (source, name): a store keeps one task per key, so their evaluations would merge."""
    refuse_duplicates(
        tasks,
        ["fingerprint"],
        path,
        "the same data under two tasks, whose evaluations would be merged into one task "
        "(and duplicate keys dropped); keep one of them",
        "task_id",
    )
    refuse_duplicates(
        tasks,
        ["source", "name"],
        path,
        "two datasets under one name, which a store cannot tell apart; rename one",
        "task_id",
    )
