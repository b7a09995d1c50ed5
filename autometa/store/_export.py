"""Export a store to a snapshot folder, written aside and swapped in when complete."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from autometa.exceptions import StoreError
from autometa.store._parquet import (
    FORMAT,
    FORMAT_VERSION,
    JSON_COLUMNS,
    MANIFEST,
    ORDER,
    SCHEMAS,
    first_line,
    fsync,
    sha256,
)
from autometa.store.records import SCHEMA_VERSION, canonical_json

if TYPE_CHECKING:  # importing this module (as autometa.store.snapshot does) needs no SQLAlchemy
    from sqlalchemy.engine import Connection

    from autometa.store.sql import Store

_READ_CHUNK = 100_000


def _select(table: str) -> Any:
    from sqlalchemy import select

    from autometa.store import schema as s

    columns, order = SCHEMAS[table].names, ORDER[table]
    t = s.metadata.tables[table]
    alias = {"tasks": "task_id", "configurations": "config_id"}.get(table)
    cols = {c: t.c.id.label(c) if c == alias else t.c[c] for c in columns}
    return select(*cols.values()).order_by(*(t.c.id if k == alias else t.c[k] for k in order))


def _write_table(conn: Connection, table: str, path: Path) -> int:
    """Stream one table into a zstd Parquet file; returns the row count."""
    schema = SCHEMAS[table]
    columns = schema.names
    result = conn.execution_options(yield_per=_READ_CHUNK).execute(_select(table))
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for part in result.partitions():
            df = pd.DataFrame(part, columns=columns)
            for col in JSON_COLUMNS & set(columns):
                df[col] = [canonical_json(v) for v in df[col]]
            if "created_at" in df:
                df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
            writer.write_table(pa.Table.from_pandas(df, schema=schema, preserve_index=False))
            rows += len(df)
    return rows


def _snapshot_files(out: Path) -> set[str]:
    """The file names an existing snapshot in ``out`` consists of (its manifest's files)."""
    try:
        manifest = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise StoreError(
            f"cannot export to {out}: its {MANIFEST} is unreadable ({first_line(exc)}), so it "
            "is not an autometa snapshot to replace"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise StoreError(f"cannot export to {out}: its {MANIFEST} is not an {FORMAT} manifest")
    files = manifest.get("files")
    entries = files.values() if isinstance(files, dict) else []
    listed = {str(e["path"]) for e in entries if isinstance(e, dict) and e.get("path")}
    return {MANIFEST, *(f"{table}.parquet" for table in SCHEMAS), *listed}


def _replaces_snapshot(out: Path) -> bool:
    """Whether exporting to ``out`` replaces a snapshot; refuses any other non-empty path."""
    if not out.exists():
        return False
    if not out.is_dir():
        raise StoreError(f"cannot export to {out}: it exists and is not a directory")
    entries = {p.name for p in out.iterdir()}
    if not entries:
        return False
    if MANIFEST not in entries:
        raise StoreError(
            f"cannot export to {out}: the directory is not empty and is not an autometa "
            f"snapshot (no {MANIFEST}); choose a new or empty directory"
        )
    extra = sorted(entries - _snapshot_files(out))
    if extra:
        shown = ", ".join(extra[:5]) + (", ..." if len(extra) > 5 else "")
        raise StoreError(
            f"cannot export to {out}: besides a snapshot it holds {shown}, which replacing the "
            "snapshot would delete; move them away first"
        )
    return True


def _swap_in(tmp: Path, out: Path, replace: bool) -> None:
    """Move the finished snapshot ``tmp`` to ``out``; an old snapshot is removed only after."""
    if not replace:
        if out.exists():
            out.rmdir()  # an empty directory (os.replace onto a directory fails on Windows)
        os.replace(tmp, out)
    else:
        os.chmod(tmp, stat.S_IMODE(out.stat().st_mode))
        old = out.with_name(f".{out.name}.old-{secrets.token_hex(4)}")
        os.replace(out, old)
        try:
            os.replace(tmp, out)
        except BaseException:
            os.replace(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    fsync(out.parent)


def _dump(conn: Connection, tmp: Path) -> dict[str, Any]:
    """Write every table into ``tmp``; their file entries, row counts and rows per source."""
    from sqlalchemy import func, select

    from autometa.store import schema as s

    files, counts = {}, {}
    for table in SCHEMAS:
        path = tmp / f"{table}.parquet"
        counts[table] = _write_table(conn, table, path)
        fsync(path)
        files[table] = {
            "path": path.name,
            "sha256": sha256(path),
            "rows": counts[table],
            "bytes": path.stat().st_size,
        }
    sources = {
        name: dict(
            sorted(
                (str(k), int(v)) for k, v in conn.execute(select(col, func.count()).group_by(col))
            )
        )
        for name, col in (("tasks", s.tasks.c.source), ("evaluations", s.evaluations.c.source))
    }
    return {"files": files, "counts": counts, "sources": sources}


def export_snapshot(
    store: Store, directory: str | Path, build_command: str | None = None
) -> dict[str, Any]:
    """Write the four tables as ``<table>.parquet`` (zstd) plus ``manifest.json``.

    The files are written to a temporary directory beside ``directory`` and swapped in
    when complete, so an interrupted export leaves any previous snapshot intact. A
    non-empty ``directory`` must hold an autometa snapshot (and nothing else).
    """
    from autometa import __version__

    out = Path(directory).expanduser().resolve()
    replace = _replaces_snapshot(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{secrets.token_hex(4)}")
    tmp.mkdir()
    try:
        # one transaction: a consistent snapshot
        dumped = store._read(lambda conn: _dump(conn, tmp), "export_snapshot")
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
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        fsync(tmp / MANIFEST)
        fsync(tmp)
        _swap_in(tmp, out, replace)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already after a successful swap
    return manifest
