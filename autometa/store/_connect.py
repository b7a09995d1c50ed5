"""Opening a store safely: PostgreSQL timeouts and driver hints, read-only sessions, and
what a SQLite file holds before autometa touches it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from autometa.exceptions import StoreError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

#: Seconds to wait for a PostgreSQL server to accept a session (``?connect_timeout=`` wins).
PG_CONNECT_TIMEOUT_S = 10
#: Longest a PostgreSQL statement (or lock wait) may run, in ms (``options=-c
#: statement_timeout=...`` in the URL wins).
PG_STATEMENT_TIMEOUT_MS = 300_000
#: TCP keepalives: a server that vanishes mid-session is noticed in about a minute.
PG_KEEPALIVES: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}
_SQLITE_HEADER = b"SQLite format 3\x00"
# driver module -> what installs it
_DRIVER_HINTS = {
    "psycopg": "pip install 'autometa[postgres]'",
    "psycopg2": "pip install psycopg2-binary, or use postgresql+psycopg:// with "
    "pip install 'autometa[postgres]'",
}


def _query_text(value: str | tuple[str, ...] | None) -> str:
    """A URL query value as one string (a repeated key joined by spaces)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else " ".join(value)


def pg_connect_args(url: URL, *, read_only: bool) -> dict[str, Any]:
    """libpq parameters autometa adds unless the URL's query sets them: connect_timeout,
    TCP keepalives and ``-c statement_timeout`` (appended to ``options``); a read-only
    session also gets ``-c default_transaction_read_only=on``."""
    query = url.query
    args: dict[str, Any] = {k: v for k, v in PG_KEEPALIVES.items() if k not in query}
    if "connect_timeout" not in query:
        args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    options = _query_text(query.get("options"))
    extra = []
    if "statement_timeout" not in options:
        extra.append(f"-c statement_timeout={PG_STATEMENT_TIMEOUT_MS}")
    if read_only:
        extra.append("-c default_transaction_read_only=on")
    if extra:
        args["options"] = " ".join([options, *extra]).strip()
    return args


def server_address(url: URL) -> str:
    """``host:port`` of a server URL (libpq's defaults when the URL omits them)."""
    host = url.host or _query_text(url.query.get("host")) or "localhost"
    port = url.port or _query_text(url.query.get("port")) or 5432
    return f"{host}:{port}"


def driver_hint(url: URL, exc: ImportError) -> str:
    """What to install when the driver of ``url`` cannot be imported."""
    module = url.drivername.partition("+")[2] or "psycopg"
    hint = _DRIVER_HINTS.get(module, f"pip install {module}")
    reason = exc.msg if isinstance(exc, ModuleNotFoundError) else f"{exc}".splitlines()[0]
    return f"the driver for {url.drivername} cannot be imported ({reason}); run: {hint}"


def describe_timeout(url: URL, exc: BaseException) -> str | None:
    """One line naming the server when ``exc`` is a PostgreSQL connect or statement
    timeout; None for any other error."""
    if url.get_backend_name() != "postgresql":
        return None
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).lower()
    where = server_address(url)
    if type(orig).__name__ == "ConnectionTimeout" or "timeout expired" in text:
        seconds = _query_text(url.query.get("connect_timeout")) or PG_CONNECT_TIMEOUT_S
        return (
            f"the PostgreSQL server {where} did not answer within {seconds} s "
            "(connect_timeout); check that it is up and reachable, or allow more time with "
            "?connect_timeout=SECONDS in the store URL"
        )
    if getattr(orig, "sqlstate", None) == "57014" and "statement timeout" in text:
        return (
            f"a statement on the PostgreSQL server {where} ran past its statement_timeout "
            f"(default {PG_STATEMENT_TIMEOUT_MS} ms); allow more with "
            "?options=-c%20statement_timeout%3DMILLISECONDS in the store URL"
        )
    return None


def sqlite_tables(path: Path) -> set[str] | None:
    """The table names in SQLite file ``path``, read without writing anything (an empty
    file has none); None when it cannot be read at all (the driver then says why).

    Raises StoreError when the file is not a SQLite database."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_HEADER))
    except OSError:
        return None
    # Without a -wal or hot journal the main file is complete: read it as immutable, so
    # not even a -shm file is created beside someone else's database.
    settled = not any(Path(f"{path}{s}").exists() for s in ("-wal", "-journal"))
    if not head and settled:
        return set()
    if head and head != _SQLITE_HEADER:
        raise StoreError(f"{path} is not an autometa store (not a SQLite database)")
    uri = f"file:{quote(str(path))}?mode=ro" + ("&immutable=1" if settled else "")
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30)
    except sqlite3.Error:
        return None
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not an autometa store ({exc})") from exc
    finally:
        conn.close()
    return {str(r[0]) for r in rows}


def check_sqlite_file(path: Path, ours: set[str], *, read_only: bool) -> None:
    """Refuse a SQLite file that is not an autometa store before any connection touches
    it: one holding only other tables, or (``read_only``) an empty one. ``ours``: the
    store's table names. A file that does not exist is left to the caller."""
    if not path.is_file():
        return
    tables = sqlite_tables(path)
    if tables is None or tables & ours:
        return
    if tables:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise StoreError(
            f"{path} is not an autometa store (it holds other tables: {shown}); name a new "
            "file with --store and autometa creates the store there"
        )
    if read_only:
        raise StoreError(
            f"{path} is not an autometa store (an empty database); `autometa harvest` or "
            "`autometa store import` create one"
        )
