"""The events blueprint: ``GET /api/events``, every located event the map draws.

Like ``/api/points`` it is loaded once by the page (events.js filters in the
browser), built once per version of the store, gzipped when the client
accepts it and revalidated by an ETag of the store's version.
"""

from __future__ import annotations

import gzip
import json
from urllib.parse import quote

from flask import Blueprint, Response, current_app, request, url_for

from mapapp.errors import StoreError
from mapapp.maps.events import events_payload
from mapapp.web.cache import remembered
from mapapp.web.context import get_store

events_bp = Blueprint("events", __name__, url_prefix="/api")


def _payload(version: str) -> tuple[bytes, bytes]:
    """The events JSON of the store at ``version``, plain and gzipped."""
    store = get_store()
    try:
        frame = store.events(include_undated=True, located_only=True)
    except StoreError:
        if not store.partitioned:
            raise
        frame = None  # GeoParquet keeps no events: the map has none to show
    template = url_for("stories.show", article_id="ARTICLE-ID")
    ids = set(frame["article_id"]) if frame is not None else set()
    urls = {a: template.replace("ARTICLE-ID", quote(a, safe="")) for a in ids}
    data = events_payload(frame if frame is not None else _nothing(), urls, version)
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return body, gzip.compress(body, compresslevel=6)


def _nothing():
    from mapapp.stores.schema import empty_events_view

    return empty_events_view()


@events_bp.get("/events")
def points() -> Response:
    """Every located event once (``maps.events.events_payload``), for the events layer."""
    version = get_store().version()
    body, zipped = remembered(("events", version, request.script_root), lambda: _payload(version))
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
    response = current_app.response_class(zipped if gzipped else body, mimetype="application/json")
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.set_etag(f"{version}-{'gz' if gzipped else 'id'}")
    response.cache_control.no_cache = True
    return response.make_conditional(request)
