"""The metadata store: prior evaluations P(config, task), chosen by URL.

``open_store(None)`` opens the user's SQLite store; ``open_store("postgresql+psycopg://...")``
a shared server. Snapshots move a store's content as checksummed Parquet files.
"""

from __future__ import annotations

from autometa.store._url import VALID_SCHEMES, default_store_url, mask_url
from autometa.store.records import (
    STATUSES,
    TASK_TYPES,
    EvaluationRecord,
    TaskRecord,
    params_checksum,
)
from autometa.store.schema import SCHEMA_VERSION
from autometa.store.snapshot import Snapshot, export_snapshot, import_snapshot, read_snapshot
from autometa.store.sql import Store, open_store

__all__ = [
    "SCHEMA_VERSION",
    "STATUSES",
    "TASK_TYPES",
    "VALID_SCHEMES",
    "EvaluationRecord",
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
