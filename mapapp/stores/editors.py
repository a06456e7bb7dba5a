"""Editors: the people who may correct the map from beyond the server's own machine.

Each store keeps them beside its articles (an ``editors`` table: an attribute
table of the GeoPackage, a table made by migration ``0005_editors`` on
PostGIS), so a team on one PostGIS database shares one list.  Only a salted
password hash is kept (made by the web layer with ``werkzeug.security``);
this module checks names and hands out the store's editor methods.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Protocol

from mapapp.errors import StoreError

MIN_PASSWORD = 8
NAME = re.compile(r"^[\w.@-]{1,64}$")  # letters, digits, _ . @ - (an e-mail address fits)
EDITOR_COLUMNS = ("name", "password_hash", "created")


class EditorStore(Protocol):
    """The editor methods of the GeoPackage and PostGIS stores."""

    def editors(self) -> list[dict[str, Any]]:
        """Every editor as {"name", "created"}, by name (never their hashes)."""

    def editor_hash(self, name: str) -> str | None:
        """The stored password hash of editor ``name``, or None if there is no such editor."""

    def add_editor(self, name: str, password_hash: str, *, replace: bool = False) -> None:
        """Store an editor (``replace`` swaps the hash of an existing one), in one transaction."""

    def remove_editor(self, name: str) -> bool:
        """Remove editor ``name``; False if there was none."""


def editor_store(store: Any) -> EditorStore:
    """``store`` if it keeps editors.

    :raise StoreError: a store that keeps no editors (GeoParquet).
    """
    if not hasattr(store, "add_editor"):
        raise StoreError(
            f"a {store.kind} store keeps no editors: use a GeoPackage or PostGIS store "
            "to let people correct the map"
        )
    return store


def check_name(name: str) -> str:
    """``name`` if it can name an editor.

    :raise StoreError: empty, too long, or holding anything but letters, digits and _ . @ -.
    """
    if not isinstance(name, str) or not NAME.match(name):
        raise StoreError(
            f"{name!r} cannot name an editor: use 1 to 64 letters, digits, '_', '.', '@' or '-'"
        )
    return name


def hash_password(password: str) -> str:
    """A salted hash of ``password`` (werkzeug's default, scrypt).

    :raise StoreError: a password shorter than MIN_PASSWORD characters.
    """
    from werkzeug.security import generate_password_hash

    if len(password) < MIN_PASSWORD:
        raise StoreError(f"the password is too short: use {MIN_PASSWORD} characters or more")
    return generate_password_hash(password)


def now() -> str:
    """The time, as stored in ``created`` (UTC, ISO 8601, seconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
