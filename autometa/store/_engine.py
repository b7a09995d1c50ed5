"""Engines, transactions with retry, and schema initialisation / version check."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from autometa.exceptions import SchemaVersionError, StoreError
from autometa.store import schema as s
from autometa.store._connect import describe_timeout, driver_hint, pg_connect_args
from autometa.store._url import is_memory, mask_url

log = logging.getLogger(__name__)
T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
RETRY_ATTEMPTS = 6
RETRY_WINDOW_S = SQLITE_BUSY_TIMEOUT_MS / 1000
_PG_INIT_LOCK = 0x6175746F6D657461 >> 8  # "automet": advisory lock guarding schema creation
_TRANSIENT_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
_TRANSIENT_SQLITE = ("database is locked", "database table is locked", "database is busy")


def make_engine(url: URL, *, read_only: bool = False) -> Engine:
    """An engine for ``url``. SQLite gets busy_timeout and foreign keys, and WAL and BEGIN
    IMMEDIATE for writers; ``read_only`` sessions write nothing (SQLite ``query_only``,
    PostgreSQL ``default_transaction_read_only``). PostgreSQL sessions get connect and
    statement timeouts (see :func:`~autometa.store._connect.pg_connect_args`)."""
    if url.get_backend_name() != "sqlite":
        try:
            return create_engine(
                url, pool_pre_ping=True, connect_args=pg_connect_args(url, read_only=read_only)
            )
        except ImportError as exc:  # missing, or installed without its C library
            raise StoreError(driver_hint(url, exc)) from exc
    memory = is_memory(url)
    if not memory:
        parent = Path(url.database or "").parent
        if not parent.is_dir():
            raise StoreError(f"cannot open SQLite store: directory {parent} does not exist")
    kwargs: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    if memory:
        kwargs.update(poolclass=StaticPool)
        kwargs["connect_args"]["check_same_thread"] = False
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if read_only:  # leaves the journal mode as found, refuses every write
            cursor.execute("PRAGMA query_only = ON")
        elif not memory:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front so a read->write upgrade can never deadlock.
        write = conn.get_execution_options().get("autometa_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def is_transient(exc: BaseException) -> bool:
    """True for lock/busy/deadlock errors worth retrying."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    message = str(orig).lower()
    return any(m in message for m in _TRANSIENT_SQLITE)


def run(
    engine: Engine, fn: Callable[[Connection], T], *, write: bool, what: str = "store access"
) -> T:
    """Run ``fn(conn)`` in one transaction (commit or roll back), retrying transient locks.

    Retries stop after RETRY_ATTEMPTS or once RETRY_WINDOW_S has passed: a SQLite lock
    that outlasted the whole busy_timeout is reported, not waited on again.
    """
    start = time.monotonic()
    for attempt in range(RETRY_ATTEMPTS):
        try:
            with engine.connect() as conn:
                conn.execution_options(autometa_write=write)
                with conn.begin():
                    return fn(conn)
        except IntegrityError as exc:
            raise StoreError(f"{what} violates a store constraint: {exc.orig}") from exc
        except SQLAlchemyError as exc:
            retry = attempt + 1 < RETRY_ATTEMPTS and time.monotonic() - start < RETRY_WINDOW_S
            if retry and is_transient(exc):
                delay = 0.05 * 2**attempt * (1 + random.random())
                log.debug("transient error in %s (%s); retrying in %.2fs", what, exc.orig, delay)
                time.sleep(delay)
                continue
            reason = describe_timeout(engine.url, exc) or _brief(exc)
            raise StoreError(f"{what} failed on {mask_url(engine.url)}: {reason}") from exc
    raise AssertionError("unreachable")  # pragma: no cover


def _brief(exc: SQLAlchemyError) -> str:
    """The driver's message in one line (SQLAlchemy's own text adds the SQL and a link)."""
    orig = getattr(exc, "orig", None)
    if orig is None:
        return (str(exc).splitlines() or [type(exc).__name__])[0]
    lines = str(orig).splitlines()
    return f"{lines[0] if lines else ''} ({type(orig).__name__})".strip()


@contextmanager
def _init_lock(conn: Connection) -> Iterator[None]:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_INIT_LOCK})
    yield  # SQLite: BEGIN IMMEDIATE already serialises initialisation


def upgrade_hint(url: URL, found: object) -> str:
    """What to run when a store's schema version differs from this autometa's."""
    shown = mask_url(url)
    secret = " (with the real password for ***)" if url.password else ""
    return (
        f"The store at {shown} has schema version {found}, but this autometa expects "
        f"schema version {s.SCHEMA_VERSION}. To keep its data, export a snapshot with the "
        f"autometa release that wrote it: `autometa store export SNAPSHOT_DIR --store "
        f"'{shown}'`{secret}, then load it into a new store with this release: "
        f"`autometa store import SNAPSHOT_DIR --store NEW_URL`. If the data is disposable, "
        f"delete the store and it is re-created empty. If the store is newer than this "
        f"autometa, upgrade instead: `pip install -U autometa`."
    )


def _read_version(conn: Connection) -> int | None:
    names = set(inspect(conn).get_table_names())
    if s.schema_info.name not in names:
        if names & set(s.TABLE_NAMES):
            return -1  # our tables but no version row: unversioned / foreign
        return None
    row = conn.execute(select(s.schema_info.c.version).order_by(s.schema_info.c.id)).first()
    if row is None:
        return -1
    try:
        return int(row.version)
    except (TypeError, ValueError) as exc:
        raise SchemaVersionError(
            f"The store at {mask_url(conn.engine.url)} has an unreadable schema version "
            f"{row.version!r} in schema_info (expected the integer {s.SCHEMA_VERSION}); it is "
            "damaged or was not written by autometa"
        ) from exc


def _check(url: URL, found: int | None) -> bool:
    """True when the schema is current; False when the database is empty."""
    if found is None:
        return False
    if found != s.SCHEMA_VERSION:
        raise SchemaVersionError(
            upgrade_hint(url, "unknown (no schema_info)" if found < 0 else found)
        )
    return True


def _missing_work_tables(conn: Connection) -> bool:
    return not set(s.WORK_TABLE_NAMES) <= set(inspect(conn).get_table_names())


def _add_work_tables(conn: Connection) -> None:
    with _init_lock(conn):
        s.work_metadata.create_all(conn)  # checkfirst: a concurrent opener may have added them


def ensure_schema(engine: Engine, *, read_only: bool = False) -> None:
    """Create the schema in an empty database (``read_only``: refuse it as not a store);
    refuse one written by another version. A writer adds the working tables (claims) to a
    current store that lacks them; its data is untouched."""

    def state(conn: Connection) -> tuple[bool, bool]:
        return _check(engine.url, _read_version(conn)), _missing_work_tables(conn)

    current, missing = run(engine, state, write=False, what="open")
    if current:
        if missing and not read_only:
            run(engine, _add_work_tables, write=True, what="adding the claims table")
        return
    if read_only:
        raise StoreError(
            f"{mask_url(engine.url)} is not an autometa store (no autometa tables); "
            "`autometa harvest` or `autometa store import` create one"
        )

    def init(conn: Connection) -> None:
        with _init_lock(conn):
            if _check(engine.url, _read_version(conn)):
                return  # another process initialised it meanwhile
            s.metadata.create_all(conn)
            s.work_metadata.create_all(conn)
            from autometa import __version__

            conn.execute(
                s.schema_info.insert().values(
                    id=1,
                    version=s.SCHEMA_VERSION,
                    autometa_version=__version__,
                    created_at=datetime.now(UTC),
                )
            )

    run(engine, init, write=True, what="schema initialisation")
