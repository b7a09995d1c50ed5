"""The snapshot file format: Parquet schemas, checksums, and checked reading of the files.

A snapshot is ``manifest.json`` plus one zstd Parquet file per table; reading checks the
manifest's format and schema version, each file's sha256, columns and types.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from autometa.exceptions import SchemaVersionError, StoreError
from autometa.store import _frames
from autometa.store._validate import check_evaluation_values
from autometa.store.records import EVALUATION_KEY, SCHEMA_VERSION

FORMAT = "autometa-snapshot"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"

_STR, _INT, _FLOAT = pa.string(), pa.int64(), pa.float64()
_CONFIG = ("family", "params", "space_version", "config_hash", "params_checksum")
_EVAL = [("fold", _INT), ("metric", _STR), ("value", _FLOAT), ("fit_seconds", _FLOAT)]
_EVAL += [("status", _STR), ("message", _STR), ("source", _STR)]
# Columns and types of each file (JSON columns hold canonical JSON text), and row order.
SCHEMAS: dict[str, pa.Schema] = {
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
ORDER = {
    "tasks": ["task_id"],
    "metafeatures": ["task_id", "name"],
    "configurations": ["config_id"],
    "evaluations": list(EVALUATION_KEY),
}
JSON_COLUMNS = {"provenance", "params"}
_OPTIONAL = {"message", "created_at", "params_checksum"}  # import tolerates their absence
_NULLABLE = {"source_id", "group_key", "value", "fit_seconds", "message", "created_at"}


def sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync(path: Path) -> None:
    """Flush a file or directory to disk (best effort: not every OS syncs directories)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (its type name when empty)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest, after checking format, schema version and file entries."""
    where = root / MANIFEST
    try:
        manifest = json.loads(where.read_text())
    except (OSError, ValueError) as exc:
        raise StoreError(f"cannot read snapshot manifest {where}: {exc}") from exc
    if not isinstance(manifest, dict) or (
        manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION
    ):
        raise StoreError(f"{root} is not an {FORMAT} v{FORMAT_VERSION} snapshot")
    try:
        version = int(manifest.get("schema_version", -1))
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"snapshot manifest {where}: schema_version {manifest['schema_version']!r} is not "
            "an integer"
        ) from exc
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"snapshot {root} has schema version {version}, newer than this "
            f"autometa's {SCHEMA_VERSION}; upgrade: `pip install -U autometa`"
        )
    files = manifest.get("files")
    for table in SCHEMAS:
        entry = files.get(table) if isinstance(files, dict) else None
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("path"), str)
            and isinstance(entry.get("sha256"), str)
        ):
            raise StoreError(f"snapshot manifest {where} has no valid files entry for {table!r}")
    return manifest


def _conform(data: pa.Table, table: str, path: Path) -> pa.Table:
    """Cast each known column to its exported type; refuse nulls where the store has none."""
    for field in SCHEMAS[table]:
        if field.name not in data.column_names:
            continue
        index = data.column_names.index(field.name)
        try:
            column = data.column(index).cast(field.type)
        except pa.ArrowException as exc:
            raise StoreError(
                f"snapshot file {path}: column {field.name!r} is not {field.type} "
                f"({first_line(exc)})"
            ) from exc
        if column.null_count and field.name not in _NULLABLE:
            raise StoreError(
                f"snapshot file {path}: column {field.name!r} has {column.null_count} missing "
                "values"
            )
        data = data.set_column(index, field, column)
    return data


def _parse_json(values: pd.Series, path: Path, column: str) -> list[dict[str, Any]]:
    """Decode a column of JSON objects (``params``, ``provenance``)."""
    parsed = []
    for row, text in enumerate(values):
        try:
            value = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise StoreError(
                f"snapshot file {path}: column {column!r} row {row} is not valid JSON ({exc})"
            ) from exc
        if not isinstance(value, dict):
            raise StoreError(
                f"snapshot file {path}: column {column!r} row {row} is not a JSON object"
            )
        parsed.append(value)
    return parsed


def read_table(root: Path, manifest: dict[str, Any], table: str) -> pd.DataFrame:
    """One table's raw frame, after checking its checksum, columns and types (and, for
    evaluations, that every score and fit time is possible)."""
    entry = manifest["files"][table]
    path = root / entry["path"]
    if not path.is_file():
        raise StoreError(f"snapshot file {path} is missing")
    actual = sha256(path)
    if actual != entry["sha256"]:
        raise StoreError(f"checksum mismatch for {path}: manifest {entry['sha256']}, file {actual}")
    try:
        data = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise StoreError(
            f"snapshot file {path} is not a readable Parquet file ({first_line(exc)})"
        ) from exc
    missing = set(SCHEMAS[table].names) - set(data.column_names) - _OPTIONAL
    if missing:
        raise StoreError(f"snapshot file {path} lacks columns {sorted(missing)}")
    data = _conform(data, table, path)
    if table == "evaluations":
        check_evaluation_values(data, path)
    df = data.to_pandas()
    for col in JSON_COLUMNS & set(df.columns):
        df[col] = _parse_json(df[col], path, col)
    return df


def load_tables(directory: str | Path) -> tuple[Path, dict[str, Any], dict[str, pd.DataFrame]]:
    """Root, manifest and raw table frames, after checking format, version and checksums."""
    root = Path(directory)
    manifest = read_manifest(root)
    return root, manifest, {table: read_table(root, manifest, table) for table in SCHEMAS}
