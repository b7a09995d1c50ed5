"""Parquet snapshots of a store: export, checksum-verified import, database-free reading."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import stat
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
    STATUSES,
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
_NULLABLE = {"source_id", "group_key", "value", "fit_seconds", "message", "created_at"}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
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


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


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


def _snapshot_files(out: Path) -> set[str]:
    """The file names an existing snapshot in ``out`` consists of (its manifest's files)."""
    try:
        manifest = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise StoreError(
            f"cannot export to {out}: its {MANIFEST} is unreadable ({_first_line(exc)}), so it "
            "is not an autometa snapshot to replace"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise StoreError(f"cannot export to {out}: its {MANIFEST} is not an {FORMAT} manifest")
    files = manifest.get("files")
    entries = files.values() if isinstance(files, dict) else []
    listed = {str(e["path"]) for e in entries if isinstance(e, dict) and e.get("path")}
    return {MANIFEST, *(f"{table}.parquet" for table in _SCHEMAS), *listed}


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
    _fsync(out.parent)


def export_snapshot(
    store: Store, directory: str | Path, build_command: str | None = None
) -> dict[str, Any]:
    """Write the four tables as ``<table>.parquet`` (zstd) plus ``manifest.json``.

    The files are written to a temporary directory beside ``directory`` and swapped in
    when complete, so an interrupted export leaves any previous snapshot intact. A
    non-empty ``directory`` must hold an autometa snapshot (and nothing else).
    """
    from sqlalchemy import func, select

    from autometa import __version__
    from autometa.store import schema as s

    out = Path(directory).expanduser().resolve()
    replace = _replaces_snapshot(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{secrets.token_hex(4)}")
    tmp.mkdir()

    def dump(conn: Connection) -> dict[str, Any]:
        files, counts = {}, {}
        for table in _SCHEMAS:
            path = tmp / f"{table}.parquet"
            counts[table] = _write_table(conn, table, path)
            _fsync(path)
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

    try:
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
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        _fsync(tmp / MANIFEST)
        _fsync(tmp)
        _swap_in(tmp, out, replace)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already after a successful swap
    return manifest


def _manifest(root: Path) -> dict[str, Any]:
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
    for table in _SCHEMAS:
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
    for field in _SCHEMAS[table]:
        if field.name not in data.column_names:
            continue
        index = data.column_names.index(field.name)
        try:
            column = data.column(index).cast(field.type)
        except pa.ArrowException as exc:
            raise StoreError(
                f"snapshot file {path}: column {field.name!r} is not {field.type} "
                f"({_first_line(exc)})"
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


def _read_table(root: Path, manifest: dict[str, Any], table: str) -> pd.DataFrame:
    """One table's raw frame, after checking its checksum, columns and types."""
    entry = manifest["files"][table]
    path = root / entry["path"]
    if not path.is_file():
        raise StoreError(f"snapshot file {path} is missing")
    actual = _sha256(path)
    if actual != entry["sha256"]:
        raise StoreError(f"checksum mismatch for {path}: manifest {entry['sha256']}, file {actual}")
    try:
        data = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise StoreError(
            f"snapshot file {path} is not a readable Parquet file ({_first_line(exc)})"
        ) from exc
    missing = set(_SCHEMAS[table].names) - set(data.column_names) - _OPTIONAL
    if missing:
        raise StoreError(f"snapshot file {path} lacks columns {sorted(missing)}")
    df = _conform(data, table, path).to_pandas()
    for col in _JSON_COLUMNS & set(df.columns):
        df[col] = _parse_json(df[col], path, col)
    return df


def _load(directory: str | Path) -> tuple[Path, dict[str, Any], dict[str, pd.DataFrame]]:
    """Root, manifest and raw table frames, after checking format, version and checksums."""
    root = Path(directory)
    manifest = _manifest(root)
    return root, manifest, {table: _read_table(root, manifest, table) for table in _SCHEMAS}


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


def _float(value: Any) -> float | None:
    return finite_or_none(_none(value))


def _check_ids(ids: pd.Series, known: pd.Series, path: Path, column: str, other: str) -> None:
    """Refuse ids in ``path``'s ``column`` that the snapshot's ``other`` file lacks."""
    unknown = sorted(set(ids.tolist()) - set(known.tolist()))
    if unknown:
        shown = ", ".join(map(str, unknown[:5])) + (", ..." if len(unknown) > 5 else "")
        raise StoreError(f"snapshot file {path}: {column} {shown} not found in {other}")


def _import_rows(
    root: Path, manifest: dict[str, Any], raw: dict[str, pd.DataFrame]
) -> dict[str, Any]:
    """The rows to insert, keyed by the snapshot's own ids; checked before any write."""
    from autometa.store import _ops

    path = {table: root / manifest["files"][table]["path"] for table in _SCHEMAS}
    tasks, mf, cfg, ev = (raw[t] for t in _SCHEMAS)  # tasks, metafeatures, configs, evals
    for table, frame, key in (("tasks", tasks, "task_id"), ("configurations", cfg, "config_id")):
        duplicated = frame[key][frame[key].duplicated()]
        if len(duplicated):
            raise StoreError(
                f"snapshot file {path[table]}: {key} {int(duplicated.iloc[0])} appears twice"
            )
    for table, column, other in (
        ("metafeatures", "task_id", "tasks"),
        ("evaluations", "task_id", "tasks"),
        ("evaluations", "config_id", "configurations"),
    ):
        _check_ids(raw[table][column], raw[other][column], path[table], column, path[other].name)
    bad = ev["status"][~ev["status"].isin(STATUSES)]
    if len(bad):
        raise StoreError(
            f"snapshot file {path['evaluations']}: status {bad.iloc[0]!r} is not one of {STATUSES}"
        )
    try:
        task_rows = [
            (int(r["task_id"]), TaskRecord(**{k: _none(r[k]) for k in _frames.TASK_COLUMNS}))
            for r in tasks.to_dict("records")
        ]
    except StoreError as exc:
        raise StoreError(f"snapshot file {path['tasks']}: {exc}") from exc
    try:
        config_rows = [
            _ops.configuration_row(r["family"], r["params"], r["space_version"], r["config_hash"])
            for r in cfg.to_dict("records")
        ]
    except StoreError as exc:
        raise StoreError(f"snapshot file {path['configurations']}: {exc}") from exc
    mf_rows = [
        {"task_id": int(r["task_id"]), "name": r["name"], "value": _float(r["value"])}
        for r in mf.to_dict("records")
    ]
    eval_rows = []
    for r in ev.to_dict("records"):
        created = _none(r.get("created_at"))
        eval_rows.append(
            {
                "task_id": int(r["task_id"]),
                "config_id": int(r["config_id"]),
                "fold": int(r["fold"]),
                "metric": r["metric"],
                "value": _float(r["value"]),
                "fit_seconds": _float(r["fit_seconds"]),
                "status": r["status"],
                "message": _none(r.get("message")),
                "source": r["source"],
                "created_at": None if created is None else pd.Timestamp(created).to_pydatetime(),
            }
        )
    return {
        "tasks": task_rows,
        "config_ids": [int(i) for i in cfg["config_id"]],
        "configurations": config_rows,
        "metafeatures": mf_rows,
        "evaluations": eval_rows,
    }


def import_snapshot(directory: str | Path, store: Store) -> dict[str, int]:
    """Add a snapshot's rows to ``store`` (one transaction, ids remapped, known keys skipped).

    Every file is checked (checksum, Parquet, column types, ids) before anything is
    written. Returns the number of rows inserted per table; importing twice inserts nothing.
    """
    from autometa.store import _ops

    root, manifest, raw = _load(directory)
    rows = _import_rows(root, manifest, raw)

    def load(conn: Connection) -> dict[str, int]:
        counts = dict.fromkeys(_SCHEMAS, 0)
        task_ids: dict[int, int] = {}
        for old_id, task in rows["tasks"]:
            task_ids[old_id], created = _ops.insert_task(conn, task)
            counts["tasks"] += created
        by_hash, counts["configurations"] = _ops.insert_configurations(conn, rows["configurations"])
        config_ids = {
            old: by_hash[r["config_hash"]]
            for old, r in zip(rows["config_ids"], rows["configurations"], strict=True)
        }
        mf = [{**r, "task_id": task_ids[r["task_id"]]} for r in rows["metafeatures"]]
        counts["metafeatures"] = _ops.insert_metafeature_rows(conn, mf, overwrite=False)
        evals = [
            {**r, "task_id": task_ids[r["task_id"]], "config_id": config_ids[r["config_id"]]}
            for r in rows["evaluations"]
        ]
        counts["evaluations"] = _ops.insert_evaluation_rows(conn, evals)
        return counts

    return store._write(load, "import_snapshot")
