"""The PostGIS store's database: one connection pool per URL, and the schema's revisions.

The schema is made and upgraded by the Alembic migrations in
``mapapp/stores/migrations/versions``, recorded in ``mapapp_schema_version``;
`mapapp.stores.postgis.PostgisStore` runs them and reads the revision here.
"""

from __future__ import annotations

import functools
import os
import threading
from pathlib import Path
from typing import Any

from mapapp.errors import StoreError
from mapapp.settings import URL_SCHEMES
from mapapp.settings import describe_store as describe

VERSION_TABLE = "mapapp_schema_version"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x6D61706170700001  # pg_advisory_xact_lock key: one upgrade at a time


def sqlalchemy_url(location: str) -> Any:
    """The SQLAlchemy URL of ``location``, with psycopg (3) as the driver unless one is named."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(location)
    except ArgumentError as err:
        raise StoreError(
            f"{describe(location)} is not a database URL ({err}); "
            "expected postgresql://user@host[:port]/database"
        ) from err
    if url.drivername in URL_SCHEMES:
        url = url.set(drivername="postgresql+psycopg")
    if not url.database:
        raise StoreError(
            f"{describe(location)} names no database; "
            "expected postgresql://user@host[:port]/database"
        )
    return url


_ENGINES: dict[str, Any] = {}  # one engine (and connection pool) per URL and process
_ENGINES_LOCK = threading.Lock()


def engine_for(location: str) -> Any:
    """The process's SQLAlchemy engine for ``location``, made on first use."""
    with _ENGINES_LOCK:
        engine = _ENGINES.get(location)
        if engine is None:
            import sqlalchemy

            engine = sqlalchemy.create_engine(
                sqlalchemy_url(location),
                pool_pre_ping=True,
                pool_size=4,
                max_overflow=8,
                connect_args={"connect_timeout": 10, "application_name": "mapapp"},
            )
            _ENGINES[location] = engine
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (before a database is dropped; at exit)."""
    with _ENGINES_LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


def _forget_engines_in_child() -> None:
    """A forked child must not share its parent's connections: drop them without closing."""
    for engine in _ENGINES.values():
        engine.dispose(close=False)
    _ENGINES.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_engines_in_child)


def alembic_config(connection: Any = None) -> Any:
    """Alembic's configuration for the store's migrations, run on ``connection`` (env.py)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@functools.lru_cache(maxsize=1)
def _scripts() -> Any:
    """The migration scripts (read once per process)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


@functools.lru_cache(maxsize=1)
def _known_revisions() -> frozenset[str]:
    """Every revision the migration scripts name."""
    return frozenset(script.revision for script in _scripts().walk_revisions())


def head_revision() -> str:
    """The schema revision this mapapp reads and writes."""
    return _scripts().get_current_head()


def revision_of(conn: Any) -> str | None:
    """The store's schema revision; None for a database without mapapp's tables.

    :raise StoreError: the database has tables named like ours but no revision.
    """
    from sqlalchemy import text

    if conn.execute(text("SELECT to_regclass(:t)"), {"t": VERSION_TABLE}).scalar() is None:
        if conn.execute(
            text(
                "SELECT to_regclass('articles') IS NOT NULL OR to_regclass('mentions') IS NOT NULL"
            )
        ).scalar():
            raise StoreError(
                "holds tables named articles/mentions that mapapp did not make; "
                "use a database of its own"
            )
        return None
    return conn.execute(text(f'SELECT version_num FROM "{VERSION_TABLE}"')).scalar()


def is_older(revision: str) -> bool:
    """Is ``revision`` one of ours, before the head?  (A revision we do not know is newer.)"""
    if revision not in _known_revisions():
        raise StoreError(
            f"has schema revision {revision!r}, which this mapapp does not know "
            f"(it reads {head_revision()!r}): it was made by a newer mapapp; "
            "upgrade mapapp"
        )
    return revision != head_revision()
