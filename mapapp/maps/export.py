"""The main map's filtered view as a file: what ``/export.<fmt>`` sends and ``mapapp export
--view`` writes, from the same query and the same rows."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from mapapp.errors import ConfigError, QueryError
from mapapp.maps.query import parse_view
from mapapp.maps.view import MapView, filter_mentions, map_mentions
from mapapp.stores import open_store
from mapapp.stores.exports import EXPORT_FORMATS, export_mentions, write_mentions

__all__ = ["EXPORT_FORMATS", "export_bytes", "export_name", "export_view"]


def export_bytes(frame: Any, fmt: str) -> bytes:
    """``frame`` (mention rows) written in ``fmt`` (one of EXPORT_FORMATS), as the file's bytes."""
    scratch = Path(tempfile.mkdtemp(prefix="mapapp-export-"))
    try:
        target = scratch / f"export.{fmt}"
        write_mentions(frame, target, fmt)
        return target.read_bytes()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def export_name(view: MapView, fmt: str) -> str:
    """A download's file name, saying which dates it covers."""
    if view.start and view.end:
        span = f"{view.start.isoformat()}-{view.end.isoformat()}"
    else:
        span = (
            f"from-{view.start.isoformat()}"
            if view.start
            else f"to-{view.end.isoformat()}"
            if view.end
            else "all"
        )
    return f"mapapp-{span}.{fmt}"


def export_view(store_path: str | Path, out: str | Path, fmt: str, query: str = "") -> Path:
    """Write what the map shows for ``query`` (the map URL's query string) to ``out``.

    The command line's twin of ``/export.<fmt>?query``: the same filters, the
    same rows.

    :raise ConfigError: a bad format or query (the message says which part).
    """
    fmt = fmt.lower()
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}: use {', '.join(EXPORT_FORMATS)}")
    try:
        view = parse_view(parse_qs(query.lstrip("?"), keep_blank_values=True))
    except QueryError as err:
        raise ConfigError(f"bad export query {query!r}: {err}") from err
    store = open_store(store_path)
    frame = filter_mentions(map_mentions(store.mentions(include_undated=True)), view)
    return export_mentions(frame, out, fmt)
