"""The web app: the map, a page per story, and the JSON the map loads.

It reads the store and nothing upstream of it: importing this module must
not pull in the geocoder, the toponym finder or spaCy (a test checks).

Routes (``?VIEW`` is the map's query: start, end, undated, q, country, role,
min_score, areas, and lat, lon, zoom for the view; see ``parse_view``)
  GET /?VIEW                     the map, opened on exactly that view
  GET /stories/<article_id>      one story, its places highlighted, a small map
  GET /api/points                every mappable mention once, as compact columns
  GET /api/evidence?v=&m=        the sentences behind some mentions (for popups)
  GET /export.<fmt>?VIEW         the filtered view as geojson, csv or gpkg
  GET /api/places.geojson        resolved mentions as GeoJSON (``?start=&end=&bbox=``)
  GET /api/stats                 counts and date range of the store
  GET /basemap/countries.geojson country outlines for the offline basemap
  GET /vendor/<package>/<file>   Leaflet, markercluster and jQuery, served locally
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
import os
import re
import secrets
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from flask import (Blueprint, Flask, Response, abort, current_app, g, render_template,
                   request, send_from_directory, url_for)
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from mapapp.maps import rendering
from mapapp.settings import DEFAULTS, PROJECT_ROOT, Settings, load_settings
from mapapp.errors import ConfigError, StoreError
from mapapp.records import MAP_ROLES
from mapapp.maps.rendering import MapView
from mapapp.stores import Store, open_store
from mapapp.stores.exports import EXPORT_FORMATS

log = logging.getLogger(__name__)

map_bp = Blueprint("map", __name__)
stories_bp = Blueprint("stories", __name__)
api_bp = Blueprint("api", __name__, url_prefix="/api")
exports_bp = Blueprint("exports", __name__)
assets_bp = Blueprint("assets", __name__)

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
ONE_DAY = 24 * 3600
MAX_SEARCH = 200          # characters of a search query
MAX_EVIDENCE = 200        # mentions per /api/evidence request
MAX_QUERY_BYTES = 4096    # a query string; the longest map permalink is well under 1 KiB
MAX_PATH_BYTES = 1024     # a URL path (story ids are 16 hex digits)
MAX_BODY_BYTES = 16 * 1024  # no route reads a body: anything bigger is refused unread
PAGE_CACHE = 512          # rendered map fragments and story pages kept (least recently used go)
EXPORT_TYPES = {"geojson": "application/geo+json", "csv": "text/csv",
                "gpkg": "application/geopackage+sqlite3"}


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the app from ``Settings``, or from overrides of them and of Flask's own keys.

    A mapping is split: mapapp's setting names (``STORE``, ``TILES``...) are
    validated into ``Settings`` (over the defaults and ``MAPAPP_*``); Flask's
    own keys (``TESTING``, ``MAX_CONTENT_LENGTH``...) go to ``app.config``.
    """
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"))
    if isinstance(config, Settings):
        settings, flask_keys = config, {}
    else:
        given = dict(config or {})
        flask_keys = {k: v for k, v in given.items() if k not in DEFAULTS}
        unknown = sorted(k for k in flask_keys if k not in app.config)
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r}: neither a mapapp setting nor "
                              "one of Flask's")
        settings = load_settings({k: v for k, v in given.items() if k in DEFAULTS})
    app.config.from_mapping(flask_keys)
    app.config["MAPAPP_SETTINGS"] = settings
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is no limit
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["mapapp"] = {"lock": threading.Lock(), "pages": OrderedDict(),
                                "pages_lock": threading.Lock()}
    for blueprint in (map_bp, stories_bp, api_bp, exports_bp, assets_bp):
        app.register_blueprint(blueprint)
    app.before_request(make_nonce)  # first, so that even a refusal carries its policy
    app.before_request(refuse_oversized)
    app.context_processor(lambda: {"csp_nonce": g.get("csp_nonce", "")})
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
    waitress_serve(app, host=host, port=int(port), ident="mapapp",
                   max_request_body_size=app.config["MAX_CONTENT_LENGTH"],
                   max_request_header_size=64 * 1024)


# -- resources and request parsing -------------------------------------------

def settings() -> Settings:
    """This app's validated settings (set by ``create_app``)."""
    return current_app.config["MAPAPP_SETTINGS"]


def get_store() -> Store:
    """The store named by the STORE setting, opened once per request."""
    if "store" not in g:
        g.store = open_store(settings().store)
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


def bbox_arg(args: Mapping[str, str]) -> tuple[float, float, float, float] | None:
    """The ``bbox`` query parameter, ``west,south,east,north`` in degrees, or None.

    :raise 400: not four numbers, outside the globe, or west/south past east/north.
    """
    raw = args.get("bbox")
    if raw is None or not raw.strip():
        return None
    try:
        west, south, east, north = (float(part) for part in raw.split(","))
    except ValueError:
        abort(400, "bbox must be four numbers: west,south,east,north (degrees)")
    finite = all(math.isfinite(v) for v in (west, south, east, north))
    if not (finite and -180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        abort(400, "bbox must be west,south,east,north with -180 <= west <= east <= 180 "
                   "and -90 <= south <= north <= 90")
    return west, south, east, north


def _last(args: Mapping[str, Any], name: str) -> str | None:
    """The last value of a query parameter (a form's hidden default comes first)."""
    values = args.getlist(name) if hasattr(args, "getlist") else (
        [args[name]] if name in args else [])
    return values[-1] if values else None


def _flag(args: Mapping[str, Any], name: str, default: bool) -> bool:
    """A 0/1 (or false/true, off/on) query parameter.

    :raise 400: any other value.
    """
    value = _last(args, name)
    if value is None or not value.strip():
        return default
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    abort(400, f"Bad {name} {value[:40]!r}: use 1 to show or 0 to hide")


def _number(args: Mapping[str, Any], name: str, low: float, high: float) -> float | None:
    """A finite number in [low, high], or None when absent.

    :raise 400: not a number, or out of range.
    """
    value = _last(args, name)
    if value is None or not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        abort(400, f"Bad {name} {value[:40]!r}: use a number from {low:g} to {high:g}")
    return number


def _roles(args: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``role`` parameter (comma-separated or repeated); absent means every role.

    :raise 400: a role that is not drawn on the map.
    """
    values = args.getlist("role") if hasattr(args, "getlist") else (
        [args["role"]] if "role" in args else [])
    if not values:
        return MAP_ROLES
    wanted = {r.strip().lower() for v in values for r in v.split(",") if r.strip()}
    unknown = sorted(wanted - set(MAP_ROLES))
    if unknown:
        abort(400, f"Unknown role {unknown[0][:40]!r}: use {', '.join(MAP_ROLES)}")
    return tuple(r for r in MAP_ROLES if r in wanted)


def parse_view(args: Mapping[str, Any]) -> MapView:
    """The map's filters and view from a query string, checked once for every route.

    :raise 400: a bad date, role, country, score or position, with a sentence.
    """
    start, end = date_range(args)
    query = (_last(args, "q") or "").strip()
    if len(query) > MAX_SEARCH:
        abort(400, f"Search text is {len(query)} characters long: use at most {MAX_SEARCH}")
    country = (_last(args, "country") or "").strip()
    if country and not _COUNTRY.fullmatch(country):
        abort(400, f"Bad country {country[:40]!r}: use a two-letter code such as SY")
    min_score = _number(args, "min_score", 0.0, 1.0) or 0.0
    lat = _number(args, "lat", -90.0, 90.0)
    lon = _number(args, "lon", -1e4, 1e4)
    zoom = _number(args, "zoom", 0, 18)
    if zoom is None or lat is None or lon is None:
        lat = lon = zoom = None
    elif not -180.0 <= lon <= 180.0:  # Leaflet lets the world repeat: wrap it back
        lon = round((lon + 180.0) % 360.0 - 180.0, 6)
    return MapView(start=start, end=end, undated=_flag(args, "undated", True), q=query,
                   country=country.upper(), roles=_roles(args), min_score=min_score,
                   areas=_flag(args, "areas", True), lat=lat, lon=lon,
                   zoom=None if zoom is None else int(zoom))


def map_options() -> dict[str, Any]:
    """What both maps need from the request and settings: asset root, basemap, tiles."""
    config = settings()
    return {"asset_root": request.script_root + "/",  # so a prefixed mount still works
            "basemap_url": url_for("assets.basemap"),
            "tiles": config.tiles or None,
            "tiles_attribution": config.tiles_attribution or None}


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


# -- the map's data, built once per version of the store file ----------------

@dataclass(frozen=True)
class MapData:
    """Everything the map pages read, from one snapshot of the store.

    ``frame`` is ``rendering.map_mentions`` of the store (mention ``i`` of the
    payload is its row ``i``); ``articles`` lists every story as
    (article_id, headline, published) in the store's order (by date, undated last).
    """

    version: str
    frame: Any
    payload: bytes
    payload_gzip: bytes
    articles: tuple[tuple[str, str, str | None], ...]
    countries: tuple[tuple[str, str, int], ...]  # (code, name, mentions), by name


def _build_map_data(store: Store, version: str) -> MapData:
    frame = rendering.map_mentions(store.mentions(include_undated=True))
    payload = rendering.points_payload(frame, version)
    body = str(htmlsafe_json_dumps(payload, dumps=json.dumps, separators=(",", ":"),
                                   ensure_ascii=False)).encode("utf-8")
    articles = store.articles(include_undated=True)
    names = rendering.country_names()
    counted = frame["country_code"].dropna().astype(str).value_counts()
    countries = sorted(((code, names.get(code, code), int(n)) for code, n in counted.items()),
                       key=lambda c: c[1])
    return MapData(version=version, frame=frame, payload=body,
                   payload_gzip=gzip.compress(body, compresslevel=6),
                   articles=tuple(zip(articles["article_id"].astype(str),
                                      articles["headline"].fillna("").astype(str),
                                      articles["published"].astype(object).where(
                                          articles["published"].notna(), None))),
                   countries=tuple(countries))


def map_data() -> MapData:
    """The map's data for the store as it is now; rebuilt only when the file changed."""
    cache = current_app.extensions["mapapp"]
    store = get_store()
    version = store.version()
    with cache["lock"]:
        data = cache.get("map_data")
        if data is None or data.version != version:
            data = _build_map_data(store, version)
            cache["map_data"] = data
    return data


def remembered(key: tuple, build: Callable[[], Any]) -> Any:
    """``build()``'s result, kept for later requests with the same ``key`` (an LRU).

    Keys of anything read from the store start with the store's version, so a
    new ingest is never answered from the cache.
    """
    cache = current_app.extensions["mapapp"]
    pages, lock = cache["pages"], cache["pages_lock"]
    with lock:
        if key in pages:
            pages.move_to_end(key)
            return pages[key]
    value = build()  # outside the lock: two threads may build the same page once each
    with lock:
        pages[key] = value
        while len(pages) > PAGE_CACHE:
            pages.popitem(last=False)
    return value


# -- the map -----------------------------------------------------------------

@map_bp.get("/")
def index() -> str:
    """The map of every place the stories report on, opened on the view in the URL."""
    view = parse_view(request.args)
    data = map_data()

    def build() -> Markup:
        return rendering.render_map(
            view, points_url=url_for("api.points"), evidence_url=url_for("api.evidence_view"),
            story_url=url_for("stories.show", article_id="ARTICLE-ID"),
            export_url=url_for("exports.download", fmt="FORMAT"), **map_options())
    fragment = with_nonce(remembered(("map", view, request.script_root), build))
    query = view.params(view=False)
    exports = {fmt: url_for("exports.download", fmt=fmt, **query) for fmt in EXPORT_FORMATS}
    dated = [a[2] for a in data.articles if a[2]]
    return render_template("map.html", map_html=fragment, view=view, roles=MAP_ROLES,
                           countries=data.countries, exports=exports,
                           first_date=min(dated) if dated else None,
                           last_date=max(dated) if dated else None,
                           start=view.start, end=view.end)


# -- stories -----------------------------------------------------------------

def get_article(article_id: str) -> dict[str, Any]:
    """The stored article with ``article_id``.

    :raise 404: no stored article has that id.
    """
    article = get_store().article(article_id)
    if article is None:
        shown = article_id if len(article_id) <= 40 else article_id[:40] + "..."
        abort(404, f"No story with id {shown!r} is in the store.")
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
    key = ("story", get_store().version(), article_id, request.script_root)
    page = remembered(key, lambda: story_page(article_id))
    return render_template("story.html", **page, story_map=with_nonce(page["map_fragment"]))


def story_page(article_id: str) -> dict[str, Any]:
    """What story.html shows of one story (its small map without this response's nonce).

    :raise 404: no stored article has that id.
    """
    article = get_article(article_id)
    mentions = get_store().mentions(article_id=article_id, resolved_only=False)
    spans = _spans(mentions)
    located = mentions[mentions.geometry.notna() & ~mentions.geometry.is_empty]
    older, newer = neighbours(article_id)
    return {"article": article, "original_url": _original_url(article.get("url")),
            "segments": rendering.mark_places(article.get("text") or "", spans),
            "places": rendering.story_places(located),
            "unplaced": [s for s in spans if s["key"] is None],
            "map_fragment": rendering.render_story_map(located, **map_options()),
            "older": older, "newer": newer}


def neighbours(article_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The stories just before and after ``article_id`` by date (undated ones last)."""
    articles = map_data().articles
    index = next((i for i, a in enumerate(articles) if a[0] == article_id), None)
    if index is None:
        return None, None

    def describe(i: int) -> dict[str, Any] | None:
        if not 0 <= i < len(articles):
            return None
        story_id, headline, published = articles[i]
        return {"article_id": story_id, "headline": headline or "(no headline)",
                "published": published}
    return describe(index - 1), describe(index + 1)


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
    """Resolved mentions published in [start, end], inside ``bbox`` if given; with no date
    bounds, undated ones too.  Both filters run in the store (SQL on its indexes)."""
    start, end = date_range(request.args)
    frame = get_store().mentions(start, end, include_undated=start is None and end is None,
                                 bbox=bbox_arg(request.args))
    frame = frame[frame["role"].isin(MAP_ROLES)]  # demonyms and qualifiers are context only
    collection = {"type": "FeatureCollection", "features": mention_features(frame),
                  "start": start.isoformat() if start else None,
                  "end": end.isoformat() if end else None}
    return json_response(collection, mimetype="application/geo+json")


@api_bp.get("/points")
def points() -> Response:
    """Every mappable mention once, as column tables (``rendering.points_payload``).

    map.js filters these in the browser, so no filter change comes back here.
    Sent gzipped when the client accepts it, with an ETag of the store version.
    """
    data = map_data()
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
    response = current_app.response_class(data.payload_gzip if gzipped else data.payload,
                                          mimetype="application/json")
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
    return json_response({"version": data.version,
                          "evidence": rendering.evidence(data.frame, rows)})


@api_bp.get("/stats")
def stats() -> Response:
    """Counts of articles and mentions, the date range and the most mentioned places.

    Computed once per version of the store file (a GROUP BY over every mention
    takes tens of milliseconds at 50,000 of them).
    """
    cache, store = current_app.extensions["mapapp"], get_store()
    version = store.version()
    cached = cache.get("stats")
    if cached is None or cached[0] != version:
        cached = (version, store.stats())  # read after the version: a change is never missed
        cache["stats"] = cached
    return json_response(cached[1])


# -- exports: the filtered view as a file ------------------------------------

def write_export(frame: Any, path: Path, fmt: str) -> None:
    """Write mention rows to ``path`` as geojson, csv (with lat, lon) or gpkg."""
    from mapapp.stores.exports import write_mentions

    write_mentions(frame, path, fmt)


def export_bytes(frame: Any, fmt: str) -> bytes:
    """``frame`` written in ``fmt`` (one of EXPORT_FORMATS), as the file's bytes."""
    scratch = Path(tempfile.mkdtemp(prefix="mapapp-export-"))
    try:
        target = scratch / f"export.{fmt}"
        write_export(frame, target, fmt)
        return target.read_bytes()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def export_name(view: MapView, fmt: str) -> str:
    """A download's file name, saying which dates it covers."""
    if view.start and view.end:
        span = f"{view.start.isoformat()}-{view.end.isoformat()}"
    else:
        span = (f"from-{view.start.isoformat()}" if view.start else
                f"to-{view.end.isoformat()}" if view.end else "all")
    return f"mapapp-{span}.{fmt}"


def export_view(store_path: str | Path, out: str | Path, fmt: str, query: str = "") -> Path:
    """Write what the map shows for ``query`` (the map URL's query string) to ``out``.

    The command line's twin of ``/export.<fmt>?query``: the same filters, the
    same rows.

    :raise ConfigError: a bad format or query (the message says which part).
    """
    from werkzeug.datastructures import MultiDict


    fmt = fmt.lower()
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}: use {', '.join(EXPORT_FORMATS)}")
    try:
        view = parse_view(MultiDict(parse_qs(query.lstrip("?"), keep_blank_values=True)))
    except HTTPException as err:
        raise ConfigError(f"bad export query {query!r}: {err.description}") from err
    store = open_store(store_path)
    frame = rendering.filter_mentions(rendering.map_mentions(
        store.mentions(include_undated=True)), view)
    out = Path(out)
    out.write_bytes(export_bytes(frame, fmt))
    return out


@exports_bp.get("/export.<fmt>")
def download(fmt: str) -> Response:
    """The map's filtered view (same query as the map URL) as a file download.

    :raise 404: a format other than geojson, csv or gpkg.
    """
    if fmt not in EXPORT_FORMATS:
        abort(404, f"No export format {fmt!r}: use {', '.join(EXPORT_FORMATS)}.")
    view = parse_view(request.args)
    frame = rendering.filter_mentions(map_data().frame, view)
    response = current_app.response_class(export_bytes(frame, fmt), mimetype=EXPORT_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{export_name(view, fmt)}"'
    response.headers["X-Mapapp-Rows"] = str(len(frame))
    return response


# -- assets: the basemap and vendor files ------------------------------------

def _cached_outlines(source: Path) -> bytes:
    """The outlines as GeoJSON, built once and kept in the cache folder."""
    # v2: features carry their ISO alpha-2 code ("iso") for the country outlines
    target = settings().cache_folder / "basemap" / f"{source.stem}.v2.geojson"
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
        source = rendering.find_outlines(settings().data_packages)
        if source is None:
            log.warning("no world-atlas outlines under %s: the map has no basemap "
                        "(run npm install)", settings().data_packages)
            return rendering.EMPTY_FEATURES
        cache["basemap"] = _cached_outlines(source)
    return cache["basemap"]


@assets_bp.get("/basemap/countries.geojson")
def basemap() -> Response:
    """Country outlines (Natural Earth, via world-atlas) for the offline basemap.

    Sent gzipped when the client accepts it (a quarter of the bytes).
    """
    data = basemap_bytes()
    cache = current_app.extensions["mapapp"]
    tag = hashlib.sha256(data).hexdigest()[:32]
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        if cache.get("basemap_gzip", (None,))[0] != tag:
            cache["basemap_gzip"] = (tag, gzip.compress(data, compresslevel=6))
        response = current_app.response_class(cache["basemap_gzip"][1],
                                              mimetype="application/geo+json")
        response.headers["Content-Encoding"] = "gzip"
        tag += "-gz"
    else:
        response = current_app.response_class(data, mimetype="application/geo+json")
    response.headers["Vary"] = "Accept-Encoding"
    response.set_etag(tag)
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

def refuse_oversized() -> None:
    """Refuse over-long URLs and any sizeable body before a view runs.

    :raise 414: the path or the query string is too long.
    :raise 413: the request carries a body bigger than MAX_CONTENT_LENGTH.
    """
    if len(request.query_string) > MAX_QUERY_BYTES:
        abort(414, f"The query string is {len(request.query_string)} bytes long: "
                   f"use at most {MAX_QUERY_BYTES}.")
    if len(request.path.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        abort(414, f"The address is too long: use at most {MAX_PATH_BYTES} bytes.")
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is not None and (request.content_length or 0) > limit:
        abort(413, f"The request body is {request.content_length} bytes long: "
                   f"mapapp takes at most {limit}.")


def make_nonce() -> None:
    """A fresh CSP nonce for this response's own inline scripts and styles."""
    g.csp_nonce = secrets.token_urlsafe(18)


_OWN_TAGS = re.compile(r"<(script|style)(?=[\s>])")


def with_nonce(fragment: Markup) -> Markup:
    """The map fragment with the request's nonce on its own <script> and <style> tags.

    Safe to do by pattern: no data reaches a map fragment as markup (it goes
    in through ``|tojson``, which writes '<' as \\u003c), so every tag found
    is one folium or rendering.py wrote.
    """
    nonce = g.get("csp_nonce")
    if not nonce:
        return fragment
    return Markup(_OWN_TAGS.sub(lambda m: f'<{m[1]} nonce="{nonce}"', str(fragment)))


def _content_security_policy() -> str:
    """Same-origin only: scripts and styles from our files or carrying this response's nonce.

    No 'unsafe-inline' and no 'unsafe-eval': an injected <script>, event
    handler or javascript: URL would not run even if escaping failed.  The
    tile server's host is added to img-src when tiles are configured.
    """
    images = ["'self'", "data:"]
    tiles = settings().tiles
    parts = urlsplit(tiles.replace("{s}", "*"))
    if parts.scheme in ("http", "https") and parts.netloc:
        images.append(f"{parts.scheme}://{parts.netloc}")
    nonce = g.get("csp_nonce")
    own = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    return (f"default-src 'self'; script-src {own}; style-src {own}; "
            f"img-src {' '.join(images)}; connect-src 'self'; font-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def secure_headers(response: Response) -> Response:
    """Headers every response carries: no sniffing, no framing, a tight referrer."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
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
