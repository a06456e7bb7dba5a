"""The folium elements of mapapp's maps, and the main map built from them.

Two maps are drawn, both as HTML fragments to drop into a page:

* ``render_map`` (here) is the main map.  It carries no markers itself: our
  scripts (``static/mapdata.js``, ``timeline.js``, ``map.js``) fetch every
  mention once as compact columns (``maps.points``), then filter, cluster and
  list them in the browser, so a change of dates or filters never waits on
  Python and the page stays small however many mentions the store holds.
* ``maps.story.render_story_map`` is the small map of one article's places.

Every script and stylesheet the maps load is served by our own app (the
``VENDOR`` packages and ``static/``); ``map_fragment`` refuses to render a map
that would load anything from another host.  Text from the data never becomes
markup: it reaches the page as JSON (``|tojson``) and is set with
``textContent``.  (folium's own ``Popup``/``Tooltip`` put raw text into a JS
template literal, so they are not used for untrusted text.)  No script written
here sets a global of its own: what our static scripts need from a map they
read from the page (``data-*`` attributes) or are handed as arguments.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
from branca.element import CssLink, JavascriptLink, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Environment as FoliumEnvironment
from folium.template import Template, tojavascript
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from mapapp.maps.view import MapView

#: The xstatic packages whose files Flask serves under ``/vendor/<name>/``.
VENDOR: dict[str, str] = {
    "leaflet": "xstatic.pkg.leaflet",
    "markercluster": "xstatic.pkg.leaflet_markercluster",
    "jquery": "xstatic.pkg.jquery",
}

#: Attribution always shown: the gazetteer's licence and the outlines' source.
GEONAMES_ATTRIBUTION = "Places: GeoNames (CC BY 4.0)"
NATURAL_EARTH_ATTRIBUTION = "Outlines: Natural Earth"

POINTS_URL = "/api/points"
EVIDENCE_URL = "/api/evidence"
BASEMAP_URL = "/basemap/countries.geojson"
LABELS_URL = "/basemap/labels.geojson"
WORLD_CENTRE = (20.0, 10.0)

LAND_STYLE = {
    "color": "#a8a294",
    "weight": 0.6,
    "fillColor": "#f3efe4",
    "fillOpacity": 1.0,
    "opacity": 1.0,
}
OCEAN_COLOUR = "#c9dfec"

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


def _local(pairs: Sequence[tuple[str, str]], root: str) -> list[tuple[str, str]]:
    """Asset (name, path) pairs re-rooted at the app's URL root."""
    base = root.rstrip("/")
    return [(name, base + url) for name, url in pairs]


class StoryMap(folium.Map):
    """A folium Map that loads Leaflet and friends from our own server.

    Starts without tiles (``tiles=None``); callers add ``OfflineBasemap`` and,
    when configured, a tile layer.  ``asset_root`` is the app's URL root (the
    WSGI script root plus "/").  The template is folium's, minus the rules that
    make the map fill the whole window and the ``L_NO_TOUCH``/``L_DISABLE_3D``
    globals (set after Leaflet has loaded they changed nothing), plus our
    attribution.
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

    def __init__(
        self,
        location: Sequence[float] | None = None,
        *,
        asset_root: str = "/",
        tiles: Any = None,
        ocean: str = OCEAN_COLOUR,
        max_zoom: int = 18,
        **kwargs: Any,
    ) -> None:
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

    def __init__(
        self,
        url: str = BASEMAP_URL,
        *,
        style: Mapping[str, Any] | None = None,
        attribution: str = NATURAL_EARTH_ATTRIBUTION,
    ) -> None:
        super().__init__(name="Countries", overlay=False, control=False)
        self._name = "OfflineBasemap"
        self.url = url
        self.style = dict(style or LAND_STYLE)
        self.attribution = attribution


class BasemapLabels(JSCSSMixin, MacroElement):
    """Names of countries, capitals and cities on the basemap (``maps.labels``), by zoom.

    Fetched once from our server and drawn by ``static/labels.js`` as plain
    text in a pane that takes no clicks and no focus.
    """

    default_js = [("mapapp_labels_js", "/static/labels.js")]
    default_css = [("mapapp_labels_css", "/static/labels.css")]

    _template = SafeTemplate("""
        {% macro script(this, kwargs) %}
            mapapp.basemapLabels({{ this._parent.get_name() }}, {{ this.url|tojson }});
        {% endmacro %}
    """)

    def __init__(self, url: str = LABELS_URL, *, asset_root: str = "/") -> None:
        super().__init__()
        self._name = "BasemapLabels"
        self.url = url
        self.default_js = _local(type(self).default_js, asset_root)
        self.default_css = _local(type(self).default_css, asset_root)


class PlacesLayer(JSCSSMixin, MacroElement):
    """The main map's mentions: loaded once, then filtered and clustered by our scripts.

    ``options`` (JSON) carries the URLs map.js needs and the initial state,
    which is the page's own URL as the server parsed it (``MapView.state``).
    """

    default_js = [
        ("mapapp_mapdata_js", "/static/mapdata.js"),
        ("mapapp_timeline_js", "/static/timeline.js"),
        ("mapapp_dom_js", "/static/dom.js"),
        ("mapapp_urlstate_js", "/static/urlstate.js"),
        ("mapapp_controls_js", "/static/controls.js"),
        ("mapapp_clusters_js", "/static/clusters.js"),
        ("mapapp_outlines_js", "/static/outlines.js"),
        ("mapapp_popups_js", "/static/popups.js"),
        ("mapapp_storylist_js", "/static/storylist.js"),
        ("mapapp_events_js", "/static/events.js"),
        ("mapapp_corrections_js", "/static/corrections.js"),
        ("mapapp_map_js", "/static/map.js"),
    ]
    default_css = [("mapapp_events_css", "/static/events.css")]

    _template = SafeTemplate("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = mapapp.placesLayer(
                {{ this._parent.get_name() }}, {{ this.options|tojson }});
        {% endmacro %}
    """)

    def __init__(
        self,
        url: str = POINTS_URL,
        *,
        view: MapView | None = None,
        evidence_url: str = EVIDENCE_URL,
        story_url: str = "/stories/ARTICLE-ID",
        export_url: str = "/export.FORMAT",
        asset_root: str = "/",
        events_url: str = "/api/events",
    ) -> None:
        super().__init__()
        self._name = "PlacesLayer"
        view = view or MapView()
        self.options = {
            "url": url,
            "evidenceUrl": evidence_url,
            "storyUrl": story_url,
            "exportUrl": export_url,
            "eventsUrl": events_url,
            "state": view.state(),
            "fit": view.zoom is None,
        }
        self.default_js = _local(type(self).default_js, asset_root)
        self.default_css = _local(type(self).default_css, asset_root)


class PointLabel(MacroElement):
    """A marker's text tooltip (set with textContent), its place key for story.js, and keys.

    The key goes on the marker's element as ``data-point`` (the same value as
    the story text's links); story.js finds the marker by it and sends it a
    ``mapapp:show`` event, on which the marker centres the map on itself and
    opens its tooltip.
    """

    _template = SafeTemplate("""
        {% macro script(this, kwargs) %}
            (function (marker) {
                var label = document.createElement("span");
                label.textContent = {{ this.text|tojson }};
                marker.bindTooltip(label, {direction: "top"});
                var element = marker.getElement();
                if (!element) { return; }
                element.setAttribute("data-point", {{ this.key|tojson }});
                // reachable by Tab like the main map's markers: Enter or Space shows it
                element.setAttribute("tabindex", "0");
                element.setAttribute("role", "button");
                element.setAttribute("aria-label", {{ this.text|tojson }});
                element.addEventListener("keydown", function (event) {
                    if (event.key === "Enter" || event.key === " ") {
                        event.preventDefault();
                        element.dispatchEvent(new CustomEvent("mapapp:show"));
                    }
                });
                element.addEventListener("blur", function () { marker.closeTooltip(); });
                element.addEventListener("mapapp:show", function () {
                    var map = marker._map;
                    if (map) {
                        map.setView(marker.getLatLng(), Math.max(map.getZoom(), 5));
                        marker.openTooltip();
                    }
                });
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
                raise ValueError(
                    f"map asset {url!r} is not served by mapapp; "
                    "declare a local URL in StoryMap.default_js/default_css"
                )


def map_fragment(m: folium.Map) -> Markup:
    """The map's header, body and script as one HTML fragment for a page's body."""
    figure = m.get_root()
    figure.render()
    _check_local(figure)
    header = "".join(
        child.render() for name, child in figure.header._children.items() if name != "meta_http"
    )
    return Markup(
        f"{header}\n{figure.html.render()}\n<script>\n{figure.script.render()}\n</script>\n"
    )


def base_map(
    location: Sequence[float] | None,
    zoom: int,
    *,
    asset_root: str,
    basemap_url: str,
    tiles: str | None,
    tiles_attribution: str | None,
    labels_url: str | None = None,
    **options: Any,
) -> StoryMap:
    """A StoryMap with the offline outlines (named when ``labels_url``), or a tile layer."""
    m = StoryMap(
        location,
        zoom_start=zoom,
        asset_root=asset_root,
        width="100%",
        height="100%",
        world_copy_jump=True,
        min_zoom=1,
        **options,
    )
    OfflineBasemap(basemap_url).add_to(m)
    if labels_url and not tiles:  # tiles carry their own names
        BasemapLabels(labels_url, asset_root=asset_root).add_to(m)
    if tiles:
        folium.TileLayer(
            tiles=tiles, attr=tiles_attribution or "Map tiles", name="Tiles", control=False
        ).add_to(m)
    return m


def render_map(
    view: MapView | None = None,
    *,
    points_url: str = POINTS_URL,
    evidence_url: str = EVIDENCE_URL,
    story_url: str = "/stories/ARTICLE-ID",
    export_url: str = "/export.FORMAT",
    basemap_url: str = BASEMAP_URL,
    tiles: str | None = None,
    tiles_attribution: str | None = None,
    asset_root: str = "/",
    labels_url: str | None = None,
    events_url: str = "/api/events",
) -> Markup:
    """The main map: outlines, optional tiles, and the places layer in ``view``.

    The map opens on the view's centre and zoom when the URL gave them (else
    map.js fits it to the places); ``story_url`` and ``export_url`` are
    templates in which map.js replaces ARTICLE-ID and FORMAT.
    """
    view = view or MapView()
    placed = view.zoom is not None and view.lat is not None and view.lon is not None
    m = base_map(
        (view.lat, view.lon) if placed else WORLD_CENTRE,
        view.zoom if placed else 2,
        asset_root=asset_root,
        basemap_url=basemap_url,
        tiles=tiles,
        tiles_attribution=tiles_attribution,
        labels_url=labels_url,
        position="absolute",
    )
    PlacesLayer(
        points_url,
        view=view,
        evidence_url=evidence_url,
        story_url=story_url,
        export_url=export_url,
        asset_root=asset_root,
        events_url=events_url,
    ).add_to(m)
    return map_fragment(m)
