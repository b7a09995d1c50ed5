"""Integrity checks behind ``Store.verify``."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from autometa.metrics import METRIC_RANGES
from autometa.store import schema as s
from autometa.store._validate import RANGE_SLACK
from autometa.store.records import params_checksum

ConfigHasher = Callable[[str, Mapping[str, Any], str], str]
_EXAMPLES = 5


def _problem(check: str, severity: str, ids: list[Any], message: str) -> dict[str, Any]:
    return {
        "check": check,
        "severity": severity,
        "count": len(ids),
        "message": message,
        "examples": ids[:_EXAMPLES],
    }


def _orphans(conn: Connection) -> list[dict[str, Any]]:
    t, c, e, m = s.tasks, s.configurations, s.evaluations, s.metafeatures
    found = []
    checks = [
        ("orphan_evaluations_task", e.c.id, e.c.task_id, t, "evaluations of a missing task"),
        (
            "orphan_evaluations_config",
            e.c.id,
            e.c.config_id,
            c,
            "evaluations of a missing configuration",
        ),
        ("orphan_metafeatures", m.c.task_id, m.c.task_id, t, "metafeatures of a missing task"),
    ]
    for check, shown, ref, parent, message in checks:
        query = select(shown).where(~select(parent.c.id).where(parent.c.id == ref).exists())
        ids = sorted({int(i) for i in conn.execute(query.order_by(shown)).scalars()})
        if ids:
            found.append(_problem(check, "error", ids, message))
    return found


def _configurations(conn: Connection, hasher: ConfigHasher | None) -> list[dict[str, Any]]:
    c = s.configurations
    bad_checksum, bad_hash = [], []
    query = select(
        c.c.id, c.c.family, c.c.params, c.c.space_version, c.c.config_hash, c.c.params_checksum
    )
    for row in conn.execute(query.order_by(c.c.id)):
        if params_checksum(row.params) != row.params_checksum:
            bad_checksum.append(int(row.id))
        if (
            hasher is not None
            and hasher(row.family, row.params, row.space_version) != row.config_hash
        ):
            bad_hash.append(int(row.id))
    found = []
    if bad_checksum:
        found.append(
            _problem(
                "params_checksum", "error", bad_checksum, "params differ from their stored checksum"
            )
        )
    if bad_hash:
        found.append(
            _problem("config_hash", "error", bad_hash, "config_hash does not match the params")
        )
    return found


def _values(conn: Connection) -> list[dict[str, Any]]:
    t, m, e = s.tasks, s.metafeatures, s.evaluations
    found = []
    big = sys.float_info.max
    bad = select(e.c.id).where(
        e.c.status == "ok", or_(e.c.value.is_(None), e.c.value > big, e.c.value < -big)
    )
    ids = [int(i) for i in conn.execute(bad.order_by(e.c.id)).scalars()]
    if ids:
        found.append(
            _problem(
                "nonfinite_ok_values", "error", ids, "status 'ok' with a missing or infinite value"
            )
        )
    bare = select(t.c.id).where(~select(m.c.task_id).where(m.c.task_id == t.c.id).exists())
    ids = [int(i) for i in conn.execute(bare.order_by(t.c.id)).scalars()]
    if ids:
        found.append(
            _problem("tasks_without_metafeatures", "warning", ids, "tasks with no metafeatures")
        )
    return found


def _out_of_range(conn: Connection) -> list[dict[str, Any]]:
    """Scores outside their metric's range (``METRIC_RANGES``)."""
    e = s.evaluations
    outside = [  # infinite bounds are left out: SQL compares finite numbers only
        and_(e.c.metric == metric, e.c.value < low - RANGE_SLACK)
        for metric, (low, _) in METRIC_RANGES.items()
        if math.isfinite(low)
    ] + [
        and_(e.c.metric == metric, e.c.value > high + RANGE_SLACK)
        for metric, (_, high) in METRIC_RANGES.items()
        if math.isfinite(high)
    ]
    ids = [int(i) for i in conn.execute(select(e.c.id).where(or_(*outside))).scalars()]
    if ids:
        return [
            _problem(
                "out_of_range_values",
                "error",
                sorted(ids),
                "scores outside their metric's range (e.g. a negative rmse, an AUC above 1)",
            )
        ]
    return []


def density(conn: Connection) -> dict[str, dict[str, dict[str, float | int]]]:
    """Per family and task type: filled (task, config, fold) cells over all possible cells.

    Possible cells = tasks of that type x configurations of that family x distinct folds
    seen for the pair; a cell is filled when it has an evaluation row of any status.
    """
    t, c, e = s.tasks, s.configurations, s.evaluations
    n_tasks = dict(conn.execute(select(t.c.task_type, func.count()).group_by(t.c.task_type)).all())
    n_configs = dict(conn.execute(select(c.c.family, func.count()).group_by(c.c.family)).all())
    cells = (
        select(c.c.family, t.c.task_type, e.c.task_id, e.c.config_id, e.c.fold)
        .select_from(e.join(c, c.c.id == e.c.config_id).join(t, t.c.id == e.c.task_id))
        .distinct()
        .subquery()
    )
    query = select(
        cells.c.family, cells.c.task_type, func.count(), func.count(cells.c.fold.distinct())
    ).group_by(cells.c.family, cells.c.task_type)
    out: dict[str, dict[str, dict[str, float | int]]] = {}
    for family, task_type, filled, folds in conn.execute(query):
        possible = int(n_tasks[task_type]) * int(n_configs[family]) * int(folds)
        out.setdefault(family, {})[task_type] = {
            "tasks": int(n_tasks[task_type]),
            "configurations": int(n_configs[family]),
            "folds": int(folds),
            "filled": int(filled),
            "cells": possible,
            "density": round(int(filled) / possible, 6),
        }
    return out


def verify(conn: Connection, hasher: ConfigHasher | None = None) -> dict[str, Any]:
    problems = _orphans(conn) + _configurations(conn, hasher) + _values(conn)
    problems += _out_of_range(conn)
    return {
        "ok": not any(p["severity"] == "error" for p in problems),
        "problems": problems,
        "density": density(conn),
    }
