"""The exports blueprint: ``GET /export.<fmt>?VIEW``, the map's filtered view as a download.

Data (geojson, csv, gpkg) from ``maps.export``; a print map (png, svg: A4, or
letter with ``paper=letter``) from ``maps.static``; one HTML file of the map
that opens offline from disk (html) from ``maps.offline``.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from mapapp.maps.export import EXPORT_FORMATS, export_bytes, export_name
from mapapp.maps.offline import render_offline
from mapapp.maps.query import parse_view
from mapapp.maps.static import PAPERS, STATIC_FORMATS, map_file_name, render_static
from mapapp.maps.view import filter_mentions
from mapapp.web.assets import basemap_bytes, labels_bytes
from mapapp.web.cache import map_data
from mapapp.web.context import app_settings

exports_bp = Blueprint("exports", __name__)

EXPORT_TYPES = {
    "geojson": "application/geo+json",
    "csv": "text/csv",
    "gpkg": "application/geopackage+sqlite3",
    "png": "image/png",
    "svg": "image/svg+xml",
    "html": "text/html",
}
MAP_FORMATS = (*STATIC_FORMATS, "html")


@exports_bp.get("/export.<fmt>")
def download(fmt: str) -> Response:
    """The map's filtered view (same query as the map URL) as a file download.

    :raise 404: a format other than geojson, csv, gpkg, png, svg or html.
    :raise 400: a paper size other than a4 or letter.
    """
    if fmt not in EXPORT_FORMATS and fmt not in MAP_FORMATS:
        abort(404, f"No export format {fmt!r}: use {', '.join((*EXPORT_FORMATS, *MAP_FORMATS))}.")
    view = parse_view(request.args)
    frame = filter_mentions(map_data().frame, view)
    if fmt in STATIC_FORMATS:
        paper = request.args.get("paper", "a4").lower()
        if paper not in PAPERS:
            abort(400, f"Bad paper size {paper[:20]!r}: use {' or '.join(PAPERS)}.")
        packages = app_settings().data_packages
        body = render_static(
            frame, view, fmt, data_packages=packages, paper=paper, labels=labels_bytes()
        )
        name = map_file_name(view, fmt, paper)
    elif fmt == "html":
        body = render_offline(frame, view, outlines=basemap_bytes(), labels=labels_bytes())
        name = map_file_name(view, fmt)
    else:
        body, name = export_bytes(frame, fmt), export_name(view, fmt)
    response = current_app.response_class(body, mimetype=EXPORT_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Mapapp-Rows"] = str(len(frame))
    return response
