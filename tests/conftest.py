"""Shared fixtures: a throw-away PostgreSQL server and a store per backend."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from autometa.store import Store, open_store
from autometa.store.testing import PostgresServer, find_pg_bin, temporary_postgresql

# Each of the two test workers gets one core: estimators built with the library's default
# n_jobs (every core, as recommendations leave it) would otherwise oversubscribe the
# machine. Set before LightGBM starts its OpenMP threads.
os.environ.setdefault("OMP_NUM_THREADS", "1")

STORE_BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster in a temp dir on a free loopback port, for the whole session.

    Skipped when the server binaries are missing, unless AUTOMETA_REQUIRE_POSTGRES=1 or CI
    is set (CI installs PostgreSQL through scripts/install.sh, so a skip there is a failure).
    """
    if find_pg_bin() is None:
        reason = (
            "PostgreSQL server binaries (initdb/pg_ctl) not found; "
            "install them with `apt-get install -y postgresql`"
        )
        if os.environ.get("AUTOMETA_REQUIRE_POSTGRES") == "1" or os.environ.get("CI"):
            pytest.fail(
                f"PostgreSQL is required here (CI / AUTOMETA_REQUIRE_POSTGRES) but {reason}"
            )
        pytest.skip(reason)
    with temporary_postgresql() as server:
        yield server


@pytest.fixture(params=STORE_BACKENDS)
def store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """URL of a fresh, empty store on each backend (a new SQLite file / a new database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database()
    yield url
    server.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An opened store on each backend (Optuna's habit: the same tests run on every one)."""
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fitted meta-models are cached under XDG_CACHE_HOME: keep the tests' out of the user's."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous
