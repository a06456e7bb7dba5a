"""The embed blueprint: ``GET /embed?VIEW``, a read-only map of a view for another site's iframe.

The same map as ``/`` (its markers, popups and legend, opened on the view in
the URL) without the side panel, the timeline or any control that changes
the store.  Only this page may be framed: its ``frame-ancestors`` are mapapp
itself plus the origins of ``MAPAPP_EMBED_ORIGINS``; every other page keeps
refusing to be framed.  Links in it open in a new tab (the story pages refuse
frames).
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from markupsafe import Markup

from mapapp.maps.elements import render_map
from mapapp.maps.query import parse_view
from mapapp.maps.static import view_subtitle
from mapapp.web.cache import remembered
from mapapp.web.context import app_settings, map_options
from mapapp.web.security import content_security_policy, with_nonce

embed_bp = Blueprint("embed", __name__)


def frame_ancestors() -> str:
    """The CSP ``frame-ancestors`` sources of the embed page: mapapp itself and the settings'."""
    return " ".join(("'self'", *app_settings().embed_origins))


@embed_bp.get("/embed")
def show() -> Response:
    """The map of the view in the URL, alone, for an ``<iframe>``."""
    view = parse_view(request.args)

    def build() -> Markup:
        return render_map(
            view,
            points_url=url_for("api.points"),
            evidence_url=url_for("api.evidence_view"),
            story_url=url_for("stories.show", article_id="ARTICLE-ID"),
            export_url=url_for("exports.download", fmt="FORMAT"),
            **map_options(),
        )

    fragment = with_nonce(remembered(("embed", view, request.script_root), build))
    html = render_template(
        "embed.html",
        map_html=fragment,
        subtitle=view_subtitle(view),
        full_map=url_for("map.index", **view.params()),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = content_security_policy(
        frame_ancestors=frame_ancestors()
    )
    # Browsers that know frame-ancestors ignore this; older ones allow mapapp's own pages only.
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
