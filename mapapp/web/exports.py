"""The exports blueprint: ``GET /export.<fmt>?VIEW``, the map's filtered view as a download."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from mapapp.maps.export import EXPORT_FORMATS, export_bytes, export_name
from mapapp.maps.query import parse_view
from mapapp.maps.view import filter_mentions
from mapapp.web.cache import map_data

exports_bp = Blueprint("exports", __name__)

EXPORT_TYPES = {
    "geojson": "application/geo+json",
    "csv": "text/csv",
    "gpkg": "application/geopackage+sqlite3",
}


@exports_bp.get("/export.<fmt>")
def download(fmt: str) -> Response:
    """The map's filtered view (same query as the map URL) as a file download.

    :raise 404: a format other than geojson, csv or gpkg.
    """
    if fmt not in EXPORT_FORMATS:
        abort(404, f"No export format {fmt!r}: use {', '.join(EXPORT_FORMATS)}.")
    view = parse_view(request.args)
    frame = filter_mentions(map_data().frame, view)
    response = current_app.response_class(export_bytes(frame, fmt), mimetype=EXPORT_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{export_name(view, fmt)}"'
    response.headers["X-Mapapp-Rows"] = str(len(frame))
    return response
