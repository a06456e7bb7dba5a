"""The web app: the map, a page per story, and the JSON the map loads.

It reads the store and nothing upstream of it: importing this module must
not pull in the geocoder, the toponym finder or spaCy (a test checks).

Routes
  GET /                          the map (``?start=&end=`` picks the date range)
  GET /stories/<article_id>      one story, its places highlighted, a small map
  GET /api/places.geojson        resolved mentions as GeoJSON (``?start=&end=``)
  GET /api/stats                 counts and date range of the store
  GET /basemap/countries.geojson country outlines for the offline basemap
  GET /vendor/<package>/<file>   Leaflet, markercluster and jQuery, served locally
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from flask import (Blueprint, Flask, Response, abort, current_app, g, render_template,
                   request, send_from_directory, url_for)
from jinja2.utils import htmlsafe_json_dumps
from werkzeug.exceptions import HTTPException

from mapapp import rendering
from mapapp.config import PROJECT_ROOT, cache_dir, load_config
from mapapp.errors import StoreError
from mapapp.records import MAP_ROLES
from mapapp.store import Store

log = logging.getLogger(__name__)

map_bp = Blueprint("map", __name__)
stories_bp = Blueprint("stories", __name__)
api_bp = Blueprint("api", __name__, url_prefix="/api")
assets_bp = Blueprint("assets", __name__)

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ONE_DAY = 24 * 3600


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then MAPAPP_* environment variables, then ``config``."""
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"))
    app.config.from_mapping(load_config(config))
    app.extensions["mapapp"] = {}
    for blueprint in (map_bp, stories_bp, api_bp, assets_bp):
        app.register_blueprint(blueprint)
    app.after_request(secure_headers)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(StoreError, store_error)
    return app


def serve(app: Flask, host: str = "127.0.0.1", port: int = 5000) -> None:
    """Serve ``app`` with waitress (a production WSGI server) until interrupted."""
    from waitress import serve as waitress_serve

    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    print(f"mapapp is serving on http://{shown}:{port}/ (Ctrl+C to stop)", flush=True)
    waitress_serve(app, host=host, port=int(port))


# -- resources and request parsing -------------------------------------------

def get_store() -> Store:
    """The store named by the STORE setting, opened once per request."""
    if "store" not in g:
        g.store = Store(current_app.config["STORE"])
    return g.store


def parse_day(value: str | None) -> date | None:
    """A YYYY-MM-DD query value as a date; blank means no bound.

    :raise 400: the value is not a real YYYY-MM-DD date.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if _DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    shown = value if len(value) <= 40 else value[:40] + "..."
    abort(400, f"Bad date {shown!r}: use YYYY-MM-DD")


def date_range(args: Mapping[str, str]) -> tuple[date | None, date | None]:
    """The ``start``/``end`` query parameters, checked once for every view.

    :raise 400: a date is malformed, or start falls after end.
    """
    start, end = parse_day(args.get("start")), parse_day(args.get("end"))
    if start and end and start > end:
        abort(400, f"Start date {start} is after end date {end}: swap them or clear one")
    return start, end


def map_options() -> dict[str, Any]:
    """What both maps need from the request and settings: asset root, basemap, tiles."""
    config = current_app.config
    return {"asset_root": request.script_root + "/",  # so a prefixed mount still works
            "basemap_url": url_for("assets.basemap"),
            "tiles": config.get("TILES") or None,
            "tiles_attribution": config.get("TILES_ATTRIBUTION") or None}


def _text(value: Any) -> str | None:
    """A frame cell as text, or None when missing."""
    plain = rendering.cell_text(value)
    return plain or None


def json_response(data: Any, status: int = 200,
                  mimetype: str = "application/json") -> Response:
    """JSON with <, >, & and ' escaped, so even a sniffing client sees no markup."""
    body = htmlsafe_json_dumps(data, dumps=json.dumps, separators=(",", ":"),
                               ensure_ascii=False)
    return current_app.response_class(str(body), status=status, mimetype=mimetype)


# -- the map -----------------------------------------------------------------

@map_bp.get("/")
def index() -> str:
    """The map of every place the stories report on, for ``?start=&end=``."""
    start, end = date_range(request.args)
    fragment = rendering.render_map(start=start, end=end, places_url=url_for("api.places"),
                                    **map_options())
    return render_template("map.html", map_html=fragment, start=start, end=end)


# -- stories -----------------------------------------------------------------

def get_article(article_id: str) -> dict[str, Any]:
    """The stored article with ``article_id``.

    :raise 404: no stored article has that id.
    """
    article = get_store().article(article_id)
    if article is None:
        abort(404, f"No story with id {article_id!r} is in the store.")
    return article


def _spans(mentions: Any) -> list[dict[str, Any]]:
    """Each mention as a highlightable span with its place's anchor (None if unplaced)."""
    spans = []
    for row in mentions.itertuples(index=False):
        geom = row.geometry
        placed = geom is not None and not geom.is_empty
        key = rendering.point_key(row.geonameid, geom.y, geom.x) if placed else None
        where = ", ".join(p for p in (_text(row.resolved_name), _text(row.admin1_name),
                                      _text(row.country_code)) if p)
        label = where if placed else f"Not placed: {_text(row.reason) or 'unresolved'}"
        spans.append({"start": row.start, "end": row.end, "name": _text(row.name),
                      "role": _text(row.role), "key": key, "label": label,
                      "reason": _text(row.reason)})
    return spans


def _original_url(url: Any) -> str | None:
    """The article's own URL when it is a plain web link (never javascript: and the like)."""
    text = _text(url)
    return text if text and urlsplit(text).scheme in ("http", "https") else None


@stories_bp.get("/stories/<article_id>")
def show(article_id: str) -> str:
    """One story with every recognised place marked and mapped."""
    article = get_article(article_id)
    mentions = get_store().mentions(article_id=article_id, resolved_only=False)
    spans = _spans(mentions)
    located = mentions[mentions.geometry.notna() & ~mentions.geometry.is_empty]
    story_map = rendering.render_story_map(located, **map_options())
    return render_template(
        "story.html", article=article, original_url=_original_url(article.get("url")),
        segments=rendering.mark_places(article.get("text") or "", spans),
        places=rendering.story_places(located),
        unplaced=[s for s in spans if s["key"] is None], story_map=story_map)


# -- the API -----------------------------------------------------------------

TEXT_PROPERTIES = ("article_id", "headline", "published", "name", "resolved_name",
                   "country_code", "admin1_name", "feature_class", "feature_code", "role")


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
    columns["score"] = _values(located["score"].round(3))
    columns["url"] = [_original_url(u) for u in _values(located["url"])]
    columns["kind"] = [rendering.place_kind(c, f) for c, f in
                       zip(columns["feature_class"], columns["feature_code"])]
    # One url_for per story, not per mention.
    template = url_for("stories.show", article_id="ARTICLE-ID")
    urls = {a: template.replace("ARTICLE-ID", quote(a, safe=""))
            for a in set(columns["article_id"])}
    columns["story_url"] = [urls[a] for a in columns["article_id"]]
    names = list(columns)
    xs = located.geometry.x.round(5).tolist()
    ys = located.geometry.y.round(5).tolist()
    return [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
             "properties": dict(zip(names, values))}
            for x, y, values in zip(xs, ys, zip(*(columns[n] for n in names)))]


@api_bp.get("/places.geojson")
def places() -> Response:
    """Resolved mentions published in [start, end]; with no bounds, undated ones too."""
    start, end = date_range(request.args)
    frame = get_store().mentions(start, end, include_undated=start is None and end is None)
    frame = frame[frame["role"].isin(MAP_ROLES)]  # demonyms and qualifiers are context only
    collection = {"type": "FeatureCollection", "features": mention_features(frame),
                  "start": start.isoformat() if start else None,
                  "end": end.isoformat() if end else None}
    return json_response(collection, mimetype="application/geo+json")


@api_bp.get("/stats")
def stats() -> Response:
    """Counts of articles and mentions, the date range and the most mentioned places."""
    return json_response(get_store().stats())


# -- assets: the basemap and vendor files ------------------------------------

def _cached_outlines(source: Path) -> bytes:
    """The outlines as GeoJSON, built once and kept in the cache folder."""
    target = cache_dir(current_app.config) / "basemap" / f"{source.stem}.geojson"
    try:
        if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
            return target.read_bytes()
    except OSError:
        pass
    data = rendering.outlines_geojson(source)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, scratch = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(scratch, target)
    except OSError as err:
        log.warning("could not cache the basemap at %s: %s", target, err)
    return data


def basemap_bytes() -> bytes:
    """Country outlines as GeoJSON bytes; an empty collection without world-atlas."""
    cache = current_app.extensions["mapapp"]
    if "basemap" not in cache:
        source = rendering.find_outlines(current_app.config["DATA_PACKAGES"])
        if source is None:
            log.warning("no world-atlas outlines under %s: the map has no basemap "
                        "(run npm install)", current_app.config["DATA_PACKAGES"])
            return rendering.EMPTY_FEATURES
        cache["basemap"] = _cached_outlines(source)
    return cache["basemap"]


@assets_bp.get("/basemap/countries.geojson")
def basemap() -> Response:
    """Country outlines (Natural Earth, via world-atlas) for the offline basemap."""
    data = basemap_bytes()
    response = current_app.response_class(data, mimetype="application/geo+json")
    response.set_etag(hashlib.sha256(data).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = ONE_DAY
    return response.make_conditional(request)


@assets_bp.get("/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str) -> Response:
    """A file of a vendored JS/CSS package (Leaflet, markercluster, jQuery).

    :raise 404: the package or the file is not ours to serve.
    """
    if package not in rendering.VENDOR:
        abort(404, f"No vendor package {package!r}.")
    return send_from_directory(rendering.vendor_dir(package), filename, max_age=ONE_DAY)


# -- headers and errors ------------------------------------------------------

def _content_security_policy() -> str:
    """Same-origin only, plus the tile server's host when tiles are configured."""
    images = ["'self'", "data:"]
    tiles = current_app.config.get("TILES") or ""
    parts = urlsplit(tiles.replace("{s}", "*"))
    if parts.scheme in ("http", "https") and parts.netloc:
        images.append(f"{parts.scheme}://{parts.netloc}")
    return ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; "
            f"img-src {' '.join(images)}; connect-src 'self'; font-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def secure_headers(response: Response) -> Response:
    """Headers every response carries: no sniffing, no framing, a tight referrer."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", _content_security_policy())
    return response


def _wants_json() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


def http_error(error: HTTPException) -> tuple[Any, int]:
    """An error page (or JSON under /api) that shows the sentence given to abort()."""
    code = error.code or 500
    if _wants_json():
        return json_response({"error": error.description, "status": code}, status=code), code
    return render_template("error.html", code=code, name=error.name,
                           description=error.description), code


def store_error(error: StoreError) -> tuple[Any, int]:
    """The store file is unreadable: say so instead of a bare 500."""
    log.error("store error: %s", error)
    message = f"The store could not be read: {error}"
    if _wants_json():
        return json_response({"error": message, "status": 503}, status=503), 503
    return render_template("error.html", code=503, name="Store unavailable",
                           description=message), 503
