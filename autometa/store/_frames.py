"""Read queries returning DataFrames, shaped identically for a Store and a Snapshot."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection

from autometa.store import schema as s

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


def _frame(conn: Connection, query: Select[Any]) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def tasks_frame(conn: Connection) -> pd.DataFrame:
    t = s.tasks
    cols = [t.c.id.label("task_id"), *(t.c[c] for c in TASK_COLUMNS)]
    return shape_tasks(_frame(conn, select(*cols)))


def configurations_frame(conn: Connection, family: str | None) -> pd.DataFrame:
    c = s.configurations
    query = select(c.c.id.label("config_id"), *(c.c[k] for k in CONFIG_COLUMNS))
    if family is not None:
        query = query.where(c.c.family == family)
    return shape_configurations(_frame(conn, query))


def metafeatures_frame(conn: Connection) -> pd.DataFrame:
    m = s.metafeatures
    return shape_metafeatures(_frame(conn, select(m.c.task_id, m.c.name, m.c.value)))


def evaluations_query(
    family: str | None, metric: str | None, task_type: str | None, status: str | None
) -> Select[Any]:
    """SELECT of EVAL_COLUMNS with the given filters (None = no filter)."""
    e, c, t = s.evaluations, s.configurations, s.tasks
    cols = [c.c.family if k == "family" else e.c[k] for k in EVAL_COLUMNS]
    query = select(*cols).join(c, c.c.id == e.c.config_id)
    if task_type is not None:
        query = query.join(t, t.c.id == e.c.task_id).where(t.c.task_type == task_type)
    for col, wanted in ((c.c.family, family), (e.c.metric, metric), (e.c.status, status)):
        if wanted is not None:
            query = query.where(col == wanted)
    return query


def evaluations_frame(conn: Connection, **filters: str | None) -> pd.DataFrame:
    return shape_evaluations(_frame(conn, evaluations_query(**filters)))


def completed(conn: Connection, task_id: int, family: str | None) -> set[tuple[int, int]]:
    e, c = s.evaluations, s.configurations
    query = select(e.c.config_id, e.c.fold).where(e.c.task_id == int(task_id)).distinct()
    if family is not None:
        query = query.join(c, c.c.id == e.c.config_id).where(c.c.family == family)
    return {(int(cid), int(fold)) for cid, fold in conn.execute(query)}


def _counts(conn: Connection, *cols: Any, join: Any = None) -> dict[str, int]:
    query = select(*cols, func.count()).group_by(*cols)
    if join is not None:
        query = query.select_from(join)
    return {"/".join(map(str, row[:-1])): int(row[-1]) for row in conn.execute(query)}


def info(conn: Connection) -> dict[str, Any]:
    """Counts by task type, source, family, metric and status."""
    t, m, c, e = s.tasks, s.metafeatures, s.configurations, s.evaluations
    ec = e.join(c, c.c.id == e.c.config_id)
    n_eval = conn.execute(select(func.count()).select_from(e)).scalar_one()
    return {
        "tasks": {
            "total": conn.execute(select(func.count()).select_from(t)).scalar_one(),
            "by_task_type": _counts(conn, t.c.task_type),
            "by_source": _counts(conn, t.c.source),
        },
        "metafeatures": {
            "values": conn.execute(select(func.count()).select_from(m)).scalar_one(),
            "tasks": conn.execute(select(func.count(m.c.task_id.distinct()))).scalar_one(),
        },
        "configurations": {
            "total": conn.execute(select(func.count()).select_from(c)).scalar_one(),
            "by_family": _counts(conn, c.c.family),
        },
        "evaluations": {
            "total": n_eval,
            "by_family": _counts(conn, c.c.family, join=ec),
            "by_metric": _counts(conn, e.c.metric),
            "by_source": _counts(conn, e.c.source),
            "by_status": _counts(conn, e.c.status),
        },
    }
