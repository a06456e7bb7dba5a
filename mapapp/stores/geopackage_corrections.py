"""The GeoPackage store's corrections: a plain attribute table in the same file.

``corrections`` is registered in ``gpkg_contents`` as an ``attributes``
table (GDAL and QGIS list it), and written in ``BEGIN IMMEDIATE``
transactions like every batch, so a correction lands whole or not at all and
two writers queue instead of interleaving.  A store made before it existed
gets the table (and the mentions' ``candidates`` column) from `migrate`, run
by every writer and by ``mapapp store upgrade``; readers of such a store see
no corrections and NULL candidates, and nothing is lost.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mapapp.errors import NotFoundError, StoreError
from mapapp.stores.corrections import typed_corrections
from mapapp.stores.schema import ADDED_MENTION_COLUMNS, CORRECTION_COLUMNS

BUSY_TIMEOUT = 30.0  # seconds a writer waits for another writer
_SQL_TYPES = {"Int64": "INTEGER", "float64": "REAL", "str": "TEXT", "bool": "INTEGER"}
_COLUMNS = ", ".join(f'"{name}"' for name in CORRECTION_COLUMNS)


def _table_sql() -> str:
    """CREATE TABLE for the corrections (``id`` the GeoPackage's integer primary key)."""
    columns = ['"id" INTEGER PRIMARY KEY AUTOINCREMENT']
    columns += [
        f'"{name}" {_SQL_TYPES[dtype]}'
        for name, dtype in CORRECTION_COLUMNS.items()
        if name != "id"
    ]
    return f'CREATE TABLE IF NOT EXISTS "corrections" ({", ".join(columns)})'


def _has_table(conn: sqlite3.Connection, table: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        is not None
    )


def missing_columns(conn: sqlite3.Connection) -> set[str]:
    """The mention columns added since the first schema that this file lacks."""
    have = {row[1] for row in conn.execute('PRAGMA table_info("mentions")')}
    return {name for name in ADDED_MENTION_COLUMNS if name not in have}


def migrate(conn: sqlite3.Connection) -> bool:
    """Add what a store made by an older mapapp lacks, in one transaction; True if it did."""
    lacking = missing_columns(conn)
    if not lacking and _has_table(conn, "corrections"):
        return False
    conn.execute("BEGIN IMMEDIATE")
    try:
        for name in sorted(missing_columns(conn)):  # again: another writer may have done it
            conn.execute(f'ALTER TABLE "mentions" ADD COLUMN "{name}" TEXT')
        if not _has_table(conn, "corrections"):
            conn.execute(_table_sql())
            conn.execute(
                'CREATE INDEX IF NOT EXISTS "corrections_article_id" '
                'ON "corrections" ("article_id")'
            )
            conn.execute(
                "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                "description, last_change) VALUES ('corrections', 'attributes', 'corrections', "
                "'editors'' corrections of mentions (mapapp)', "
                "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return True


def correction_rows(conn: sqlite3.Connection | None) -> list[dict[str, Any]]:
    """Every correction in the file, oldest first ([] without the table)."""
    if conn is None or not _has_table(conn, "corrections"):
        return []
    rows = conn.execute(f'SELECT {_COLUMNS} FROM "corrections" ORDER BY "id"').fetchall()
    return typed_corrections(dict(zip(CORRECTION_COLUMNS, row, strict=True)) for row in rows)


class _Transaction:
    """One ``BEGIN IMMEDIATE`` transaction on the corrections table."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def rows(self) -> list[dict[str, Any]]:
        return correction_rows(self.conn)

    def insert(self, row: dict[str, Any]) -> int:
        names = [name for name in CORRECTION_COLUMNS if name != "id"]
        values = [int(row[n]) if n == "undone" else row.get(n) for n in names]
        cursor = self.conn.execute(
            f'INSERT INTO "corrections" ({", ".join(f"{chr(34)}{n}{chr(34)}" for n in names)}) '
            f"VALUES ({', '.join('?' for _ in names)})",
            values,
        )
        return int(cursor.lastrowid)

    def mark_undone(self, correction_id: int, when: str) -> None:
        self.conn.execute(
            'UPDATE "corrections" SET "undone" = 1, "undone_at" = ? WHERE "id" = ?',
            (when, correction_id),
        )


class GeoPackageCorrections:
    """``_correction_rows``, ``_correcting`` and ``upgrade`` of `GeoPackageStore`."""

    path: Path

    def _fail(self, err: BaseException, doing: str) -> StoreError:
        raise NotImplementedError

    def _check(self, conn: sqlite3.Connection) -> None:
        raise NotImplementedError

    def _reading(self) -> Any:
        raise NotImplementedError

    def _correction_rows(self) -> list[dict[str, Any]]:
        """Every stored correction, oldest first."""
        with self._reading() as conn:
            return correction_rows(conn)

    def upgrade(self) -> None:
        """Give a store made by an older mapapp the corrections table (a file store has no
        schema revisions: returns None)."""
        if not self.path.exists():
            return
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            self._check(conn)
            migrate(conn)
        except sqlite3.Error as err:
            raise self._fail(err, "upgrade") from err
        finally:
            conn.close()

    @contextmanager
    def _correcting(self) -> Iterator[_Transaction]:
        """One write transaction on the corrections; all or nothing."""
        if not self.path.exists():
            raise NotFoundError(f"{self.path}: no store here, so nothing to correct")
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            self._check(conn)
            migrate(conn)
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield _Transaction(conn)
                conn.execute(
                    "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
                    " WHERE table_name = 'corrections'"
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as err:
            raise self._fail(err, "correct") from err
        finally:
            conn.close()
