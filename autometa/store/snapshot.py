"""Parquet snapshots of a store: export, checksum-verified import, database-free reading."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from autometa.exceptions import SchemaVersionError, StoreError
from autometa.store import _frames
from autometa.store.records import (
    EVALUATION_KEY,
    SCHEMA_VERSION,
    TaskRecord,
    canonical_json,
    finite_or_none,
)

if TYPE_CHECKING:  # reading a snapshot needs no SQLAlchemy; export/import import it
    from sqlalchemy.engine import Connection

    from autometa.store.sql import Store

FORMAT = "autometa-snapshot"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_READ_CHUNK = 100_000

_STR, _INT, _FLOAT = pa.string(), pa.int64(), pa.float64()
_CONFIG = ("family", "params", "space_version", "config_hash", "params_checksum")
_EVAL = [("fold", _INT), ("metric", _STR), ("value", _FLOAT), ("fit_seconds", _FLOAT)]
_EVAL += [("status", _STR), ("message", _STR), ("source", _STR)]
# Columns and types of each file (JSON columns hold canonical JSON text), and row order.
_SCHEMAS: dict[str, pa.Schema] = {
    "tasks": pa.schema(
        [("task_id", _INT)]
        + [(c, _INT if c in ("n_rows", "n_features") else _STR) for c in _frames.TASK_COLUMNS]
    ),
    "metafeatures": pa.schema([("task_id", _INT), ("name", _STR), ("value", _FLOAT)]),
    "configurations": pa.schema([("config_id", _INT)] + [(c, _STR) for c in _CONFIG]),
    "evaluations": pa.schema(
        [("task_id", _INT), ("config_id", _INT), *_EVAL, ("created_at", pa.timestamp("us", "UTC"))]
    ),
}
_ORDER = {
    "tasks": ["task_id"],
    "metafeatures": ["task_id", "name"],
    "configurations": ["config_id"],
    "evaluations": list(EVALUATION_KEY),
}
_JSON_COLUMNS = {"provenance", "params"}
_OPTIONAL = {"message", "created_at", "params_checksum"}  # import tolerates their absence


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _select(table: str) -> Any:
    from sqlalchemy import select

    from autometa.store import schema as s

    columns, order = _SCHEMAS[table].names, _ORDER[table]
    t = s.metadata.tables[table]
    alias = {"tasks": "task_id", "configurations": "config_id"}.get(table)
    cols = {c: t.c.id.label(c) if c == alias else t.c[c] for c in columns}
    return select(*cols.values()).order_by(*(t.c.id if k == alias else t.c[k] for k in order))


def _write_table(conn: Connection, table: str, path: Path) -> int:
    """Stream one table into a zstd Parquet file; returns the row count."""
    schema = _SCHEMAS[table]
    columns = schema.names
    result = conn.execution_options(yield_per=_READ_CHUNK).execute(_select(table))
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for part in result.partitions():
            df = pd.DataFrame(part, columns=columns)
            for col in _JSON_COLUMNS & set(columns):
                df[col] = [canonical_json(v) for v in df[col]]
            if "created_at" in df:
                df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
            writer.write_table(pa.Table.from_pandas(df, schema=schema, preserve_index=False))
            rows += len(df)
    return rows


def export_snapshot(
    store: Store, directory: str | Path, build_command: str | None = None
) -> dict[str, Any]:
    """Write the four tables as ``<table>.parquet`` (zstd) plus ``manifest.json``."""
    from sqlalchemy import func, select

    from autometa import __version__
    from autometa.store import schema as s

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)

    def dump(conn: Connection) -> dict[str, Any]:
        files, counts = {}, {}
        for table in _SCHEMAS:
            path = out / f"{table}.parquet"
            counts[table] = _write_table(conn, table, path)
            files[table] = {
                "path": path.name,
                "sha256": _sha256(path),
                "rows": counts[table],
                "bytes": path.stat().st_size,
            }
        sources = {
            name: dict(
                sorted(
                    (str(k), int(v))
                    for k, v in conn.execute(select(col, func.count()).group_by(col))
                )
            )
            for name, col in (("tasks", s.tasks.c.source), ("evaluations", s.evaluations.c.source))
        }
        return {"files": files, "counts": counts, "sources": sources}

    dumped = store._read(dump, "export_snapshot")  # one transaction: a consistent snapshot
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_version": SCHEMA_VERSION,
        "autometa_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_command": build_command,
        "compression": "zstd",
        **dumped,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def _manifest(root: Path) -> dict[str, Any]:
    """The manifest, after checking format and schema version."""
    try:
        manifest = json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise StoreError(f"cannot read snapshot manifest {root / MANIFEST}: {exc}") from exc
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise StoreError(f"{root} is not an {FORMAT} v{FORMAT_VERSION} snapshot")
    if int(manifest.get("schema_version", -1)) > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"snapshot {root} has schema version {manifest['schema_version']}, newer than this "
            f"autometa's {SCHEMA_VERSION}; upgrade: `pip install -U autometa`"
        )
    return manifest


def _read_table(root: Path, manifest: dict[str, Any], table: str) -> pd.DataFrame:
    """One table's raw frame, after checking its checksum and columns."""
    entry = manifest["files"][table]
    path = root / entry["path"]
    if not path.is_file():
        raise StoreError(f"snapshot file {path} is missing")
    actual = _sha256(path)
    if actual != entry["sha256"]:
        raise StoreError(f"checksum mismatch for {path}: manifest {entry['sha256']}, file {actual}")
    df = pq.read_table(path).to_pandas()
    missing = set(_SCHEMAS[table].names) - set(df.columns) - _OPTIONAL
    if missing:
        raise StoreError(f"snapshot file {path} lacks columns {sorted(missing)}")
    for col in _JSON_COLUMNS & set(df.columns):
        df[col] = [json.loads(v) for v in df[col]]
    return df


def _load(directory: str | Path) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """Manifest and raw table frames, after checking format, version and checksums."""
    root = Path(directory)
    manifest = _manifest(root)
    return manifest, {table: _read_table(root, manifest, table) for table in _SCHEMAS}


class Snapshot:
    """A read-only snapshot; frames are shaped exactly like the Store's frame methods.

    ``evaluations`` may be given as a zero-argument function: the (largest) table is then
    read on first use, so answering from a cached meta-model never loads it.
    """

    def __init__(
        self,
        manifest: dict[str, Any],
        tasks: pd.DataFrame,
        metafeatures: pd.DataFrame,
        configurations: pd.DataFrame,
        evaluations: pd.DataFrame | Callable[[], pd.DataFrame],
    ) -> None:
        self.manifest = manifest
        self.tasks = tasks
        self.metafeatures = metafeatures
        self.configurations = configurations
        self._evaluations = evaluations
        self._lock = threading.Lock()

    @property
    def evaluations(self) -> pd.DataFrame:
        """Every evaluation row, any status; filter with :meth:`evaluations_frame`."""
        with self._lock:
            if callable(self._evaluations):
                self._evaluations = self._evaluations()
            return self._evaluations

    def __repr__(self) -> str:
        return f"Snapshot({len(self.tasks)} tasks, {len(self.configurations)} configurations)"

    def tasks_frame(self) -> pd.DataFrame:
        return self.tasks.copy()

    def metafeatures_frame(self) -> pd.DataFrame:
        return self.metafeatures.copy()

    def configurations_frame(self, family: str | None = None) -> pd.DataFrame:
        c = self.configurations
        return (c if family is None else c[c["family"] == family]).copy()

    def evaluations_frame(
        self,
        *,
        family: str | None = None,
        metric: str | None = None,
        task_type: str | None = None,
        status: str | None = "ok",
    ) -> pd.DataFrame:
        """Same filters and columns as :meth:`Store.evaluations_frame`."""
        return _frames.filter_evaluations(
            self.evaluations,
            self.tasks,
            family=family,
            metric=metric,
            task_type=task_type,
            status=status,
        )


def read_snapshot(directory: str | Path) -> Snapshot:
    """Read a snapshot (checksums verified) without any database; the evaluations table
    is read (and verified) on first use."""
    root = Path(directory)
    manifest = _manifest(root)
    raw = {t: _read_table(root, manifest, t) for t in _SCHEMAS if t != "evaluations"}
    configs = _frames.shape_configurations(raw["configurations"])

    def evaluations() -> pd.DataFrame:
        evals = _read_table(root, manifest, "evaluations").merge(
            configs[["family"]], left_on="config_id", right_index=True, how="left"
        )
        return _frames.shape_evaluations(evals)

    return Snapshot(
        manifest=manifest,
        tasks=_frames.shape_tasks(raw["tasks"]),
        metafeatures=_frames.shape_metafeatures(raw["metafeatures"]),
        configurations=configs,
        evaluations=evaluations,
    )


def _none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else value


def import_snapshot(directory: str | Path, store: Store) -> dict[str, int]:
    """Add a snapshot's rows to ``store`` (one transaction, ids remapped, known keys skipped).

    Returns the number of rows inserted per table; importing twice inserts nothing.
    """
    from autometa.store import _ops

    _, raw = _load(directory)

    def load(conn: Connection) -> dict[str, int]:
        counts = dict.fromkeys(_SCHEMAS, 0)
        task_ids: dict[int, int] = {}
        for row in raw["tasks"].to_dict("records"):
            fields = {k: _none(row[k]) for k in _frames.TASK_COLUMNS}
            new_id, created = _ops.insert_task(conn, TaskRecord(**fields))
            task_ids[int(row["task_id"])] = new_id
            counts["tasks"] += created
        cfg = raw["configurations"]
        rows = [
            _ops.configuration_row(r["family"], r["params"], r["space_version"], r["config_hash"])
            for r in cfg.to_dict("records")
        ]
        by_hash, counts["configurations"] = _ops.insert_configurations(conn, rows)
        config_ids = {
            int(old): by_hash[h]
            for old, h in zip(cfg["config_id"], cfg["config_hash"], strict=True)
        }
        mf = [
            {
                "task_id": task_ids[int(r["task_id"])],
                "name": r["name"],
                "value": finite_or_none(_none(r["value"])),
            }
            for r in raw["metafeatures"].to_dict("records")
        ]
        counts["metafeatures"] = _ops.insert_metafeature_rows(conn, mf, overwrite=False)
        evals = []
        for r in raw["evaluations"].to_dict("records"):
            created = _none(r.get("created_at"))
            evals.append(
                {
                    "task_id": task_ids[int(r["task_id"])],
                    "config_id": config_ids[int(r["config_id"])],
                    "fold": int(r["fold"]),
                    "metric": r["metric"],
                    "value": finite_or_none(_none(r["value"])),
                    "fit_seconds": finite_or_none(_none(r["fit_seconds"])),
                    "status": r["status"],
                    "message": _none(r.get("message")),
                    "source": r["source"],
                    "created_at": None
                    if created is None
                    else pd.Timestamp(created).to_pydatetime(),
                }
            )
        counts["evaluations"] = _ops.insert_evaluation_rows(conn, evals)
        return counts

    return store._write(load, "import_snapshot")
