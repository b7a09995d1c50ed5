"""Choosing the store by URL: defaults, plain paths, valid schemes, password masking."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from autometa.exceptions import StoreError

if TYPE_CHECKING:  # SQLAlchemy is imported only when a URL is parsed
    from sqlalchemy.engine import URL

ENV_VAR = "AUTOMETA_STORE"
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
# scheme -> driver actually used (psycopg 3 is the one autometa[postgres] installs).
VALID_SCHEMES: dict[str, str] = {
    "sqlite": "sqlite+pysqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg2": "postgresql+psycopg2",
    "postgres": "postgresql+psycopg",
}


def user_data_dir() -> Path:
    """The per-user data directory (XDG_DATA_HOME on Linux) holding ``autometa/``."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "autometa"


def default_store_url() -> str:
    """``$AUTOMETA_STORE`` if set, else ``sqlite:///<user data dir>/autometa/store.db``."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env
    directory = user_data_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the default store directory {directory}: {exc}") from exc
    return f"sqlite:///{directory / 'store.db'}"


def resolve_url(url: str | os.PathLike[str] | None) -> URL:
    """Parse ``url`` (``None`` -> default, plain ``*.db`` path -> SQLite) to a driver URL."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    text = default_store_url() if url is None else str(url).strip()
    if "://" not in text:
        path = Path(text).expanduser()
        if path.suffix.lower() not in SQLITE_SUFFIXES:
            raise StoreError(
                f"{text!r} is neither a store URL nor a SQLite file path ending in "
                f"{', '.join(SQLITE_SUFFIXES)}; valid URL schemes: {', '.join(VALID_SCHEMES)}"
            )
        text = f"sqlite:///{path.resolve()}"
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        raise StoreError(f"malformed store URL {mask_url(text)!r}: {exc}") from exc
    scheme = parsed.drivername
    if scheme not in VALID_SCHEMES:
        raise StoreError(
            f"unknown store URL scheme {scheme!r}; valid schemes: {', '.join(VALID_SCHEMES)} "
            "(e.g. sqlite:///path/store.db or postgresql+psycopg://user:pw@host/db)"
        )
    parsed = parsed.set(drivername=VALID_SCHEMES[scheme])
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        parsed = parsed.set(database=str(Path(parsed.database).expanduser().resolve()))
    return parsed


def is_memory(url: URL) -> bool:
    """True for an in-memory SQLite URL (``sqlite://`` or ``sqlite:///:memory:``)."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def sqlite_file(url: URL) -> Path | None:
    """The file a file-backed SQLite ``url`` names; None for in-memory SQLite and servers."""
    if url.get_backend_name() != "sqlite" or is_memory(url):
        return None
    return Path(url.database or "")


def require_existing(url: URL, *, given: bool = True) -> None:
    """Raise StoreError when ``url`` names a SQLite file that does not exist (read-only use);
    ``given``: the user named it (else it is the default user store)."""
    path = sqlite_file(url)
    if path is None or path.exists():
        return
    if not given:
        raise StoreError(
            f"There is no user store yet ({path}): `autometa harvest` or `autometa store "
            "import` create it; pass --store URL to use another store"
        )
    raise StoreError(
        f"Store file {path} does not exist; check the URL (commands that write, e.g. "
        "`autometa harvest`, create it)"
    )


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***`` (safe to print or log)."""
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except ArgumentError:
        return "<unparsable URL>"
    return parsed.render_as_string(hide_password=True)


__all__ = [
    "ENV_VAR",
    "VALID_SCHEMES",
    "default_store_url",
    "is_memory",
    "mask_url",
    "require_existing",
    "resolve_url",
    "sqlite_file",
    "user_data_dir",
]
