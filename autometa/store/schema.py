"""Database schema (SQLAlchemy Core tables) and its version.

Bump ``SCHEMA_VERSION`` whenever a table or column changes; a store written by another
version is refused with :class:`~autometa.exceptions.SchemaVersionError`. The working
tables of ``work_metadata`` (the harvest's claims) hold no data: they are added to a store
of the current version when a writer opens it, and snapshots, ``info`` and ``verify``
ignore them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from autometa.store.records import EVALUATION_KEY, SCHEMA_VERSION, STATUSES, TASK_TYPES

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only aliases the rowid for INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit id.
_BigId = BigInteger().with_variant(Integer(), "sqlite")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


schema_info = Table(
    "schema_info",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("autometa_version", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False),
    Column("source", String(64), nullable=False),
    Column("source_id", String(255)),
    Column("fingerprint", String(128), nullable=False, unique=True),
    Column("group_key", String(255), index=True),
    Column("task_type", String(16), nullable=False, index=True),
    Column("target", String(255), nullable=False),
    Column("n_rows", BigInteger, nullable=False),
    Column("n_features", Integer, nullable=False),
    Column("provenance", JSON, nullable=False),
    UniqueConstraint("source", "name"),
    CheckConstraint(_in("task_type", TASK_TYPES), name="task_type"),
)

metafeatures = Table(
    "metafeatures",
    metadata,
    Column("task_id", Integer, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("value", Double),
)

configurations = Table(
    "configurations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("family", String(64), nullable=False, index=True),
    Column("params", JSON, nullable=False),
    Column("space_version", String(32), nullable=False),
    Column("config_hash", String(64), nullable=False, unique=True),
    Column("params_checksum", String(64), nullable=False),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("task_id", Integer, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    Column(
        "config_id",
        Integer,
        ForeignKey("configurations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("fold", Integer, nullable=False),
    Column("metric", String(64), nullable=False),
    Column("value", Double),
    Column("fit_seconds", Double),
    Column("status", String(16), nullable=False),
    Column("message", Text),
    Column("source", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The idempotency key; its leading task_id also serves ``completed(task_id)``.
    UniqueConstraint("task_id", "config_id", "fold", "metric", "source"),
    CheckConstraint(_in("status", STATUSES), name="status"),
    Index(None, "metric", "status"),
)

TABLE_NAMES: tuple[str, ...] = tuple(metadata.tables)

work_metadata = MetaData(naming_convention=metadata.naming_convention)

#: Units (task, configuration, repeat) a running harvest is evaluating; see harvest.md.
claims = Table(
    "claims",
    work_metadata,
    Column("task_id", Integer, primary_key=True),
    Column("config_id", Integer, primary_key=True),
    Column("repeat", Integer, primary_key=True),
    Column("owner", String(255), nullable=False),
    Column("claimed_at", Double, nullable=False),  # seconds since the epoch, database clock
)

WORK_TABLE_NAMES: tuple[str, ...] = tuple(work_metadata.tables)

__all__ = [
    "EVALUATION_KEY",
    "SCHEMA_VERSION",
    "TABLE_NAMES",
    "WORK_TABLE_NAMES",
    "claims",
    "configurations",
    "evaluations",
    "metadata",
    "metafeatures",
    "schema_info",
    "tasks",
    "work_metadata",
]
