"""SQL reads of the store, returned as frames shaped by :mod:`autometa.store._frames`."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection

from autometa.store import schema as s
from autometa.store._frames import (
    CONFIG_COLUMNS,
    EVAL_COLUMNS,
    TASK_COLUMNS,
    shape_configurations,
    shape_evaluations,
    shape_metafeatures,
    shape_tasks,
)


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


def metafeature_names(conn: Connection) -> dict[int, set[str]]:
    m = s.metafeatures
    out: dict[int, set[str]] = {}
    for task_id, name in conn.execute(select(m.c.task_id, m.c.name)):
        out.setdefault(int(task_id), set()).add(str(name))
    return out


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
