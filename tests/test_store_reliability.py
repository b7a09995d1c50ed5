"""Store reliability: a silent PostgreSQL server, read-only commands on files that are not
stores, and a data file that changes under its name (real sockets, SQLite, PostgreSQL)."""

from __future__ import annotations

import hashlib
import socket
import sqlite3
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from autometa.cli import cli
from autometa.exceptions import HarvestError, StoreError
from autometa.harvest.corpus import CorpusEntry
from autometa.harvest.local import Unit, run_unit
from autometa.store import TaskRecord, _connect, open_store
from autometa.store.testing import PostgresServer

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def one_line_error(result: Result, *fragments: str) -> str:
    """The single ``Error:`` line of a command that exited 2."""
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


# -- 1. a server that accepts and never answers --------------------------------------------
@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never sends a byte; yields
    its port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)  # the accept loop checks ``stop`` this often
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        for conn in held:
            conn.close()


@pytest.mark.timeout(60)
def test_a_silent_postgresql_server_is_a_store_error_naming_it() -> None:
    with silent_server() as port:
        start = time.monotonic()
        with pytest.raises(StoreError) as err:
            open_store(f"postgresql+psycopg://u:p@127.0.0.1:{port}/db?connect_timeout=2")
        assert time.monotonic() - start < 8
    message = str(err.value)
    assert f"127.0.0.1:{port} did not answer within 2 s (connect_timeout)" in message
    assert "p@" not in message and len(message.splitlines()) == 1  # password masked


@pytest.mark.timeout(60)
def test_the_default_connect_timeout_applies_without_url_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_connect, "PG_CONNECT_TIMEOUT_S", 2)  # the default, lowered
    with silent_server() as port:
        start = time.monotonic()
        with pytest.raises(StoreError, match=f"127.0.0.1:{port} did not answer within 2 s"):
            open_store(f"postgresql://u:p@127.0.0.1:{port}/db")
        assert time.monotonic() - start < 8


@pytest.mark.timeout(60)
def test_store_info_against_a_silent_server_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_connect, "PG_CONNECT_TIMEOUT_S", 2)
    with silent_server() as port:
        url = f"postgresql+psycopg://u:p@127.0.0.1:{port}/db"
        one_line_error(
            invoke("store", "info", "--store", url), f"127.0.0.1:{port} did not answer within 2 s"
        )


def _show(store: object, setting: str) -> str:
    with store._engine.connect() as conn:  # type: ignore[attr-defined]
        return str(conn.exec_driver_sql(f"SHOW {setting}").scalar())


def test_postgresql_sessions_get_timeouts_the_url_can_override(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.create_database()
    with open_store(url) as store:
        assert _show(store, "statement_timeout") == "5min"
        assert _show(store, "default_transaction_read_only") == "off"
    with open_store(f"{url}?options=-c%20statement_timeout%3D1234") as store:
        assert _show(store, "statement_timeout") == "1234ms"
    with open_store(url, read_only=True) as store:
        assert _show(store, "default_transaction_read_only") == "on"
        assert store.info()["tasks"]["total"] == 0
        with pytest.raises(StoreError, match="opened read-only"):
            store.add_task(TaskRecord("a", "keel", "fp-a", "binary", "y", 10, 2))


def test_a_statement_past_its_timeout_names_the_server(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database()
    open_store(url).close()
    blocker = sa.create_engine(url)
    with blocker.connect() as holder:
        holder.exec_driver_sql("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")  # held open
        store = open_store(f"{url}?options=-c%20statement_timeout%3D300")
        with store, pytest.raises(StoreError) as err:
            store.tasks_frame()
        holder.rollback()
    blocker.dispose()
    assert f"127.0.0.1:{postgres_server.port} ran past its statement_timeout" in str(err.value)


def test_a_missing_driver_names_the_pip_extra_that_installs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    with pytest.raises(StoreError) as err:
        open_store("postgresql+psycopg://u@127.0.0.1:1/db")
    extra = str(err.value).split("pip install 'autometa[", 1)[1].split("]")[0]
    assert any(d.startswith("psycopg[") for d in extras[extra]), (extra, extras)
    try:
        import psycopg2  # noqa: F401
    except ImportError:  # psycopg2 is no extra of autometa: the hint names its own package
        with pytest.raises(StoreError, match="pip install psycopg2-binary"):
            open_store("postgresql+psycopg2://u@127.0.0.1:1/db")


# -- 7. read-only commands on files that are not stores -------------------------------------
def _fingerprint(path: Path) -> tuple[str, list[str]]:
    """The file's sha256 and the names of the files beside it (a -wal/-shm appearing)."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), sorted(
        p.name for p in path.parent.iterdir()
    )


def _foreign(folder: Path) -> Path:
    path = folder / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.execute("INSERT INTO people VALUES ('ada')")
    conn.commit()
    conn.close()
    return path


def _empty(folder: Path) -> Path:
    path = folder / "empty.db"
    path.touch()
    return path


@pytest.mark.parametrize("make", [_foreign, _empty], ids=["foreign", "zero-bytes"])
def test_read_only_commands_leave_a_file_that_is_no_store_untouched(
    tmp_path: Path, make: object
) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    path = make(folder)  # type: ignore[operator]
    data = tmp_path / "data.csv"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    frame.assign(y=(frame["a"] > 0).astype(int)).to_csv(data, index=False)
    before = _fingerprint(path)
    for args in (
        ("store", "info", "--store", str(path)),
        ("store", "verify", "--store", str(path)),
        ("store", "export", str(tmp_path / "snap"), "--store", str(path)),
        ("recommend", str(data), "--target", "y", "--store", str(path)),
    ):
        one_line_error(invoke(*args), f"{path} is not an autometa store")
        assert _fingerprint(path) == before, args
    with pytest.raises(StoreError, match="is not an autometa store"):
        open_store(path, read_only=True)
    if make is _foreign:  # a writer refuses it too, before switching it to WAL
        with pytest.raises(StoreError, match=r"holds other tables: people"):
            open_store(path)
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        conn.close()
    assert _fingerprint(path) == before
    assert not (tmp_path / "snap").exists()


def test_a_read_only_store_reads_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with open_store(path) as store:
        store.add_task(TaskRecord("a", "keel", "fp-a", "binary", "y", 10, 2))
    before = _fingerprint(path)
    with open_store(path, read_only=True) as store:
        assert store.info()["tasks"]["total"] == 1
        with pytest.raises(StoreError, match="opened read-only"):
            store.add_task(TaskRecord("b", "keel", "fp-b", "binary", "y", 10, 2))
    assert _fingerprint(path) == before
    (tmp_path / "notes.db").write_text("not a database at all\n")
    with pytest.raises(StoreError, match=r"notes\.db is not an autometa store \(not a SQLite"):
        open_store(tmp_path / "notes.db")


def test_read_only_open_of_an_empty_postgresql_database_creates_nothing(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.create_database()
    with pytest.raises(StoreError, match="is not an autometa store"):
        open_store(url, read_only=True)
    engine = sa.create_engine(url)
    assert sa.inspect(engine).get_table_names() == []
    engine.dispose()


# -- 6. a data file that changes under its name ---------------------------------------------
def _csv(path: Path, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, 3)), columns=["a", "b", "c"])
    frame.assign(y=(frame["a"] + rng.normal(size=rows) > 0).astype(int)).to_csv(path, index=False)


def _evaluations(url: str) -> pd.DataFrame:
    with open_store(url) as store:
        return store.evaluations_frame(status=None)


def test_a_changed_data_file_is_refused_not_mixed_into_its_old_task(tmp_path: Path) -> None:
    data, url = tmp_path / "data.csv", f"sqlite:///{tmp_path / 'store.db'}"
    args = ("harvest", "local", str(data), "--target", "y", "--store", url, "--quiet")
    args += ("--families", "lightgbm=2", "--folds", "2")
    _csv(data, 60, seed=0)
    assert invoke(*args).exit_code == 0
    with open_store(url) as store:
        (old,) = store.tasks_frame()["fingerprint"]
    before = _evaluations(url)
    _csv(data, 50, seed=1)  # new rows under the same file name
    line = one_line_error(invoke(*args), str(data), old)
    with open_store(url) as store:
        tasks = store.tasks_frame()
    assert list(tasks["fingerprint"]) == [old]
    new = line.split(f"{old} in the store, ", 1)[1].split(" now", 1)[0]
    assert len(new) == len(old) and new != old
    pd.testing.assert_frame_equal(_evaluations(url), before)  # nothing new, nothing mixed


def test_a_worker_refuses_a_file_that_changed_after_it_was_registered(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    _csv(data, 40, seed=0)
    entry = CorpusEntry(name="data", path=str(data), target="y")
    unit = Unit(1, 1, entry, "binary", "linear", {}, 2, 0, None, 0, "fingerprint-at-register")
    with pytest.raises(HarvestError, match="changed during the harvest"):
        run_unit(unit)


def test_an_import_refuses_a_task_whose_name_holds_other_data(tmp_path: Path) -> None:
    from autometa.store import export_snapshot, import_snapshot

    with open_store(tmp_path / "a.db") as source:
        source.add_task(TaskRecord("iris", "local", "fp-new", "binary", "y", 10, 2))
        export_snapshot(source, tmp_path / "snap")
    with open_store(tmp_path / "b.db") as target:
        target.add_task(TaskRecord("iris", "local", "fp-old", "binary", "y", 12, 2))
        with pytest.raises(StoreError, match=r"fingerprint fp-old, but this data has .* fp-new"):
            import_snapshot(tmp_path / "snap", target)
        assert list(target.tasks_frame()["fingerprint"]) == ["fp-old"]
