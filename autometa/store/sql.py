"""The SQLAlchemy store: SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Connection

from autometa.exceptions import StoreError
from autometa.store import _claims, _engine, _ops, _queries, _verify
from autometa.store import schema as s
from autometa.store._connect import check_sqlite_file
from autometa.store._url import (
    ENV_VAR,
    is_memory,
    mask_url,
    require_existing,
    resolve_url,
    sqlite_file,
)
from autometa.store.records import Claim, EvaluationRecord, TaskRecord

T = TypeVar("T")


class Store:
    """Prior evaluations P(config, task) with tasks, metafeatures and configurations.

    Every method runs in its own transaction that commits or rolls back; rows are turned
    into records or DataFrames before the session closes. Use :func:`open_store`. A store
    is a :class:`~autometa.store.base.KnowledgeBase`.
    """

    def __init__(
        self,
        url: str | os.PathLike[str] | None = None,
        *,
        must_exist: bool = False,
        read_only: bool = False,
    ) -> None:
        self._url = resolve_url(url)
        self.url: str = mask_url(self._url)
        # In-memory SQLite keeps nothing: opened read-only it is still a fresh empty store.
        self.read_only = read_only and not is_memory(self._url)
        if must_exist or self.read_only:
            require_existing(self._url, given=url is not None or ENV_VAR in os.environ)
        if (path := sqlite_file(self._url)) is not None:
            check_sqlite_file(path, set(s.TABLE_NAMES), read_only=self.read_only)
        self._engine = _engine.make_engine(self._url, read_only=self.read_only)
        try:
            _engine.ensure_schema(self._engine, read_only=self.read_only)
        except BaseException:
            self._engine.dispose()
            raise

    # -- plumbing ------------------------------------------------------------------------
    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def _read(self, fn: Callable[[Connection], T], what: str) -> T:
        return _engine.run(self._engine, fn, write=False, what=what)

    def _write(self, fn: Callable[[Connection], T], what: str) -> T:
        if self.read_only:
            raise StoreError(f"{what}: the store {self.url} was opened read-only")
        return _engine.run(self._engine, fn, write=True, what=what)

    def close(self) -> None:
        """Release all database connections."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # -- writes --------------------------------------------------------------------------
    def add_task(self, task: TaskRecord) -> int:
        """Insert a task; idempotent: the id of an existing fingerprint or (source, name)."""
        return self._write(lambda c: _ops.insert_task(c, task)[0], f"add_task {task.name}")

    def set_metafeatures(self, task_id: int, values: Mapping[str, float | None]) -> None:
        """Upsert ``quality name -> value`` for a task (NaN stored as NULL)."""
        if values:
            self._write(lambda c: _ops.upsert_metafeatures(c, task_id, values), "set_metafeatures")

    def add_configuration(
        self, family: str, params: Mapping[str, Any], space_version: str, config_hash: str
    ) -> int:
        """Insert a configuration; idempotent on ``config_hash``. Returns its id."""
        row = _ops.configuration_row(family, params, space_version, config_hash)
        return self._write(lambda c: _ops.insert_configuration(c, row), "add_configuration")

    def add_evaluations(
        self, rows: Sequence[EvaluationRecord], *, release: Claim | None = None
    ) -> int:
        """Insert evaluations in one transaction, skipping known keys; returns rows inserted.

        The key is (task_id, config_id, fold, metric, source). ``release``: a claim of
        :meth:`claim` deleted in the same transaction (the unit's rows are now stored).
        """
        values = [r.as_row() for r in rows]
        if not values and release is None:
            return 0

        def write(conn: Connection) -> int:
            inserted = _ops.insert_evaluation_rows(conn, values) if values else 0
            if release is not None:
                _claims.release(conn, release)
            return inserted

        return self._write(write, "add_evaluations")

    # -- claims: which running harvest evaluates which unit (see docs/harvest.md) ---------
    def claim(
        self,
        claim: Claim,
        folds: Sequence[int],
        *,
        stale_after: float,
        reclaim: Callable[[str], bool] | None = None,
    ) -> _claims.ClaimOutcome:
        """Take ``claim`` on its unit before evaluating it, in one transaction.

        Returns ``"claimed"`` (a new claim, or one this owner holds), ``"taken_over"``
        (another owner's claim older than ``stale_after`` seconds by the database's clock,
        or whose owner ``reclaim(owner)`` says is gone), ``"held"`` (another owner holds it:
        leave the unit alone) or ``"done"`` (every fold of ``folds`` is stored for the
        unit's task and configuration; no claim is kept).
        """
        return self._write(
            lambda c: _claims.claim_unit(
                c, claim, folds, stale_after=stale_after, reclaim=reclaim or (lambda _: False)
            ),
            "claim",
        )

    def release_claims(self, owner: str) -> int:
        """Delete every claim ``owner`` holds; returns how many."""
        return self._write(lambda c: _claims.release_owner(c, owner), "release_claims")

    # -- point reads ---------------------------------------------------------------------
    def get_task(
        self,
        task_id: int | None = None,
        *,
        fingerprint: str | None = None,
        name: str | None = None,
        source: str | None = None,
    ) -> TaskRecord | None:
        """The task with this id, fingerprint or name (exactly one given), or ``None``;
        ``source`` narrows a name to that source's task ((source, name) is unique)."""
        given = [
            (k, v)
            for k, v in (("id", task_id), ("fingerprint", fingerprint), ("name", name))
            if v is not None
        ]
        if len(given) != 1:
            raise StoreError("get_task needs exactly one of task_id, fingerprint, name")
        if source is not None and name is None:
            raise StoreError("get_task's source narrows a name; pass name too")
        column, value = given[0]
        t = s.tasks

        def fetch(conn: Connection) -> TaskRecord | None:
            query = select(t).where(t.c[column] == value).order_by(t.c.id)
            if source is not None:
                query = query.where(t.c.source == source)
            row = conn.execute(query).first()
            if row is None:
                return None
            data = row._asdict()
            return TaskRecord(**data)

        return self._read(fetch, "get_task")

    def completed(self, task_id: int, family: str | None = None) -> set[tuple[int, int]]:
        """``{(config_id, fold)}`` with any evaluation row (ok/error/timeout) for a task."""
        return self._read(lambda c: _queries.completed(c, task_id, family), "completed")

    # -- frames --------------------------------------------------------------------------
    def tasks_frame(self) -> pd.DataFrame:
        """All tasks: index ``task_id``; provenance as dicts."""
        return self._read(_queries.tasks_frame, "tasks_frame")

    def metafeatures_frame(self) -> pd.DataFrame:
        """Wide metafeatures: index ``task_id``, one float column per quality name."""
        return self._read(_queries.metafeatures_frame, "metafeatures_frame")

    def metafeature_names(self) -> dict[int, set[str]]:
        """Per task id, the quality names stored for it (those with a NULL value too)."""
        return self._read(_queries.metafeature_names, "metafeature_names")

    def configurations_frame(self, family: str | None = None) -> pd.DataFrame:
        """Configurations: index ``config_id``, columns family, params, space_version, hash."""
        return self._read(
            lambda c: _queries.configurations_frame(c, family), "configurations_frame"
        )

    def evaluations_frame(
        self,
        *,
        family: str | None = None,
        metric: str | None = None,
        task_type: str | None = None,
        status: str | None = "ok",
    ) -> pd.DataFrame:
        """Long evaluations (task_id, config_id, family, fold, metric, value, fit_seconds,
        status, source); ``None`` disables a filter."""
        filters = {"family": family, "metric": metric, "task_type": task_type, "status": status}
        return self._read(lambda c: _queries.evaluations_frame(c, **filters), "evaluations_frame")

    # -- the KnowledgeBase view: each access reads the table -----------------------------
    @property
    def manifest(self) -> dict[str, Any]:
        """``{"source": masked URL}`` (a live store has no file checksums)."""
        return {"source": self.url}

    @property
    def tasks(self) -> pd.DataFrame:
        """:meth:`tasks_frame`."""
        return self.tasks_frame()

    @property
    def metafeatures(self) -> pd.DataFrame:
        """:meth:`metafeatures_frame`."""
        return self.metafeatures_frame()

    @property
    def configurations(self) -> pd.DataFrame:
        """:meth:`configurations_frame` of every family."""
        return self.configurations_frame()

    @property
    def evaluations(self) -> pd.DataFrame:
        """Every evaluation row, any status."""
        return self.evaluations_frame(status=None)

    # -- reports -------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """Counts by task type, source, family, metric, status; schema version; masked URL."""
        counts = self._read(_queries.info, "info")
        return {
            "url": self.url,
            "backend": self.backend,
            "schema_version": s.SCHEMA_VERSION,
            **counts,
        }

    def verify(self, config_hasher: _verify.ConfigHasher | None = None) -> dict[str, Any]:
        """Integrity report ``{"ok", "problems", "density"}``.

        Checks orphans, params checksums (and ``config_hash`` when ``config_hasher(family,
        params, space_version)`` is given), non-finite 'ok' values, tasks without metafeatures.
        """
        return self._read(lambda c: _verify.verify(c, config_hasher), "verify")


def open_store(
    url: str | os.PathLike[str] | None = None,
    *,
    must_exist: bool = False,
    read_only: bool = False,
) -> Store:
    """Open (and if empty, initialise) the store at ``url``.

    ``None`` -> ``$AUTOMETA_STORE`` or ``sqlite:///<user data dir>/autometa/store.db``;
    ``sqlite:///path``, a plain ``*.db``/``*.sqlite`` path, or ``postgresql+psycopg://...``.
    ``must_exist=True`` refuses a SQLite file that does not exist instead of creating it.
    ``read_only=True`` (for commands that only read; implies ``must_exist``) writes
    nothing: a database that is not an autometa store (empty, or other tables only) is
    refused with StoreError, and every write method raises. A SQLite file holding only
    other tables is refused in either mode; in-memory SQLite is never refused.
    """
    return Store(url, must_exist=must_exist, read_only=read_only)
