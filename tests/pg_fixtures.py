"""Session fixtures for the PostGIS backend: a real PostgreSQL + PostGIS server on loopback.

The server is the one ``MAPAPP_TEST_POSTGRES`` names (an admin URL, as
``make test`` passes it after ``scripts/postgis-test-server start``), else one
that script starts (installing Debian's packages first when run as root).
Each test gets a database of its own, cloned from a template that already
has the PostGIS extension, and dropped afterwards.

Without a server the PostGIS cases skip with the reason, except under CI
(CI=true), where they fail: CI must run both backends.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVER_SCRIPT = ROOT / "scripts" / "postgis-test-server"
# one per test session: parallel sessions on one server must not drop each other's template
TEMPLATE = f"mapapp_test_template_{os.getpid()}"


def _admin_url() -> tuple[str | None, str]:
    """(admin URL, '') of a running server, or (None, why there is none)."""
    configured = os.environ.get("MAPAPP_TEST_POSTGRES", "").strip()
    if configured:
        return configured, ""
    try:
        done = subprocess.run(
            ["bash", str(SERVER_SCRIPT), "start"], capture_output=True, text=True, timeout=600
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, f"{SERVER_SCRIPT.name} could not run ({err})"
    if done.returncode != 0 or not done.stdout.strip():
        return None, (done.stderr.strip().splitlines() or ["no URL printed"])[-1]
    return done.stdout.strip().splitlines()[-1], ""


class PostgresServer:
    """A PostgreSQL + PostGIS server we may create and drop databases on."""

    def __init__(self, admin_url: str) -> None:
        import sqlalchemy

        self.admin_url = sqlalchemy.engine.make_url(admin_url).set(drivername="postgresql+psycopg")
        self.engine = sqlalchemy.create_engine(
            self.admin_url, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.pool.NullPool
        )

    def url(self, database: str) -> str:
        """A ``postgresql://`` URL of ``database`` on this server, password included."""
        return self.admin_url.set(drivername="postgresql", database=database).render_as_string(
            hide_password=False
        )

    def sql(self, statement: str) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql(statement)

    def make_template(self) -> None:
        """A template database with PostGIS installed (what an administrator does once)."""
        import sqlalchemy

        self.sql(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        self.sql(f'CREATE DATABASE "{TEMPLATE}"')
        engine = sqlalchemy.create_engine(
            self.admin_url.set(database=TEMPLATE),
            isolation_level="AUTOCOMMIT",
            poolclass=sqlalchemy.pool.NullPool,
        )
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE EXTENSION postgis")

    def create_database(self) -> str:
        """A fresh, empty database with PostGIS; returns its name."""
        name = f"mapapp_test_{uuid.uuid4().hex[:12]}"
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        return name

    def drop_database(self, name: str) -> None:
        from mapapp.stores.postgis_db import dispose_engines

        dispose_engines()
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL + PostGIS server (skips without one; fails under CI)."""
    url, why = _admin_url()
    problem = None if url else f"no PostgreSQL + PostGIS server: {why}"
    server = None
    if url:
        try:
            server = PostgresServer(url)
            server.make_template()
        except Exception as err:  # noqa: BLE001 - any failure to reach it is a reason to skip
            problem = f"the PostgreSQL server at {url.split('@')[-1]} is not usable: {err}"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{problem}: CI must run the PostGIS store tests", pytrace=False)
        pytest.skip(
            f"{problem} (run 'scripts/postgis-test-server start' as root, or set "
            "MAPAPP_TEST_POSTGRES to an admin URL)"
        )
    yield server
    server.drop_database(TEMPLATE)


@pytest.fixture
def postgis_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh database of this test's own, dropped afterwards."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)
