"""The live blueprint: ``GET /api/version``, what an open map polls to learn of new stories.

The answer is cheap whatever the store holds: the store's version token (a
file's stat, or one row on PostGIS) and its story count, counted once per
version (``AppCache.stats``).  ``static/live.js`` compares the version with the
one its points were loaded at and offers "N new stories — show".
"""

from __future__ import annotations

from flask import Blueprint, Response

from mapapp.web.cache import app_cache
from mapapp.web.context import get_store, json_response

live_bp = Blueprint("live", __name__, url_prefix="/api")


@live_bp.get("/version")
def version() -> Response:
    """The store's version token and its number of stories, never cached on the way."""
    store = get_store()
    token = store.version()
    stories = int(app_cache().stats(store).get("articles") or 0)
    response = json_response({"version": token, "stories": stories})
    response.cache_control.no_store = True  # every poll must reach the store
    return response
