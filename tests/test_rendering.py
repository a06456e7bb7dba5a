"""Map HTML and data from mapapp.maps: local assets only, the basemap, safe labels."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import folium
import pytest

from mapapp.maps import elements
from mapapp.maps.elements import StoryMap, render_map
from mapapp.maps.outlines import outlines_geojson, split_antimeridian
from mapapp.maps.points import highlight, points_payload
from mapapp.maps.story import mark_places, render_story_map, story_places
from mapapp.maps.view import MapView, filter_mentions, map_mentions, place_kind
from mapapp.records import MAP_ROLES

ASSET = re.compile(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"')


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def asset_urls(html: str) -> list[str]:
    return ASSET.findall(html)


def test_main_map_uses_only_local_assets():
    html = render_map()
    urls = asset_urls(html)
    assert "/vendor/leaflet/leaflet.js" in urls and "/vendor/leaflet/leaflet.css" in urls
    assert "/vendor/markercluster/leaflet.markercluster.js" in urls
    assert "/static/map.js" in urls
    assert (
        urls.index("/static/mapdata.js")
        < urls.index("/static/timeline.js")
        < urls.index("/static/map.js")
    )  # map.js uses the other two
    assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert not re.search(r"https?://", html)
    assert "bootstrap" not in html and "awesome" not in html


def test_asset_root_prefixes_every_asset():
    urls = asset_urls(render_map(asset_root="/news-map/"))
    assert urls and all(u.startswith("/news-map/") for u in urls), urls


def test_main_map_has_basemap_and_places_layer_but_no_markers():
    html = normalize(
        render_map(
            MapView(start=date(2024, 3, 1)),
            points_url="/api/points",
            basemap_url="/basemap/countries.geojson",
        )
    )
    assert 'fetch("/basemap/countries.geojson"' in html
    assert "L.geoJSON(null" in html
    assert "mapapp.placesLayer(" in html
    options = json.loads(re.search(r"mapapp\.placesLayer\( \w+, (\{.*?\})\);", html).group(1))
    assert options["url"] == "/api/points" and options["fit"] is True
    assert options["state"]["start"] == "2024-03-01" and options["state"]["end"] == ""
    assert options["state"]["roles"] == list(MAP_ROLES)
    assert "L.marker(" not in html and "L.circleMarker(" not in html
    assert "L.tileLayer(" not in html  # offline: no tiles unless configured


def test_map_opens_on_the_view_it_is_given():
    view = MapView(lat=33.5, lon=36.3, zoom=7)
    html = normalize(render_map(view))
    assert '"center": [33.5, 36.3]' in html or "center: [33.5, 36.3]" in html
    assert '"zoom": 7' in html
    options = json.loads(re.search(r"mapapp\.placesLayer\( \w+, (\{.*?\})\);", html).group(1))
    assert options["fit"] is False  # the URL placed the map: do not refit it


@pytest.mark.parametrize(
    ("view", "params"),
    [
        (MapView(), {}),
        (
            MapView(start=date(2024, 3, 1), end=date(2024, 3, 31), undated=False),
            {"start": "2024-03-01", "end": "2024-03-31", "undated": "0"},
        ),
        (
            MapView(
                q="Damascus", country="SY", roles=("dateline", "focus"), min_score=0.5, areas=False
            ),
            {
                "q": "Damascus",
                "country": "SY",
                "role": "dateline,focus",
                "min_score": "0.5",
                "areas": "0",
            },
        ),
        (MapView(roles=()), {"role": ""}),
        (MapView(lat=1.5, lon=-2.25, zoom=4), {"lat": "1.5000", "lon": "-2.2500", "zoom": "4"}),
    ],
)
def test_view_params_name_only_what_differs(view, params):
    assert view.params() == params
    assert "lat" not in view.params(view=False)


@pytest.mark.parametrize(
    ("sentence", "written", "expected"),
    [
        (
            "Talks opened in Damascus on Friday.",
            "Damascus",
            ("Talks opened in ", "Damascus", " on Friday."),
        ),
        ("DAMASCUS -- Talks opened.", "Damascus", ("", "DAMASCUS", " -- Talks opened.")),
        ("No name here.", "Homs", ("No name here.", "", "")),
        ("", "Homs", ("", "", "")),
    ],
)
def test_highlight_marks_the_written_name(sentence, written, expected):
    assert highlight(sentence, written) == expected


def test_highlight_trims_long_sentences_around_the_name():
    before, match, after = highlight("a" * 500 + " Homs " + "b" * 500, "Homs", context=20)
    assert match == "Homs"
    assert before.startswith("\u2026") and len(before) <= 21
    assert after.endswith("\u2026") and len(after) <= 21


def test_points_payload_sends_each_string_once(store):
    frame = map_mentions(store.mentions(include_undated=True))
    data = points_payload(frame, "v1")
    stories, places, mentions = data["stories"], data["places"], data["mentions"]
    assert data["version"] == "v1" and data["roles"] == list(MAP_ROLES)
    assert len(stories["id"]) == 6 and len(places["key"]) == 9
    assert len(mentions["story"]) == len(frame) == 17
    damascus = places["key"].index("g170654")
    assert (places["lat"][damascus], places["lon"][damascus]) == (33.5102, 36.29128)
    assert places["area"][places["key"].index("g163843")] == 1  # Syria is an area
    # Mention i is row i of the frame, so /api/evidence can find its sentence.
    for i in (0, 7, 16):
        row = frame.iloc[i]
        assert stories["id"][mentions["story"][i]] == row["article_id"]
        assert places["key"][mentions["place"][i]] == f"g{int(row['geonameid'])}"
        assert MAP_ROLES[mentions["role"][i]] == row["role"]
        assert mentions["score"][i] == round(row["score"] * 1000)
    assert stories["published"][stories["id"].index("paris-undated")] is None
    assert data["country_names"]["SY"] == "Syria" and set(data["country_names"]) == {
        "SY",
        "CH",
        "NG",
        "EC",
        "JP",
        "FR",
    }


def test_empty_payload(store):
    frame = map_mentions(store.mentions(start=date(2030, 1, 1)))
    data = points_payload(frame)
    assert data["stories"]["id"] == [] and data["places"]["key"] == []
    assert data["mentions"]["story"] == []


@pytest.mark.parametrize(
    ("view", "articles"),
    [
        (
            MapView(),
            {"syria-0301", "geneva-0315", "lagos-0410", "xss-0420", "tokyo-0502", "paris-undated"},
        ),
        (
            MapView(start=date(2024, 3, 1), end=date(2024, 3, 31)),
            {"syria-0301", "geneva-0315", "paris-undated"},
        ),
        (
            MapView(start=date(2024, 3, 1), end=date(2024, 3, 31), undated=False),
            {"syria-0301", "geneva-0315"},
        ),
        (MapView(q="tokyo"), {"tokyo-0502"}),
        (MapView(q="talks OPEN"), {"syria-0301"}),  # a headline
        (MapView(country="sy", undated=False), {"syria-0301", "geneva-0315"}),
        (MapView(roles=("dateline",), end=date(2024, 3, 10), undated=False), {"syria-0301"}),
        (MapView(min_score=0.95), set()),
    ],
)
def test_filter_mentions(store, view, articles):
    frame = map_mentions(store.mentions(include_undated=True))
    assert set(filter_mentions(frame, view)["article_id"]) == articles


def test_filter_mentions_hides_areas_and_keeps_roles(store):
    frame = map_mentions(store.mentions(include_undated=True))
    shown = filter_mentions(frame, MapView(areas=False))
    assert "Syria" not in set(shown["resolved_name"]) and "France" not in set(
        shown["resolved_name"]
    )
    only = filter_mentions(frame, MapView(roles=("mention",)))
    assert set(only["role"]) == {"mention"}


def test_attributions_are_always_shown():
    html = render_map()
    assert '"Places: GeoNames (CC BY 4.0)"' in html
    assert '"Outlines: Natural Earth"' in html


def test_tiles_when_configured():
    html = render_map(
        tiles="https://tiles.example/{z}/{x}/{y}.png", tiles_attribution="Tiles: Example"
    )
    assert "L.tileLayer(" in html and "Tiles: Example" in html


def test_folium_class_lists_stay_untouched():
    before = (list(folium.Map.default_js), list(folium.Map.default_css))
    m = StoryMap()
    m.add_js_link("extra", "/static/extra.js")
    render_map()
    assert (folium.Map.default_js, folium.Map.default_css) == before
    assert ("extra", "/static/extra.js") not in StoryMap.default_js


def test_an_external_asset_is_refused():
    m = StoryMap()
    m.add_js_link("cdn", "https://cdn.example/evil.js")
    with pytest.raises(ValueError, match="not served by mapapp"):
        elements.map_fragment(m)


def test_story_map_marks_each_place_once_in_lat_lon(store):
    html = normalize(render_story_map(store.mentions(article_id="syria-0301")))
    assert html.count("L.circleMarker(") == 3
    assert "L.circleMarker( [33.5102, 36.29128]," in html  # (lat, lon) for Leaflet
    assert '"className": "mapapp-story-area"' in html  # Syria is a hollow ring
    assert "fitBounds(" in html


def test_story_map_labels_are_text_not_markup(store, payloads):
    html = render_story_map(store.mentions(article_id="xss-0420"))
    assert "<img" not in html and "</script><script>" not in html
    assert "`" not in html  # no template literal for ${...} to run in
    label = re.search(r"label\.textContent = (\".*?\");", html).group(1)
    assert json.loads(label).startswith(f"Quito {payloads.template} {payloads.sentinel}")
    assert "bindPopup" not in html and "innerHTML" not in html


def test_map_scripts_set_no_global_of_their_own(store):
    """Our static scripts read the page (data-point) or are handed the map: no window.x = ..."""
    for html in (render_map(), render_story_map(store.mentions(article_id="syria-0301"))):
        assert not re.search(r"window\.[\w$]+\s*=(?!=)", html)
        assert "L_NO_TOUCH" not in html and "mapappPoints" not in html
    story = render_story_map(store.mentions(article_id="syria-0301"))
    assert 'element.setAttribute("data-point", "place-170063");' in story


def test_empty_story_map_renders(store):
    html = render_story_map(store.mentions(article_id="nothing-here"))
    assert "L.map(" in html and "L.circleMarker(" not in html


def test_static_scripts_never_use_html_sinks():
    static = Path(elements.__file__).parent.parent / "web" / "static"
    names = (
        "map.js",
        "mapdata.js",
        "timeline.js",
        "story.js",
        "dom.js",
        "urlstate.js",
        "controls.js",
        "clusters.js",
        "outlines.js",
        "popups.js",
        "storylist.js",
        "labels.js",
        "embedcode.js",
        "offline.js",
        "events.js",
        "live.js",
        "notices.js",
        "viewlinks.js",
        "upload.js",
        "corrections.js",
        "review.js",
    )
    assert sorted(path.name for path in static.glob("*.js")) == sorted(names)  # none unchecked
    writes_no_text = (
        *("story.js", "mapdata.js", "urlstate.js", "outlines.js", "map.js"),
        *("notices.js", "viewlinks.js"),
    )
    for name in names:
        source = (static / name).read_text()
        for sink in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            'bindTooltip("',
            'setContent("',
        ):
            assert sink not in source, (name, sink)
        assert "textContent" in source or "mapapp.dom.el" in source or name in writes_no_text


@pytest.mark.parametrize(
    ("feature_class", "feature_code", "kind"),
    [
        ("A", "PCLI", "area"),
        ("A", "ADM1", "area"),
        ("L", "RGN", "area"),
        (None, "PCLD", "area"),
        ("P", "PPLC", "point"),
        ("P", "PPL", "point"),
        (float("nan"), None, "point"),
        ("H", "LK", "area"),
        ("T", "MT", "area"),
    ],
)
def test_place_kind(feature_class, feature_code, kind):
    assert place_kind(feature_class, feature_code) == kind


def test_story_places_are_distinct_and_keep_how_they_were_written(store):
    places = story_places(store.mentions(article_id="syria-0301"))
    assert [p.name for p in places] == ["Damascus", "Syria", "Aleppo"]
    assert places[0].written == ("DAMASCUS", "Damascus")
    assert (places[0].latitude, places[0].longitude) == (33.5102, 36.29128)
    assert places[1].kind == "area" and places[1].key == "place-163843"


def test_mark_places_splits_at_offsets():
    text = "Talks in Damascus and Homs."
    spans = [{"start": 22, "end": 26}, {"start": 9, "end": 17}]
    segments = mark_places(text, spans)
    assert "".join(s.text for s in segments) == text
    assert [s.text for s in segments if s.mention] == ["Damascus", "Homs"]


@pytest.mark.parametrize(
    "spans",
    [
        [{"start": 9, "end": 17}, {"start": 12, "end": 20}],  # overlap: the second is dropped
        [{"start": 9, "end": 17}, {"start": 20, "end": 99}],  # past the end
        [{"start": 5, "end": 5}],  # empty
    ],
)
def test_mark_places_skips_bad_spans(spans):
    text = "Talks in Damascus and Homs."
    segments = mark_places(text, spans)
    assert "".join(s.text for s in segments) == text
    assert len([s for s in segments if s.mention]) <= 1


def test_outlines_from_a_small_topojson(tmp_path):
    topology = {
        "type": "Topology",
        "objects": {
            "countries": {
                "type": "GeometryCollection",
                "geometries": [
                    {
                        "type": "Polygon",
                        "arcs": [[0]],
                        "id": "1",
                        "properties": {"name": "Squareland"},
                    },
                    {
                        "type": "Polygon",
                        "arcs": [[1]],
                        "id": "2",
                        "properties": {"name": "Dateline"},
                    },
                ],
            }
        },
        "arcs": [
            [[10.123456, 10.0], [20.0, 10.0], [20.0, 20.0], [10.123456, 20.0], [10.123456, 10.0]],
            [[170.0, -10.0], [-170.0, -10.0], [-170.0, -20.0], [170.0, -20.0], [170.0, -10.0]],
        ],
    }
    path = tmp_path / "countries-110m.json"
    path.write_text(json.dumps(topology))
    data = json.loads(outlines_geojson(path))
    by_name = {f["properties"]["name"]: f["geometry"] for f in data["features"]}
    assert set(by_name) == {"Squareland", "Dateline"}
    ring = by_name["Squareland"]["coordinates"][0]
    assert [10.12, 10.0] in ring  # rounded to two decimals
    # The polygon across the antimeridian is cut in two, with no edge spanning the map.
    dateline = by_name["Dateline"]
    assert dateline["type"] == "MultiPolygon"
    for polygon in dateline["coordinates"]:
        xs = [x for x, _ in polygon[0]]
        assert max(xs) - min(xs) <= 10.0 + 1e-9


def test_split_antimeridian_leaves_ordinary_polygons_alone():
    from shapely.geometry import box

    square = box(0, 0, 1, 1)
    assert split_antimeridian(square).equals(square)


def test_real_outlines_have_no_edge_across_the_map(outlines):
    data = json.loads(outlines_geojson(outlines))
    assert len(data["features"]) > 150
    for feature in data["features"]:
        geometry = feature["geometry"]
        polygons = (
            geometry["coordinates"]
            if geometry["type"] == "MultiPolygon"
            else [geometry["coordinates"]]
        )
        for polygon in polygons:
            for ring in polygon:
                for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
                    assert abs(x1 - x0) <= 180 or abs(y0) == abs(y1) == 90, feature["properties"]
