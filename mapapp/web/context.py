"""What every blueprint reads from the app and the request: settings, the store, map options.

Also the one way mapapp answers with JSON (``json_response``), so that no
route can forget the escaping.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app, g, request, url_for
from jinja2.utils import htmlsafe_json_dumps

from mapapp.settings import Settings
from mapapp.stores import open_store


def app_settings() -> Settings:
    """This app's validated settings (set by ``create_app``)."""
    return current_app.config["MAPAPP_SETTINGS"]


def get_store() -> Any:
    """The store named by the STORE setting, opened once per request."""
    if "store" not in g:
        g.store = open_store(app_settings().store)
    return g.store


def map_options() -> dict[str, Any]:
    """What both maps need from the request and settings: asset root, basemap, tiles."""
    config = app_settings()
    return {
        "asset_root": request.script_root + "/",  # so a prefixed mount still works
        "basemap_url": url_for("assets.basemap"),
        "labels_url": url_for("assets.labels"),
        "tiles": config.tiles or None,
        "tiles_attribution": config.tiles_attribution or None,
    }


def json_body(data: Any) -> str:
    """``data`` as compact JSON with <, >, & and ' escaped (safe even inside HTML)."""
    return str(
        htmlsafe_json_dumps(data, dumps=json.dumps, separators=(",", ":"), ensure_ascii=False)
    )


def json_response(data: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    """JSON with <, >, & and ' escaped, so even a sniffing client sees no markup."""
    return current_app.response_class(json_body(data), status=status, mimetype=mimetype)
