"""The PostGIS store's editors: the ``editors`` table of migration ``0005_editors``.

One list for the whole team on the database; each change is one transaction
(and bumps the store's change counter like every write).
"""

from __future__ import annotations

from typing import Any

from mapapp.errors import StoreError
from mapapp.stores.editors import check_name, now


class PostgisEditors:
    """Editor methods of `PostgisStore` (which supplies ``_reading`` and ``_writing``)."""

    def editors(self) -> list[dict[str, Any]]:
        """Every editor as {"name", "created"}, by name (never their hashes)."""
        with self._reading() as conn:  # type: ignore[attr-defined]
            if conn is None:
                return []
            rows = conn.exec_driver_sql("SELECT name, created FROM editors ORDER BY name")
            return [{"name": name, "created": created} for name, created in rows]

    def editor_hash(self, name: str) -> str | None:
        """The stored password hash of editor ``name``, or None if there is no such editor."""
        from sqlalchemy import text

        if "\x00" in name:
            return None
        with self._reading() as conn:  # type: ignore[attr-defined]
            if conn is None:
                return None
            return conn.execute(
                text("SELECT password_hash FROM editors WHERE name = :name"), {"name": name}
            ).scalar()

    def add_editor(self, name: str, password_hash: str, *, replace: bool = False) -> None:
        """Store an editor (``replace`` swaps the hash of an existing one), in one transaction."""
        from sqlalchemy import text

        conflict = (
            "DO UPDATE SET password_hash = EXCLUDED.password_hash" if replace else "DO NOTHING"
        )
        with self._writing() as conn:  # type: ignore[attr-defined]
            added = conn.execute(
                text(
                    "INSERT INTO editors (name, password_hash, created) "
                    f"VALUES (:name, :hash, :created) ON CONFLICT (name) {conflict}"
                ),
                {"name": check_name(name), "hash": password_hash, "created": now()},
            ).rowcount
            if not added:
                raise StoreError(
                    f"{name!r} is already an editor: remove them first, or replace the password"
                )

    def remove_editor(self, name: str) -> bool:
        """Remove editor ``name``; False if there was none."""
        from sqlalchemy import text

        if "\x00" in name:
            return False
        with self._writing() as conn:  # type: ignore[attr-defined]
            return (
                conn.execute(
                    text("DELETE FROM editors WHERE name = :name"), {"name": name}
                ).rowcount
                > 0
            )
