"""The view as a print map (PNG, SVG) and as one HTML file that opens offline, from disk.

Each download is checked for what it must hold: the PNG's pixel size and
resolution (300 dpi on A4 or letter, landscape), the SVG's text (title,
dates, legend, credits, place names), the HTML's markers drawn in Chromium
from ``file://`` with every network request aborted.  Hostile story text
(``<script>``, ``${...}``, ``{{...}}``) stays text in all three.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date
from html import unescape
from xml.etree import ElementTree

import pytest
from conftest import make_story
from helpers import installed_data_packages
from PIL import Image

from mapapp.records import Place
from mapapp.settings import load_settings

TIMEOUT = 15_000  # ms
SVG = "{http://www.w3.org/2000/svg}"
JINJA = "{{7*7}}"
HOSTILE_HEADLINE = f"Vote in Sucre {JINJA} <script>alert(3)</script> ${{alert(4)}}"
SUCRE = Place(
    3903987, f"Sucre {JINJA}</style>", -19.03332, -65.26274, "P", "PPLC", "BO", "01", "", 224_838
)


@pytest.fixture
def hostile(store):
    """The store plus one story whose headline and place name carry Jinja and script text."""
    article, resolutions = make_story(
        "sucre-0425",
        date(2024, 4, 25),
        HOSTILE_HEADLINE,
        f"SUCRE -- Voters queued in Sucre {JINJA}</style> at dawn.",
        [("SUCRE", SUCRE, "dateline"), (f"Sucre {JINJA}</style>", SUCRE, "focus")],
        url="https://news.example/sucre",
    )
    store.add([(article, resolutions)])
    return store


def svg_text(data: bytes) -> str:
    """Every text node of an SVG, joined (the file parsed as XML: it must be well-formed)."""
    root = ElementTree.fromstring(data)
    assert root.tag == SVG + "svg"
    return " ".join(t.strip() for t in root.itertext() if t.strip())


# -- PNG and SVG ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "pixels", "name"),
    [
        ("", (3507, 2481), "mapapp-all-dates-map-a4.png"),
        ("paper=letter", (3300, 2550), "mapapp-all-dates-map-letter.png"),
        (
            "start=2024-03-01&end=2024-04-30",
            (3507, 2481),
            "mapapp-2024-03-01_2024-04-30-map-a4.png",
        ),
    ],
)
def test_png_is_a_300_dpi_landscape_page(client, query, pixels, name):
    response = client.get(f"/export.png?{query}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    image = Image.open(io.BytesIO(response.data))
    image.verify()
    image = Image.open(io.BytesIO(response.data))
    assert image.format == "PNG" and image.size == pixels
    assert [round(d) for d in image.info["dpi"]] == [300, 300]
    small = image.convert("RGB").resize((image.width // 10, image.height // 10))
    colours = {
        small.getpixel((x, y)) for x in range(0, small.width, 7) for y in range(0, small.height, 7)
    }
    assert len(colours) > 10  # a drawn map, not a blank page


def test_svg_holds_title_dates_legend_credits_and_places(client):
    response = client.get("/export.svg?start=2024-03-01&end=2024-04-30&undated=0")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(response.data)
    assert (root.get("width"), root.get("height")) == ("841.68pt", "595.44pt")  # A4 landscape
    text = svg_text(response.data)
    for wanted in (
        "Reported events",
        "2024-03-01 to 2024-04-30",
        "6 places in 4 stories",
        "Legend",
        "Town or city",
        "Country or region (an area, not a spot)",
        "Places: GeoNames (CC BY 4.0)",
        "Outlines: Natural Earth",
        "Damascus",
        "Geneva",
        "Lagos",
    ):
        assert wanted in text, wanted
    assert "Tokyo" not in text  # May: outside the dates


def test_print_map_names_the_basemap_around_the_places(client):
    installed_data_packages(load_settings().data_packages)
    text = svg_text(client.get("/export.svg?country=SY").data)
    assert {"LEBANON", "IRAQ", "Beirut", "Baghdad"} <= set(text.split())  # as on the web map
    assert text.count("Damascus") == 1  # the place drawn, not its basemap name over it


def test_svg_of_an_empty_view_says_so(client):
    text = svg_text(client.get("/export.svg?q=nothing-matches-this").data)
    assert "No stories match this view" in text and "0 places in 0 stories" in text


def test_hostile_text_stays_text_in_the_print_maps(client, hostile, payloads):
    query = {"q": f"<script>alert(1)</script>{payloads.template}{JINJA}"}
    svg = client.get("/export.svg", query_string=query)
    assert svg.status_code == 200
    root = ElementTree.fromstring(svg.data)
    tags = {element.tag.removeprefix(SVG) for element in root.iter()}
    assert not tags & {"script", "foreignObject", "img", "iframe"}, tags
    assert not any(k.startswith("on") for e in root.iter() for k in e.attrib)
    assert f"“<script>alert(1)</script>{payloads.template}{JINJA}”" in svg_text(svg.data)
    # the place names as stored, drawn literally (mathtext off: '$' stays a dollar)
    names = svg_text(client.get("/export.svg").data)
    assert f"Sucre {JINJA}</style>" in names and "Quito ${alert(1)}" in names
    assert "49" not in names
    png = client.get("/export.png", query_string=query)
    assert png.status_code == 200 and Image.open(io.BytesIO(png.data)).format == "PNG"


def test_bad_paper_is_400(client):
    response = client.get("/export.png?paper=a3")
    assert response.status_code == 400 and "a4 or letter" in response.get_data(as_text=True)


def test_map_page_offers_the_map_downloads(client):
    html = client.get("/?start=2024-03-01").get_data(as_text=True)
    for fmt in ("png", "svg", "html"):
        assert f'data-format="{fmt}" href="/export.{fmt}?start=2024-03-01"' in html


# -- the offline HTML ----------------------------------------------------------------------


def offline_file(client, tmp_path, query: str = ""):
    response = client.get(f"/export.html?{query}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    path = tmp_path / re.search(r'filename="([^"]+)"', response.headers["Content-Disposition"])[1]
    path.write_bytes(response.data)
    return path, response.get_data(as_text=True)


def test_offline_html_needs_nothing_from_anywhere(client, tmp_path, hostile, payloads):
    path, html = offline_file(client, tmp_path)
    assert path.name == "mapapp-all-dates-map-offline.html"
    policy = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)[1])
    assert "default-src 'none'" in policy and "'unsafe-inline'" not in policy
    assert not re.search(r"""src\s*=\s*["']?(https?:|//)""", html)  # no remote asset
    assert not re.search(r"""url\(\s*["']?(https?:|//)""", html)
    assert "<link" not in html and "@import" not in html
    # hostile text is only ever inside JSON strings, escaped
    for raw in (HOSTILE_HEADLINE, payloads.script, payloads.sentinel, f"{JINJA}</style>"):
        assert raw not in html, raw
    assert html.count("</style>") == html.count("<style>") == 3  # only the file's own
    assert html.count("</script>") == html.count("<script") == 6
    data = json.loads(re.search(r'id="mapapp-view">(.*?)</script>', html, re.S)[1])
    headlines = {s[0] for p in data["places"] for s in p["stories"]}
    assert HOSTILE_HEADLINE in headlines and f"{payloads.template} {payloads.script}" in headlines
    assert all(
        s[2] is None or s[2].startswith("https://") for p in data["places"] for s in p["stories"]
    )


@pytest.mark.browser
def test_offline_html_opens_from_disk_with_the_network_blocked(
    browser, client, tmp_path, hostile, payloads
):
    path, _ = offline_file(client, tmp_path, "start=2024-04-01&end=2024-04-30&undated=0")
    context = browser.new_context(viewport={"width": 1000, "height": 650})
    requests: list[str] = []
    errors: list[str] = []
    dialogs: list[str] = []

    def block(route):  # the file itself may load; anything else is recorded and refused
        requests.append(route.request.url)
        if route.request.url == path.as_uri():
            route.continue_()
        else:
            route.abort()

    context.route("**/*", block)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_selector("#map[data-markers]")
    places = int(page.get_attribute("#map", "data-markers"))
    assert places == 3  # April's dated stories: Lagos, Quito, Sucre
    assert page.locator(".leaflet-overlay-pane canvas").count() == 1  # the outlines
    assert page.locator(".leaflet-marker-pane path.mapapp-offline-point").count() == places
    assert "2024-04-01 to 2024-04-30" in page.locator(".mapapp-offline-title").inner_text()
    assert "GeoNames" in page.locator(".leaflet-control-attribution").inner_text()
    page.wait_for_selector("#map[data-labels=ready]", state="attached")  # inlined, not fetched
    popups = []
    for marker in page.locator("path.mapapp-offline-point").all():
        marker.click(force=True)
        popup = page.locator(".mapapp-offline-popup")
        popup.wait_for()
        popups.append((popup.locator("h3").inner_text(), popup.locator("li").all_inner_texts()))
        page.locator(".leaflet-popup-close-button").click()
        popup.wait_for(state="detached")
    page.screenshot(path=str(tmp_path / "offline.png"))
    by_place = dict(popups)
    assert by_place[f"Sucre {JINJA}</style>"] == [f"2024-04-25{HOSTILE_HEADLINE}"]
    quito = next(v for k, v in by_place.items() if k.startswith("Quito"))
    assert quito == [f"2024-04-20{payloads.template} {payloads.script}"]
    assert page.locator(".mapapp-offline-popup script, .mapapp-offline-popup img").count() == 0
    assert page.evaluate("window.__pwned") is None and dialogs == [] and errors == []
    assert requests == [path.as_uri()]
    context.close()


@pytest.mark.browser
def test_print_maps_display_in_chromium(browser, client, tmp_path, hostile):
    query = {"q": "<script>alert(1)</script>", "country": ""}
    files = {}
    for fmt in ("png", "svg"):
        files[fmt] = tmp_path / f"view.{fmt}"
        files[fmt].write_bytes(client.get(f"/export.{fmt}").data)
    files["hostile"] = tmp_path / "hostile.svg"
    files["hostile"].write_bytes(client.get("/export.svg", query_string=query).data)
    context = browser.new_context(viewport={"width": 1200, "height": 850})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for name, pixels in (("png", (3507, 2481)), ("svg", (1122, 794))):  # SVG: 841.68pt at 96 dpi
        page.goto(tmp_path.as_uri() + "/")
        size = page.evaluate(
            """(src) => new Promise((done, fail) => {
                const img = new Image();
                img.onload = () => done([img.naturalWidth, img.naturalHeight]);
                img.onerror = () => fail(new Error('not an image: ' + src));
                img.src = src;
            })""",
            files[name].as_uri(),
        )
        assert tuple(size) == pixels, name
    page.goto(files["hostile"].as_uri())  # the SVG as a document of its own: nothing runs
    assert page.evaluate("document.documentElement.localName") == "svg"
    assert page.locator("script").count() == 0 and dialogs == []
    page.screenshot(path=str(tmp_path / "hostile-svg.png"))
    assert "<script>alert(1)</script>" in page.evaluate("document.documentElement.textContent")
    context.close()
