"""Idempotent write operations on an open connection (shared by Store and snapshot import)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from autometa.exceptions import StoreError
from autometa.store import schema as s
from autometa.store.records import (
    TaskRecord,
    finite_or_none,
    normalise_json,
    params_checksum,
)

BATCH = 1_000  # rows per INSERT; well under SQLite's 32,766 bound parameters


def _insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT supporting ON CONFLICT (SQLite and PostgreSQL)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise StoreError(f"unsupported database dialect {dialect!r}")  # pragma: no cover


def _chunks(rows: Sequence[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _executemany(conn: Connection, stmt: Any, rows: Sequence[Mapping[str, Any]]) -> int:
    """Run ``stmt`` once per row (driver executemany); returns rows changed.

    sqlite3 and psycopg both sum per-row counts, and a skipped conflict counts 0;
    ``preserve_rowcount`` keeps SQLAlchemy from discarding that sum.
    """
    return _rowcount(conn.execute(stmt.execution_options(preserve_rowcount=True), list(rows)))


def _rowcount(result: Any) -> int:
    if result.rowcount < 0:  # pragma: no cover - a driver without executemany rowcount
        raise StoreError("the database driver does not report how many rows were inserted")
    return int(result.rowcount)


def insert_task(conn: Connection, task: TaskRecord) -> tuple[int, bool]:
    """Id of the task with the same fingerprint, else insert it; returns (id, inserted).

    A known (source, name) with another fingerprint is refused (StoreError naming both):
    the data changed, and its evaluations must not join the stored task's.
    """
    t = s.tasks
    match = or_(
        t.c.fingerprint == task.fingerprint, and_(t.c.source == task.source, t.c.name == task.name)
    )
    # The fingerprint match (the same data) first, whatever its name.
    query = (
        select(t.c.id, t.c.fingerprint)
        .where(match)
        .order_by((t.c.fingerprint == task.fingerprint).desc(), t.c.id)
    )
    row = conn.execute(query).first()
    if row is None:
        values = {
            "name": task.name,
            "source": task.source,
            "source_id": None if task.source_id is None else str(task.source_id),
            "fingerprint": task.fingerprint,
            "group_key": task.group_key,
            "task_type": task.task_type,
            "target": task.target,
            "n_rows": int(task.n_rows),
            "n_features": int(task.n_features),
            "provenance": normalise_json(task.provenance),
        }
        inserted = conn.execute(
            _insert(conn, t).values(**values).on_conflict_do_nothing().returning(t.c.id)
        ).first()
        if inserted is not None:
            return int(inserted.id), True
        row = conn.execute(query).first()  # lost a race with a concurrent writer
        if row is None:  # pragma: no cover - conflict on a key we did not look for
            raise StoreError(f"cannot insert task {task.source}/{task.name}")
    if row.fingerprint != task.fingerprint:
        raise StoreError(
            f"task {task.source}/{task.name} is stored (id {row.id}) with fingerprint "
            f"{row.fingerprint}, but this data has fingerprint {task.fingerprint}: the data "
            "changed, and its evaluations cannot join the stored task's; store it under "
            "another name"
        )
    return int(row.id), False


def upsert_metafeatures(
    conn: Connection, task_id: int, values: Mapping[str, float | None], *, overwrite: bool = True
) -> int:
    """Write ``name -> value`` for one task (NaN -> NULL); returns rows written."""
    rows = [
        {"task_id": int(task_id), "name": str(k), "value": finite_or_none(v)}
        for k, v in values.items()
    ]
    return insert_metafeature_rows(conn, rows, overwrite=overwrite)


def insert_metafeature_rows(
    conn: Connection, rows: Sequence[Mapping[str, Any]], *, overwrite: bool
) -> int:
    """Insert metafeature rows; on (task_id, name) conflict update or skip."""
    m = s.metafeatures
    written = 0
    for chunk in _chunks(rows):
        stmt = _insert(conn, m)
        if overwrite:
            stmt = stmt.on_conflict_do_update(
                index_elements=[m.c.task_id, m.c.name], set_={"value": stmt.excluded.value}
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=[m.c.task_id, m.c.name])
        written += _executemany(conn, stmt, chunk)
    return written


def configuration_row(
    family: str, params: Mapping[str, Any], space_version: str, config_hash: str
) -> dict[str, Any]:
    """Column values for one configuration (params normalised, checksum computed)."""
    if not family or not config_hash:
        raise StoreError("a configuration needs a non-empty family and config_hash")
    clean = normalise_json(params)
    return {
        "family": str(family),
        "params": clean,
        "space_version": str(space_version),
        "config_hash": str(config_hash),
        "params_checksum": params_checksum(clean),
    }


def insert_configurations(
    conn: Connection, rows: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, int], int]:
    """Insert configuration rows (skip known hashes); returns (``config_hash -> id``, new)."""
    c = s.configurations
    inserted = 0
    for chunk in _chunks(rows):
        stmt = _insert(conn, c).on_conflict_do_nothing(index_elements=[c.c.config_hash])
        inserted += _executemany(conn, stmt, chunk)
    ids: dict[str, int] = {}
    hashes = [r["config_hash"] for r in rows]
    for chunk in _chunks(hashes):
        query = select(c.c.config_hash, c.c.id).where(c.c.config_hash.in_(chunk))
        ids.update({h: int(i) for h, i in conn.execute(query)})
    return ids, inserted


def insert_configuration(conn: Connection, row: Mapping[str, Any]) -> int:
    """Id of the configuration with ``row['config_hash']``; refuses a conflicting duplicate."""
    c = s.configurations
    insert_configurations(conn, [row])
    stored = conn.execute(
        select(c.c.id, c.c.family, c.c.params_checksum).where(c.c.config_hash == row["config_hash"])
    ).one()
    if (stored.family, stored.params_checksum) != (row["family"], row["params_checksum"]):
        raise StoreError(
            f"config_hash {row['config_hash']} is already stored (id {stored.id}) for other "
            f"params or family ({stored.family}); hashes must identify configurations uniquely"
        )
    return int(stored.id)


def refuse_other_configurations(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """StoreError when a ``config_hash`` of ``rows`` is stored with other params or family
    (an insert skipped it, so its evaluations would go to the stored configuration)."""
    c = s.configurations
    wanted = {r["config_hash"]: (r["family"], r["params_checksum"]) for r in rows}
    clashes: list[str] = []
    for chunk in _chunks(list(wanted)):
        query = select(c.c.config_hash, c.c.family, c.c.params_checksum)
        for row in conn.execute(query.where(c.c.config_hash.in_(chunk))):
            if wanted[row.config_hash] != (row.family, row.params_checksum):
                clashes.append(row.config_hash)
    if clashes:
        raise StoreError(
            f"{len(clashes)} config_hash values are already stored for other params or family, "
            f"e.g. {', '.join(sorted(clashes)[:3])}; hashes must identify configurations "
            "uniquely"
        )


def _pg_unnest_insert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> Any:
    """PostgreSQL: one ``INSERT ... SELECT unnest(array), ...`` per batch (2-3x executemany)."""
    cols = list(rows[0])
    arrays = [
        func.unnest(bindparam(f"a_{c}", [r[c] for r in rows], type_=ARRAY(table.c[c].type)))
        for c in cols
    ]
    return postgresql.insert(table).from_select(cols, select(*arrays))


def insert_evaluation_rows(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert evaluation rows, skipping existing keys; returns how many were new."""
    e = s.evaluations
    key = [e.c[k] for k in s.EVALUATION_KEY]
    now = datetime.now(UTC)
    # A fixed key order makes concurrent PostgreSQL writers lock rows in the same order.
    ordered = sorted(rows, key=lambda r: tuple(r[k] for k in s.EVALUATION_KEY))
    inserted = 0
    for chunk in _chunks(ordered):
        params = [r if r.get("created_at") else {**r, "created_at": now} for r in chunk]
        if conn.dialect.name == "postgresql":
            stmt = _pg_unnest_insert(conn, e, params).on_conflict_do_nothing(index_elements=key)
            inserted += _rowcount(conn.execute(stmt.execution_options(preserve_rowcount=True)))
        else:
            stmt = _insert(conn, e).on_conflict_do_nothing(index_elements=key)
            inserted += _executemany(conn, stmt, params)
    return inserted
