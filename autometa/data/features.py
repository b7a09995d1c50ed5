"""Typing every feature column of a table into the typed ``X`` of a Dataset.

Shared by :func:`~autometa.data.load_dataset` and :class:`~autometa.data.TableTyper`. A
float64 column that stays numeric is kept as the table holds it (pandas shares its memory
until either side writes, copy-on-write), so a large table's numbers are not copied.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from autometa.data import columns as typing_
from autometa.data.columns import FeatureType
from autometa.exceptions import DataError


def type_features(
    frame: pd.DataFrame,
    overrides: dict[str, typing_.Override],
    declared: dict[str, str],
    messages: list[str],
) -> tuple[pd.DataFrame, dict[str, FeatureType], dict[str, str]]:
    """Type every feature column; return (X, feature types, dropped columns)."""
    converted: dict[str, object] = {}
    types: dict[str, FeatureType] = {}
    dropped: dict[str, str] = {}
    for col in frame.columns:
        typed = typing_.type_column(
            col,
            frame[col],
            override=overrides.get(col),
            declared=declared.get(col),
            messages=messages,
        )
        if typed.dropped is not None:
            dropped[col] = typed.dropped
            continue
        types[col] = typed.kind  # type: ignore[assignment]
        if not (typed.kind == "numeric" and frame[col].dtype == np.float64):
            converted[col] = typed.values  # else: the column's own values, unchanged
    if not types:
        raise DataError(
            "No feature columns are left after excluding "
            f"{', '.join(f'{c} ({r})' for c, r in list(dropped.items())[:8]) or 'the target'}; "
            "add informative feature columns or keep some with categorical=/numeric=."
        )
    index = pd.RangeIndex(len(frame))
    as_read = frame[[c for c in types if c not in converted]].set_axis(index, axis=0)
    X = pd.concat([as_read, pd.DataFrame(converted, index=index)], axis=1)[list(types)]
    return X, types, dropped
