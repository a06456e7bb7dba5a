"""The small things readers tripped over, each checked as a reader meets it.

"Back to the map" keeps the view; a story page's place clicks leave one
history entry; every date on the page is ISO; an empty state when nothing
matches, with a button that clears the filters; a loading state over the map;
the legend folded on a narrow screen; a chosen country is zoomed to; the
download's name says what it holds; the README's quick start covers a
newcomer's first own stories.  Browser tests use headless Chromium (skipped
without it, failed under CI).
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import serving, story_records
from helpers import ROOT
from test_browser import READY, Watched, url_params

from mapapp.maps.export import export_name
from mapapp.maps.view import MapView

ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONTH_WORDS = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec|January|February|March|April|June"
    r"|July|August|September|October|November|December)\b"
)


@pytest.fixture(scope="module")
def ux_site(tmp_path_factory):
    from mapapp.stores import open_store
    from mapapp.web import create_app

    folder = tmp_path_factory.mktemp("ux")
    open_store(folder / "ux.gpkg").add(story_records())
    app = create_app(
        {"TESTING": True, "STORE": str(folder / "ux.gpkg"), "CACHE_DIR": str(folder / "cache")}
    )
    with serving(app) as base_url:
        yield base_url


def open_page(browser, base_url, shots, **context):
    context = browser.new_context(**({"viewport": {"width": 1280, "height": 800}} | context))
    return context, Watched(context.new_page(), base_url, shots)


@pytest.fixture
def ux(browser, ux_site, tmp_path):
    context, watch = open_page(browser, ux_site, tmp_path)
    yield watch
    watch.assert_clean()
    context.close()


# -- the download's name -----------------------------------------------------------


@pytest.mark.parametrize(
    ("view", "name"),
    [
        (MapView(), "mapapp-all-dates.geojson"),
        (
            MapView(country="SY", start=date(2017, 11, 1), end=date(2017, 11, 30)),
            "mapapp-syria-2017-11-01_2017-11-30.geojson",
        ),
        (MapView(start=date(2024, 3, 1)), "mapapp-from-2024-03-01.geojson"),
        (MapView(end=date(2024, 3, 1)), "mapapp-to-2024-03-01.geojson"),
        (MapView(country="CI"), "mapapp-ivory-coast-all-dates.geojson"),
        (
            MapView(q="Homs / Hama!", min_score=0.5),
            "mapapp-search-homs-hama-score-0.5-all-dates.geojson",
        ),
        (MapView(roles=("dateline", "focus")), "mapapp-dateline-focus-all-dates.geojson"),
        (MapView(q="../<script>"), "mapapp-search-script-all-dates.geojson"),
        (MapView(q="\u0634\u0627\u0645"), "mapapp-all-dates.geojson"),  # nothing ASCII to keep
    ],
)
def test_the_download_is_named_for_what_it_holds(view, name):
    assert export_name(view, "geojson") == name


def test_the_server_sends_the_download_under_that_name(client):
    response = client.get("/export.csv?country=SY&start=2024-03-01&end=2024-03-31")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="mapapp-syria-2024-03-01_2024-03-31.csv"'
    )


# -- back to the map (server side) ---------------------------------------------------


@pytest.mark.parametrize(
    ("came_from", "back"),
    [
        (None, "/"),
        ("q=aid&lat=33.5000&lon=36.3000&zoom=6", "/?q=aid&lat=33.5000&lon=36.3000&zoom=6"),
        ("start=2024-03-01&role=dateline", "/?start=2024-03-01&role=dateline"),
        ("start=not-a-day", "/"),  # a mangled view only costs the view
        ("zoom=99&lat=1&lon=1", "/"),
    ],
)
def test_a_story_page_links_back_to_the_view_it_was_opened_from(client, came_from, back):
    query = {"map": came_from} if came_from else {}
    html = client.get("/stories/syria-0301", query_string=query).get_data(as_text=True)
    assert f'<a class="back" href="{back.replace("&", "&amp;")}">' in html
    nav = re.search(r'<a class="newer" rel="next" href="([^"]+)"', html)[1].replace("&amp;", "&")
    carried = parse_qs(urlsplit(nav).query).get("map")
    assert carried == ([urlsplit(back).query] if urlsplit(back).query else None)


# -- in the browser ------------------------------------------------------------------


@pytest.mark.browser
def test_back_to_the_map_keeps_the_view(ux):
    page = ux.page
    ux.goto("/?start=2024-03-01&end=2024-04-30&q=damascus&lat=33.0000&lon=36.0000&zoom=5")
    page.wait_for_selector(READY, state="attached")
    page.wait_for_function("() => location.search.includes('zoom=5')")
    view = url_params(page)
    page.locator(".mapapp-list a.mapapp-open").first.click()
    page.wait_for_url(re.compile(r"/stories/syria-0301\?map="))
    page.locator("a.back").click()
    page.wait_for_url(re.compile(r"/\?"))
    page.wait_for_selector(READY, state="attached")
    assert url_params(page) == view
    assert page.input_value("input[name=q]") == "damascus"
    assert page.evaluate("window.mapapp.layer.map.getZoom()") == 5


@pytest.mark.browser
def test_place_clicks_on_a_story_page_leave_one_history_entry(ux):
    page = ux.page
    ux.goto("/stories/syria-0301")
    page.wait_for_selector(".story-map [data-basemap=ready]")
    entries = page.evaluate("history.length")
    for name in ("Aleppo", "Syria", "DAMASCUS", "Aleppo"):
        page.locator(".story-text mark a", has_text=re.compile(f"^{name}$")).click()
    assert page.evaluate("history.length") == entries
    assert page.url.endswith("#place-170063")  # the last place clicked
    assert page.locator(".places li.is-target").count() == 1
    assert "Aleppo" in page.locator(".places li.is-target").inner_text()


@pytest.mark.browser
def test_every_date_on_the_page_is_iso(ux):
    page = ux.page
    ux.goto("/?undated=1")
    page.wait_for_selector(READY, state="attached")
    page.locator(".leaflet-marker-pane .mapapp-place").first.click()
    page.locator(".mapapp-popup[data-evidence=ready]").wait_for()
    dates = page.evaluate("""() => [
        ...[...document.querySelectorAll('.mapapp-timeline text.mapapp-axis')]
            .map(e => e.textContent),
        ...[...document.querySelectorAll('.mapapp-list-meta, .mapapp-popup .mapapp-date')]
            .map(e => e.textContent).filter(t => t !== 'undated'),
    ]""")
    assert dates and all(ISO_DAY.match(d) for d in dates), dates
    titles = page.evaluate(
        "[...document.querySelectorAll('.mapapp-timeline rect title')].map(t => t.textContent)"
    )
    assert titles and all(re.match(r"^\d{4}-\d{2}-\d{2}(: | \u2013 )", t) for t in titles), titles
    assert not MONTH_WORDS.search(page.locator("body").inner_text())
    for name in ("start", "end"):
        field = page.locator(f"input[name={name}]")
        assert field.get_attribute("placeholder") == "YYYY-MM-DD"
    page.fill("input[name=start]", "1/3/2024")
    page.locator("input[name=start]").dispatch_event("change")
    assert "Bad date '1/3/2024': use YYYY-MM-DD" in page.locator(".mapapp-error").inner_text()
    ux.goto("/stories/geneva-0315")
    assert page.locator("time.published").inner_text() == "2024-03-15"
    assert not MONTH_WORDS.search(page.locator("main").inner_text())


@pytest.mark.browser
def test_nothing_matching_says_so_and_clears_the_filters(ux):
    page = ux.page
    ux.goto("/?q=atlantis&country=SY&min_score=0.5&lat=20.0000&lon=10.0000&zoom=3")
    page.wait_for_selector(READY, state="attached")
    empty = page.locator(".mapapp-empty")
    empty.wait_for(state="visible")
    assert empty.inner_text().strip() == "No stories match \u2014 clear filters"
    ux.shot("empty-state")
    page.locator(".mapapp-empty button", has_text="clear filters").click()
    empty.wait_for(state="hidden")
    page.wait_for_function("() => !location.search.includes('q=')")
    params = url_params(page)
    assert set(params) == {"lat", "lon", "zoom"}  # the filters went, the view stayed
    assert page.input_value("input[name=q]") == ""
    assert page.input_value("select[name=country]") == ""
    assert page.locator(".mapapp-filters").get_attribute("data-places") == str(
        page.evaluate("window.mapapp.layer.data.placeCount")
    )


@pytest.mark.browser
def test_an_empty_store_says_how_to_add_stories(browser, tmp_path):
    from mapapp.web import create_app

    app = create_app(
        {"TESTING": True, "STORE": str(tmp_path / "none.gpkg"), "CACHE_DIR": str(tmp_path / "c")}
    )
    with serving(app) as base_url:
        context, watch = open_page(browser, base_url, tmp_path)
        watch.goto("/")
        watch.page.wait_for_selector(READY, state="attached")
        empty = watch.page.locator(".mapapp-empty")
        empty.wait_for(state="visible")
        assert empty.get_attribute("data-reason") == "no-stories"
        assert "mapapp ingest" in empty.inner_text()
        assert watch.page.locator(".mapapp-empty-match").is_hidden()
        watch.assert_clean()
        context.close()


@pytest.mark.browser
def test_the_map_shows_that_it_is_loading_until_the_points_are_drawn(ux):
    page = ux.page
    held = []
    page.route("**/api/points", lambda route: held.append(route))
    page.goto(ux.base + "/")
    loading = page.locator(".mapapp-loading")
    loading.wait_for(state="visible")
    for _ in range(100):  # the route's handler runs as Playwright delivers the request
        if held:
            break
        page.wait_for_timeout(50)
    assert loading.get_attribute("role") == "status"
    assert loading.inner_text() == "Loading the places\u2026"
    ux.shot("loading")
    assert held, "the points were never asked for"
    held[0].continue_()
    page.wait_for_selector(READY, state="attached")
    loading.wait_for(state="hidden")


@pytest.mark.browser
@pytest.mark.parametrize(("width", "opened"), [(1280, True), (600, False)])
def test_the_legend_is_folded_on_a_narrow_screen(browser, ux_site, tmp_path, width, opened):
    context, watch = open_page(browser, ux_site, tmp_path, viewport={"width": width, "height": 900})
    watch.goto("/")
    watch.page.wait_for_selector(READY, state="attached")
    legend = watch.page.locator("details.mapapp-legend")
    assert legend.evaluate("e => e.open") is opened
    watch.shot(f"legend-{width}")
    watch.page.locator("details.mapapp-legend summary").click()  # and it still unfolds
    assert legend.evaluate("e => e.open") is not opened
    watch.assert_clean()
    context.close()


@pytest.mark.browser
def test_choosing_a_country_zooms_to_it(ux):
    page = ux.page
    ux.goto("/?lat=20.0000&lon=10.0000&zoom=2")
    page.wait_for_selector(READY, state="attached")
    page.select_option("select[name=country]", "JP")
    page.wait_for_function("() => window.mapapp.layer.map.getZoom() > 2")
    inside = page.evaluate(
        "() => window.mapapp.layer.map.getBounds().contains([35.6895, 139.69171])"
    )
    assert inside
    centre = page.evaluate("() => window.mapapp.layer.map.getCenter()")
    assert abs(centre["lat"] - 35.69) < 3 and abs(centre["lng"] - 139.69) < 3
    page.select_option("select[name=country]", "")  # "All countries" leaves the view alone
    zoom = page.evaluate("window.mapapp.layer.map.getZoom()")
    page.wait_for_selector(READY, state="attached")
    assert page.evaluate("window.mapapp.layer.map.getZoom()") == zoom


# -- the README -------------------------------------------------------------------


def test_the_quick_start_takes_a_newcomer_to_their_own_stories_on_the_map():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    for step in (
        ".venv/bin/mapapp ingest",
        ".venv/bin/mapapp serve",
        "source .venv/bin/activate",
        "skipped:",
        "drop",
    ):
        assert step in quick, step
