"""Import a snapshot into a store: every file checked before one transaction writes it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from autometa.exceptions import StoreError
from autometa.store import _frames
from autometa.store._parquet import SCHEMAS, load_tables
from autometa.store._validate import check_tasks, refuse_duplicates
from autometa.store.records import EVALUATION_KEY, STATUSES, TaskRecord, finite_or_none

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from autometa.store.sql import Store


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


def _check_tables(path: dict[str, Path], raw: dict[str, pd.DataFrame]) -> None:
    """Refuse duplicated ids and keys, ids another file lacks, and unknown statuses."""
    for table, key in (("tasks", "task_id"), ("configurations", "config_id")):
        frame = raw[table]
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
    status = raw["evaluations"]["status"]
    bad = status[~status.isin(STATUSES)]
    if len(bad):
        raise StoreError(
            f"snapshot file {path['evaluations']}: status {bad.iloc[0]!r} is not one of {STATUSES}"
        )
    check_tasks(raw["tasks"], path["tasks"])
    merged = "rows the store keeps once, so all but one would be dropped silently"
    for table, key in (
        ("configurations", ["config_hash"]),
        ("metafeatures", ["task_id", "name"]),
        ("evaluations", list(EVALUATION_KEY)),
    ):
        refuse_duplicates(raw[table], key, path[table], merged)


def _evaluation_row(r: dict[str, Any]) -> dict[str, Any]:
    """One evaluations-file record as a row to insert (NaN as None)."""
    created = _none(r.get("created_at"))
    return {
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


def _config_rows(cfg: pd.DataFrame, path: Path) -> list[dict[str, Any]]:
    """Configuration rows to insert; refuses params that differ from the snapshot's own
    ``params_checksum`` (damaged after export)."""
    from autometa.store import _ops

    try:
        rows = [
            _ops.configuration_row(r["family"], r["params"], r["space_version"], r["config_hash"])
            for r in cfg.to_dict("records")
        ]
    except StoreError as exc:
        raise StoreError(f"snapshot file {path}: {exc}") from exc
    if "params_checksum" in cfg:
        bad = [
            int(i)
            for i, row, given in zip(cfg["config_id"], rows, cfg["params_checksum"], strict=True)
            if row["params_checksum"] != given
        ]
        if bad:
            raise StoreError(
                f"snapshot file {path}: the params of {len(bad)} configurations differ from "
                f"their params_checksum (the file is damaged), e.g. config_id "
                f"{', '.join(map(str, bad[:3]))}"
            )
    return rows


def _import_rows(
    root: Path, manifest: dict[str, Any], raw: dict[str, pd.DataFrame]
) -> dict[str, Any]:
    """The rows to insert, keyed by the snapshot's own ids; checked before any write."""

    path = {table: root / manifest["files"][table]["path"] for table in SCHEMAS}
    _check_tables(path, raw)
    tasks, mf, cfg, ev = (raw[t] for t in SCHEMAS)  # tasks, metafeatures, configs, evals
    try:
        task_rows = [
            (int(r["task_id"]), TaskRecord(**{k: _none(r[k]) for k in _frames.TASK_COLUMNS}))
            for r in tasks.to_dict("records")
        ]
    except StoreError as exc:
        raise StoreError(f"snapshot file {path['tasks']}: {exc}") from exc
    config_rows = _config_rows(cfg, path["configurations"])
    mf_rows = [
        {"task_id": int(r["task_id"]), "name": r["name"], "value": _float(r["value"])}
        for r in mf.to_dict("records")
    ]
    return {
        "tasks": task_rows,
        "config_ids": [int(i) for i in cfg["config_id"]],
        "configurations": config_rows,
        "metafeatures": mf_rows,
        "evaluations": [_evaluation_row(r) for r in ev.to_dict("records")],
    }


def import_snapshot(directory: str | Path, store: Store) -> dict[str, int]:
    """Add a snapshot's rows to ``store`` (one transaction, ids remapped, known keys skipped).

    Every file is checked (checksum, Parquet, column types, ids, keys that would merge,
    possible values) before anything is written; a task or configuration the store holds
    with other content is refused and the transaction rolled back. Returns the number of
    rows inserted per table; importing twice inserts nothing.
    """
    from autometa.store import _ops

    root, manifest, raw = load_tables(directory)
    rows = _import_rows(root, manifest, raw)

    def load(conn: Connection) -> dict[str, int]:
        counts = dict.fromkeys(SCHEMAS, 0)
        task_ids: dict[int, int] = {}
        for old_id, task in rows["tasks"]:
            try:
                task_ids[old_id], created = _ops.insert_task(conn, task)
            except StoreError as exc:  # the store holds other data under its name
                raise StoreError(f"snapshot task_id {old_id}: {exc}") from exc
            counts["tasks"] += created
        by_hash, counts["configurations"] = _ops.insert_configurations(conn, rows["configurations"])
        _ops.refuse_other_configurations(conn, rows["configurations"])
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
