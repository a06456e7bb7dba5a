"""The map blueprint: ``GET /?VIEW``, the map opened on exactly the view in its URL.

``VIEW`` is the map's query (start, end, undated, q, country, role, min_score,
areas, and lat, lon, zoom for the view; see ``mapapp.maps.query.parse_view``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from markupsafe import Markup

from mapapp.maps.elements import render_map
from mapapp.maps.export import EXPORT_FORMATS
from mapapp.maps.query import parse_view
from mapapp.records import MAP_ROLES
from mapapp.web.cache import map_data, remembered
from mapapp.web.context import app_settings, map_options
from mapapp.web.exports import MAP_FORMATS
from mapapp.web.security import with_nonce
from mapapp.web.uploads import may_upload

map_bp = Blueprint("map", __name__)


@map_bp.get("/")
def index() -> str:
    """The map of every place the stories report on, opened on the view in the URL."""
    view = parse_view(request.args)
    data = map_data()

    def build() -> Markup:
        return render_map(
            view,
            points_url=url_for("api.points"),
            evidence_url=url_for("api.evidence_view"),
            story_url=url_for("stories.show", article_id="ARTICLE-ID"),
            export_url=url_for("exports.download", fmt="FORMAT"),
            events_url=url_for("events.points"),
            **map_options(),
        )

    fragment = with_nonce(remembered(("map", view, request.script_root), build))
    query = view.params(view=False)
    exports = {
        fmt: url_for("exports.download", fmt=fmt, **query)
        for fmt in (*EXPORT_FORMATS, *MAP_FORMATS)
    }
    dated = [a[2] for a in data.articles if a[2]]
    return render_template(
        "map.html",
        map_html=fragment,
        view=view,
        roles=MAP_ROLES,
        countries=data.countries,
        exports=exports,
        first_date=min(dated) if dated else None,
        last_date=max(dated) if dated else None,
        start=view.start,
        end=view.end,
        live={  # what live.js compares the store's version with, and how often
            "url": url_for("live.version"),
            "poll": app_settings().live_poll_seconds,
            "version": data.version,
            "stories": len(data.articles),
        },
        upload=upload_form(),
    )


def upload_form() -> dict[str, Any] | None:
    """Where the upload form posts and how much it may send; None when this request may not
    upload (the app takes none, or the reader may not write)."""
    if not may_upload():
        return None
    return {"url": url_for("uploads.upload"), "max_bytes": app_settings().upload_max_bytes}
