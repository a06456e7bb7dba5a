"""The main map's filtered view as a file: what ``/export.<fmt>`` sends and ``mapapp export
--view`` writes, from the same query and the same rows."""

from __future__ import annotations

import re
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from mapapp.errors import ConfigError, QueryError
from mapapp.maps.points import country_names
from mapapp.maps.query import parse_view
from mapapp.maps.view import MapView, filter_mentions, map_mentions
from mapapp.records import MAP_ROLES
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


def _slug(text: str, limit: int = 40) -> str:
    """``text`` as part of a file name: ASCII lower-case words joined by hyphens."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "-".join(re.findall(r"[a-z0-9]+", plain.lower()))[:limit].strip("-")


def export_name(view: MapView, fmt: str) -> str:
    """A download's file name saying what it holds: the country, search, roles, minimum
    score and dates of the view, as ``mapapp-syria-2017-11-01_2017-11-30.geojson``."""
    parts = ["mapapp"]
    if view.country:
        parts.append(_slug(country_names().get(view.country, "")) or view.country.lower())
    if view.q and _slug(view.q):
        parts.append(f"search-{_slug(view.q)}")
    if tuple(view.roles) != MAP_ROLES:
        parts.append("-".join(view.roles) or "no-roles")
    if view.min_score:
        parts.append(f"score-{view.min_score:g}")
    if view.start and view.end:
        parts.append(f"{view.start.isoformat()}_{view.end.isoformat()}")
    elif view.start:
        parts.append(f"from-{view.start.isoformat()}")
    elif view.end:
        parts.append(f"to-{view.end.isoformat()}")
    else:
        parts.append("all-dates")
    return f"{'-'.join(parts)}.{fmt}"


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
