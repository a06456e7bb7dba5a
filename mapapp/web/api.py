"""The API blueprint, under ``/api``: the JSON the map loads.

GET /api/points                every mappable mention once, as compact columns
GET /api/evidence?v=&m=        the sentences behind some mentions (for popups)
GET /api/places.geojson        resolved mentions as GeoJSON (``?start=&end=&bbox=``)
GET /api/stats                 counts and date range of the store
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, request, url_for

from mapapp.maps.points import evidence
from mapapp.maps.query import parse_bbox, parse_date_range
from mapapp.maps.story import web_link
from mapapp.maps.view import place_kind
from mapapp.records import MAP_ROLES
from mapapp.web.cache import app_cache, map_data
from mapapp.web.context import get_store, json_response

api_bp = Blueprint("api", __name__, url_prefix="/api")

MAX_EVIDENCE = 200  # mentions per /api/evidence request
TEXT_PROPERTIES = (
    "article_id",
    "headline",
    "published",
    "name",
    "resolved_name",
    "country_code",
    "admin1_name",
    "feature_class",
    "feature_code",
    "role",
)


def _values(column: Any) -> list[Any]:
    """A frame column as plain Python values, missing ones as None."""
    return column.astype(object).where(column.notna(), None).tolist()


def mention_features(frame: Any) -> list[dict[str, Any]]:
    """Each located mention as a GeoJSON Point feature (coordinates are lon, lat).

    Built column-wise: the map may ask for tens of thousands of mentions.
    """
    located = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if located.empty:
        return []
    columns = {name: _values(located[name]) for name in TEXT_PROPERTIES}
    columns["geonameid"] = _values(located["geonameid"])
    columns["mention_id"] = _values(located["mention_id"])  # stable: corrections name it
    columns["reviewed"] = [bool(v) for v in located["reviewed"]]
    columns["score"] = _values(located["score"].round(3))
    columns["url"] = [web_link(u) for u in _values(located["url"])]
    columns["kind"] = [
        place_kind(c, f)
        for c, f in zip(columns["feature_class"], columns["feature_code"], strict=False)
    ]
    # One url_for per story, not per mention.
    template = url_for("stories.show", article_id="ARTICLE-ID")
    urls = {
        a: template.replace("ARTICLE-ID", quote(a, safe="")) for a in set(columns["article_id"])
    }
    columns["story_url"] = [urls[a] for a in columns["article_id"]]
    names = list(columns)
    xs = located.geometry.x.round(5).tolist()
    ys = located.geometry.y.round(5).tolist()
    return [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [x, y]},
            "properties": dict(zip(names, values, strict=False)),
        }
        for x, y, values in zip(
            xs, ys, zip(*(columns[n] for n in names), strict=False), strict=False
        )
    ]


@api_bp.get("/places.geojson")
def places() -> Response:
    """Resolved mentions published in [start, end], inside ``bbox`` if given; with no date
    bounds, undated ones too.  Both filters run in the store (SQL on its indexes)."""
    start, end = parse_date_range(request.args)
    frame = get_store().mentions(
        start, end, include_undated=start is None and end is None, bbox=parse_bbox(request.args)
    )
    frame = frame[frame["role"].isin(MAP_ROLES)]  # demonyms and qualifiers are context only
    collection = {
        "type": "FeatureCollection",
        "features": mention_features(frame),
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
    }
    return json_response(collection, mimetype="application/geo+json")


@api_bp.get("/points")
def points() -> Response:
    """Every mappable mention once, as column tables (``maps.points.points_payload``).

    map.js filters these in the browser, so no filter change comes back here.
    Sent gzipped when the client accepts it, with an ETag of the store version.
    """
    data = map_data()
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
    response = current_app.response_class(
        data.payload_gzip if gzipped else data.payload, mimetype="application/json"
    )
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.set_etag(f"{data.version}-{'gz' if gzipped else 'id'}")
    response.cache_control.no_cache = True  # revalidate: cheap 304 while the store is unchanged
    return response.make_conditional(request)


def _mention_rows(value: str | None, size: int) -> list[int]:
    """The ``m`` parameter: comma-separated row numbers of the points payload.

    :raise 400: not numbers, too many, or out of range.
    """
    parts = [p for p in (value or "").split(",") if p.strip()]
    if not parts or len(parts) > MAX_EVIDENCE:
        abort(400, f"Ask for 1 to {MAX_EVIDENCE} mentions, as m=1,2,3")
    try:
        rows = [int(p) for p in parts]
    except ValueError:
        abort(400, "Bad m: use comma-separated mention numbers, as m=1,2,3")
    if any(not 0 <= r < size for r in rows):
        abort(400, f"Mention numbers run from 0 to {size - 1}")
    return rows


@api_bp.get("/evidence", endpoint="evidence_view")
def evidence_view() -> Response:
    """The sentences behind mentions ``m`` of the points payload of version ``v``.

    :raise 409: the store changed since the page loaded its points.
    """
    data = map_data()
    if request.args.get("v", "") != data.version:
        abort(409, "The store has changed since the map loaded: reload the page.")
    rows = _mention_rows(request.args.get("m"), len(data.frame))
    return json_response({"version": data.version, "evidence": evidence(data.frame, rows)})


@api_bp.get("/stats")
def stats() -> Response:
    """Counts of articles and mentions, the date range and the most mentioned places.

    Computed once per version of the store file (a GROUP BY over every mention
    takes tens of milliseconds at 50,000 of them).
    """
    return json_response(app_cache().stats(get_store()))
