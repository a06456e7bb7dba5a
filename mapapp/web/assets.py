"""The assets blueprint: the offline basemap's outlines and the vendored JS/CSS packages.

GET /basemap/countries.geojson country outlines for the offline basemap
GET /basemap/labels.geojson    names of countries, capitals and cities on it, by zoom
GET /vendor/<package>/<file>   Leaflet, markercluster and jQuery, served locally
GET /vendor/axe-core/axe.min.js the accessibility checker the tests inject (no page loads it)
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request, send_from_directory

from mapapp.files import atomic_path
from mapapp.maps.elements import VENDOR, vendor_dir
from mapapp.maps.labels import LABELS_VERSION, label_sources, labels_geojson
from mapapp.maps.outlines import EMPTY_FEATURES, find_outlines, outlines_geojson
from mapapp.web.cache import app_cache
from mapapp.web.context import app_settings

log = logging.getLogger(__name__)

assets_bp = Blueprint("assets", __name__)

ONE_DAY = 24 * 3600
#: npm packages under MAPAPP_DATA_PACKAGES served as vendor files: package -> the files allowed.
NPM_VENDOR: dict[str, frozenset[str]] = {"axe-core": frozenset({"axe.min.js"})}


def _cached_outlines(source: Path) -> bytes:
    """The outlines as GeoJSON, built once and kept in the cache folder."""
    # v2: features carry their ISO alpha-2 code ("iso") for the country outlines
    target = app_settings().cache_folder / "basemap" / f"{source.stem}.v2.geojson"
    try:
        if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
            return target.read_bytes()
    except OSError:
        pass
    data = outlines_geojson(source)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as scratch:
            scratch.write_bytes(data)
    except OSError as err:
        log.warning("could not cache the basemap at %s: %s", target, err)
    return data


def basemap_bytes() -> bytes:
    """Country outlines as GeoJSON bytes; an empty collection without world-atlas."""
    cache = app_cache()
    if cache.basemap is None:
        source = find_outlines(app_settings().data_packages)
        if source is None:
            log.warning(
                "no world-atlas outlines under %s: the map has no basemap (run npm install)",
                app_settings().data_packages,
            )
            return EMPTY_FEATURES
        cache.basemap = _cached_outlines(source)
    return cache.basemap


@assets_bp.get("/basemap/countries.geojson")
def basemap() -> Response:
    """Country outlines (Natural Earth, via world-atlas) for the offline basemap.

    Sent gzipped when the client accepts it (a quarter of the bytes).
    """
    return geojson_response(basemap_bytes(), "basemap_gzip")


def geojson_response(data: bytes, gzip_slot: str) -> Response:
    """``data`` as a day-cacheable GeoJSON answer with an ETag, gzipped when accepted.

    The gzipped bytes are kept in the app cache's ``gzip_slot`` with the tag
    they were made for, so each version is compressed once.
    """
    cache = app_cache()
    tag = hashlib.sha256(data).hexdigest()[:32]
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        packed = getattr(cache, gzip_slot)
        if packed is None or packed[0] != tag:
            packed = (tag, gzip.compress(data, compresslevel=6))
            setattr(cache, gzip_slot, packed)
        response = current_app.response_class(packed[1], mimetype="application/geo+json")
        response.headers["Content-Encoding"] = "gzip"
        tag += "-gz"
    else:
        response = current_app.response_class(data, mimetype="application/geo+json")
    response.headers["Vary"] = "Accept-Encoding"
    response.set_etag(tag)
    response.cache_control.public = True
    response.cache_control.max_age = ONE_DAY
    return response.make_conditional(request)


def labels_bytes() -> bytes:
    """The basemap's labels as GeoJSON bytes, built once from the data packages and cached.

    The cached file is rebuilt when a source file is newer; without the data
    packages the collection is empty (the map still works, unnamed).
    """
    cache = app_cache()
    if cache.labels is not None:
        return cache.labels
    sources_root = app_settings().data_packages
    sources = [p for p in label_sources(sources_root) if p.is_file()]
    target = app_settings().cache_folder / "basemap" / f"labels.v{LABELS_VERSION}.geojson"
    try:
        newest = max((p.stat().st_mtime for p in sources), default=0.0)
        if target.is_file() and target.stat().st_mtime >= newest:
            cache.labels = target.read_bytes()
            return cache.labels
    except OSError:
        pass
    if not sources:
        log.warning("no label sources under %s: no names on the basemap", sources_root)
        return EMPTY_FEATURES
    data = labels_geojson(sources_root)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as scratch:
            scratch.write_bytes(data)
    except OSError as err:
        log.warning("could not cache the basemap labels at %s: %s", target, err)
    cache.labels = data
    return data


@assets_bp.get("/basemap/labels.geojson")
def labels() -> Response:
    """Names for the offline basemap (GeoNames and Natural Earth), each with its zoom and rank."""
    return geojson_response(labels_bytes(), "labels_gzip")


@assets_bp.get("/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str) -> Response:
    """A file of a vendored JS/CSS package (Leaflet, markercluster, jQuery).

    :raise 404: the package or the file is not ours to serve.
    """
    if package in NPM_VENDOR:
        if filename not in NPM_VENDOR[package]:
            abort(404, f"No file {filename!r} in the vendor package {package!r}.")
        folder = Path(app_settings().data_packages) / package
        return send_from_directory(folder, filename, max_age=ONE_DAY)
    if package not in VENDOR:
        abort(404, f"No vendor package {package!r}.")
    return send_from_directory(vendor_dir(package), filename, max_age=ONE_DAY)
