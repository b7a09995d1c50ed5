"""The metadata store: prior evaluations P(config, task), chosen by URL.

``open_store(None)`` opens the user's SQLite store; ``open_store("postgresql+psycopg://...")``
a shared server. Snapshots move a store's content as checksummed Parquet files.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from autometa.store.base import KnowledgeBase
from autometa.store.records import (
    SCHEMA_VERSION,
    STATUSES,
    TASK_TYPES,
    Claim,
    EvaluationRecord,
    TaskRecord,
    params_checksum,
)

if TYPE_CHECKING:
    from autometa.store._url import VALID_SCHEMES, default_store_url, mask_url
    from autometa.store.snapshot import (
        Snapshot,
        export_snapshot,
        import_snapshot,
        read_snapshot,
    )
    from autometa.store.sql import Store, open_store

# Loaded on first use, so reading the shipped snapshot never imports SQLAlchemy.
_LAZY = {
    "VALID_SCHEMES": "_url",
    "default_store_url": "_url",
    "mask_url": "_url",
    "Snapshot": "snapshot",
    "export_snapshot": "snapshot",
    "import_snapshot": "snapshot",
    "read_snapshot": "snapshot",
    "Store": "sql",
    "open_store": "sql",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"autometa.store.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'autometa.store' has no attribute {name!r}")


__all__ = [
    "SCHEMA_VERSION",
    "STATUSES",
    "TASK_TYPES",
    "VALID_SCHEMES",
    "Claim",
    "EvaluationRecord",
    "KnowledgeBase",
    "Snapshot",
    "Store",
    "TaskRecord",
    "default_store_url",
    "export_snapshot",
    "import_snapshot",
    "mask_url",
    "open_store",
    "params_checksum",
    "read_snapshot",
]
