"""The GeoPackage store's editors: an attribute table ``editors`` in the same file.

Made on the first ``add_editor`` (and registered in ``gpkg_contents`` so GDAL
and QGIS list it); every change is one ``BEGIN IMMEDIATE`` transaction, so it
lands whole and queues behind an ingest instead of interleaving with it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from mapapp.errors import StoreError
from mapapp.stores.editors import check_name, now

BUSY_TIMEOUT = 30.0
_TABLE = (
    'CREATE TABLE IF NOT EXISTS "editors" ("name" TEXT PRIMARY KEY NOT NULL, '
    '"password_hash" TEXT NOT NULL, "created" TEXT NOT NULL)'
)
_CONTENTS = (
    "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, "
    "last_change) VALUES ('editors', 'attributes', 'editors', 'who may correct the map "
    "(mapapp)', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
)


def _has_editors(conn: sqlite3.Connection) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'editors'"
        ).fetchone()
        is not None
    )


class GeoPackageEditors:
    """Editor methods of `GeoPackageStore` (which supplies ``path``, ``_reading``, ``_check``)."""

    path: Any

    def editors(self) -> list[dict[str, Any]]:
        """Every editor as {"name", "created"}, by name (never their hashes)."""
        with self._reading() as conn:  # type: ignore[attr-defined]
            if conn is None or not _has_editors(conn):
                return []
            rows = conn.execute('SELECT "name", "created" FROM "editors" ORDER BY "name"')
            return [{"name": name, "created": created} for name, created in rows]

    def editor_hash(self, name: str) -> str | None:
        """The stored password hash of editor ``name``, or None if there is no such editor."""
        with self._reading() as conn:  # type: ignore[attr-defined]
            if conn is None or not _has_editors(conn):
                return None
            row = conn.execute(
                'SELECT "password_hash" FROM "editors" WHERE "name" = ?', (name,)
            ).fetchone()
        return row[0] if row else None

    def _editing(self, statement: str, params: tuple[Any, ...]) -> int:
        """Run one change of the editors table in its own transaction; rows changed."""
        if not self.path.exists():
            self._create()  # type: ignore[attr-defined]
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            self._check(conn)  # type: ignore[attr-defined]
            conn.execute("BEGIN IMMEDIATE")
            try:
                if not _has_editors(conn):
                    conn.execute(_TABLE)
                    conn.execute(_CONTENTS)
                changed = conn.execute(statement, params).rowcount
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.IntegrityError as err:
            raise StoreError(
                f"{params[0]!r} is already an editor: remove them first, or replace the password"
            ) from err
        except sqlite3.Error as err:
            raise self._fail(err, "change the editors of") from err  # type: ignore[attr-defined]
        finally:
            conn.close()
        return changed

    def add_editor(self, name: str, password_hash: str, *, replace: bool = False) -> None:
        """Store an editor (``replace`` swaps the hash of an existing one), in one transaction."""
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        self._editing(
            f'{verb} INTO "editors" ("name", "password_hash", "created") VALUES (?, ?, ?)',
            (check_name(name), password_hash, now()),
        )

    def remove_editor(self, name: str) -> bool:
        """Remove editor ``name``; False if there was none."""
        if not self.path.exists():
            return False
        return self._editing('DELETE FROM "editors" WHERE "name" = ?', (name,)) > 0
