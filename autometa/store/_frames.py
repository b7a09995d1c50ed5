"""Frame shapes shared by a Store and a Snapshot (pure pandas: no SQL here)."""

from __future__ import annotations

import numpy as np
import pandas as pd

TASK_COLUMNS = [
    "name",
    "source",
    "source_id",
    "fingerprint",
    "group_key",
    "task_type",
    "target",
    "n_rows",
    "n_features",
    "provenance",
]
CONFIG_COLUMNS = ["family", "params", "space_version", "config_hash"]
EVAL_COLUMNS = [
    "task_id",
    "config_id",
    "family",
    "fold",
    "metric",
    "value",
    "fit_seconds",
    "status",
    "source",
]
_INT = {"task_id": "int64", "config_id": "int64", "fold": "int64", "n_rows": "int64"}
_FLOAT = {"value": "float64", "fit_seconds": "float64"}
_STR = {*TASK_COLUMNS, *CONFIG_COLUMNS, *EVAL_COLUMNS} - {*_INT, *_FLOAT, "n_features"}
_STR -= {"provenance", "params"}


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    for col in df.columns:
        if col in _INT or col == "n_features":
            df[col] = df[col].astype("int64")
        elif col in _FLOAT:
            df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
        elif col in _STR:
            df[col] = df[col].astype("str")  # missing -> NaN, like a Parquet round trip
    return df


def shape_tasks(df: pd.DataFrame) -> pd.DataFrame:
    """Tasks frame: index ``task_id``, columns TASK_COLUMNS."""
    return _typed(df.set_index("task_id")[TASK_COLUMNS]).sort_index()


def shape_configurations(df: pd.DataFrame) -> pd.DataFrame:
    """Configurations frame: index ``config_id``, columns CONFIG_COLUMNS."""
    return _typed(df.set_index("config_id")[CONFIG_COLUMNS]).sort_index()


def shape_metafeatures(long: pd.DataFrame) -> pd.DataFrame:
    """Wide metafeatures: index ``task_id``, one float column per quality (sorted)."""
    if long.empty:
        return pd.DataFrame(index=pd.Index([], name="task_id", dtype="int64"), dtype="float64")
    long = long.assign(value=pd.to_numeric(long["value"], errors="coerce").astype("float64"))
    wide = long.pivot(index="task_id", columns="name", values="value")
    wide = wide.reindex(sorted(wide.columns), axis=1).sort_index()
    wide.index = wide.index.astype("int64")
    wide.columns.name = None
    return wide.astype("float64")


def shape_evaluations(df: pd.DataFrame) -> pd.DataFrame:
    """Long evaluations frame with EVAL_COLUMNS, sorted by task, config, fold, metric."""
    df = _typed(df[EVAL_COLUMNS].copy())
    order = ["task_id", "config_id", "fold", "metric", "source"]
    return df.sort_values(order, kind="stable").reset_index(drop=True)


def filter_evaluations(
    evals: pd.DataFrame,
    tasks: pd.DataFrame,
    *,
    family: str | None = None,
    metric: str | None = None,
    task_type: str | None = None,
    status: str | None = "ok",
) -> pd.DataFrame:
    """In-memory version of ``Store.evaluations_frame`` filters (for snapshots)."""
    keep = np.ones(len(evals), dtype=bool)
    for col, wanted in (("family", family), ("metric", metric), ("status", status)):
        if wanted is not None:
            keep &= (evals[col] == wanted).to_numpy()
    if task_type is not None:
        ids = tasks.index[tasks["task_type"] == task_type]
        keep &= evals["task_id"].isin(ids).to_numpy()
    return evals[keep].reset_index(drop=True)
