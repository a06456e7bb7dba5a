"""Stores: where articles and their mentions live (GeoPackage, PostGIS, GeoParquet)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def open_store(location: str | Path) -> Any:
    """The store at ``location``: the one door to every backend."""
    from mapapp.stores.geopackage import Store

    return Store(location)
