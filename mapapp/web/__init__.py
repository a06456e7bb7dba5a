"""The web app: the map, a page per story, and the JSON the map loads.

``create_app`` builds it (a Flask application factory); each blueprint lives in
its own module.  It reads the store and nothing upstream of it: importing this
package must not pull in the geocoder, the toponym finder or spaCy (a test checks).

Routes (``?VIEW`` is the map's query: see ``mapapp.maps.query.parse_view``)
  GET /?VIEW                     the map, opened on exactly that view        (map.py)
  GET /stories/<article_id>      one story, its places highlighted, a map    (stories.py)
  GET /api/points, /api/evidence, /api/places.geojson, /api/stats            (api.py)
  GET /api/version               the store's version, polled by the open map (live.py)
  POST /api/uploads              story files dropped on the map, ingested    (uploads.py)
  GET /export.<fmt>?VIEW         the filtered view as geojson, csv or gpkg   (exports.py)
  GET /embed?VIEW                the map alone, read-only, for an iframe      (embed.py)
  GET /basemap/countries.geojson, /basemap/labels.geojson, /vendor/<package>/<file> (assets.py)
  GET/POST /login, POST /logout  editors sign in and out                     (auth.py)
  GET /api/mentions/<id>/candidates, /api/places/search, /api/corrections,
  POST /api/corrections, DELETE /api/corrections/<id>                        (corrections.py)
  GET /review?VIEW, /review/log?VIEW   the review queue, the corrections log (review.py)

Every request's Host header is checked first (hosts.py); every write must
carry the session's CSRF token (sessions.py) and pass ``auth.write_access``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, render_template, request
from werkzeug.exceptions import BadRequest, HTTPException

from mapapp.errors import ConfigError, QueryError, StoreError
from mapapp.settings import DEFAULTS, PROJECT_ROOT, Settings, load_settings
from mapapp.text import strip_bidi
from mapapp.web import cache, hosts, security, sessions, uploads
from mapapp.web.api import api_bp
from mapapp.web.assets import assets_bp
from mapapp.web.auth import auth_bp
from mapapp.web.context import json_response
from mapapp.web.corrections import FINDER_KEY, PlaceFinder, corrections_bp
from mapapp.web.embed import embed_bp
from mapapp.web.events import events_bp
from mapapp.web.exports import exports_bp
from mapapp.web.live import live_bp
from mapapp.web.map import map_bp
from mapapp.web.review import review_bp
from mapapp.web.stories import stories_bp

log = logging.getLogger(__name__)


def create_app(
    config: Settings | Mapping[str, Any] | None = None,
    place_search: PlaceFinder | None = None,
    *,
    ingest_files: uploads.IngestFiles | None = None,
) -> Flask:
    """Build the app from ``Settings``, or from overrides of them and of Flask's own keys.

    A mapping is split: mapapp's setting names (``STORE``, ``TILES``...) are
    validated into ``Settings`` (over the defaults and ``MAPAPP_*``); Flask's
    own keys (``TESTING``, ``MAX_CONTENT_LENGTH``...) go to ``app.config``.
    ``place_search`` answers ``/api/places/search`` (the CLI wires the gazetteer's).
    ``ingest_files`` (see ``uploads.IngestFiles``) lets the map take uploads: the
    web layer cannot ingest by itself, so the command line hands it one.
    """
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"))
    app.add_template_filter(strip_bidi, "nobidi")  # story text can never reorder the page
    if isinstance(config, Settings):
        settings, flask_keys = config, {}
    else:
        given = dict(config or {})
        flask_keys = {k: v for k, v in given.items() if k not in DEFAULTS}
        unknown = sorted(k for k in flask_keys if k not in app.config)
        if unknown:
            raise ConfigError(
                f"unknown setting {unknown[0]!r}: neither a mapapp setting nor one of Flask's"
            )
        settings = load_settings({k: v for k, v in given.items() if k in DEFAULTS})
    app.config.from_mapping(flask_keys)
    app.config["MAPAPP_SETTINGS"] = settings
    cache.init_app(app)
    security.init_app(app)
    hosts.init_app(app)  # the Host allowlist, then the CSRF token, before any view
    sessions.init_app(app)
    if place_search is not None:
        app.extensions[FINDER_KEY] = place_search
    uploads.init_app(app, ingest_files)
    blueprints = (
        map_bp,
        stories_bp,
        api_bp,
        live_bp,
        uploads.uploads_bp,
        exports_bp,
        assets_bp,
        auth_bp,
        corrections_bp,
        review_bp,
        embed_bp,
        events_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(QueryError, query_error)
    app.register_error_handler(StoreError, store_error)
    return app


def _wants_json() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


def http_error(error: HTTPException) -> tuple[Any, int]:
    """An error page (or JSON under /api) that shows the sentence given to abort()."""
    code = error.code or 500
    if _wants_json():
        return json_response({"error": error.description, "status": code}, status=code), code
    return render_template(
        "error.html", code=code, name=error.name, description=error.description
    ), code


def query_error(error: QueryError) -> tuple[Any, int]:
    """A query the map cannot read (a bad date, role, bbox...): a 400 with its sentence."""
    return http_error(BadRequest(str(error)))


def store_error(error: StoreError) -> tuple[Any, int]:
    """The store file is unreadable: say so instead of a bare 500."""
    log.error("store error: %s", error)
    message = f"The store could not be read: {error}"
    if _wants_json():
        return json_response({"error": message, "status": 503}, status=503), 503
    return render_template(
        "error.html", code=503, name="Store unavailable", description=message
    ), 503
