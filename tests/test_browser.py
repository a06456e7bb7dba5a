"""The map and story pages in headless Chromium, doing what a reader does.

One Chromium for the session and one live server for the module (the
stories of conftest plus one low-confidence story).  Each test records every
request the page makes (all must go to 127.0.0.1), dismisses and records any
dialog, and checks that no payload set the ``window.__pwned`` sentinel.
Screenshots of each step go to the test's tmp_path.

Without chromium the tests skip, except under CI (CI=true), where they fail.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import make_story, serving, story_records

from mapapp.records import MAP_ROLES, Place

pytestmark = pytest.mark.browser

READY = ".mapapp-filters[data-state=ready]"
TIMEOUT = 15_000  # ms
SPRINGFIELD = Place(
    4409896, "Springfield", 37.21533, -93.29824, "P", "PPLA2", "US", "MO", "Missouri", 169_176
)


def low_confidence_story():
    """A story whose one place the resolver was unsure of (score 0.3)."""
    article, (resolution,) = make_story(
        "springfield-0428",
        date(2024, 4, 28),
        "Fair opens in Springfield",
        "SPRINGFIELD -- The county fair opened.",
        [("SPRINGFIELD", SPRINGFIELD, "dateline")],
        dateline="SPRINGFIELD",
    )
    return article, [dataclasses.replace(resolution, score=0.3)]


@pytest.fixture(scope="module")
def site_store(tmp_path_factory):
    from mapapp.stores import open_store

    store = open_store(tmp_path_factory.mktemp("browser") / "mapapp.gpkg")
    store.add([*story_records(), low_confidence_story()])
    return store


@pytest.fixture(scope="module")
def site(site_store, tmp_path_factory):
    from mapapp.web import create_app

    app = create_app(
        {
            "TESTING": True,
            "STORE": str(site_store.path),
            "CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
        }
    )
    with serving(app) as base_url:
        yield base_url


def expected(store, start=None, end=None, *, undated=True, roles=MAP_ROLES):
    """(places, stories, mentions) the store holds for a view, as the map must show them."""
    frame = store.mentions(start, end, include_undated=undated)
    if not undated:
        frame = frame[frame["published"].notna()]
    frame = frame[frame["role"].isin(roles)]
    return (int(frame["geonameid"].nunique()), int(frame["article_id"].nunique()), len(frame))


class Watched:
    """A page plus what it did: requests, failed requests, dialogs, console errors."""

    def __init__(self, page, base_url: str, shots) -> None:
        self.page, self.base, self.shots = page, base_url, shots
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.add_init_script("window.__sentinel = 'intact';")
        page.set_default_timeout(TIMEOUT)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def goto(self, path: str):
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, (path, response and response.status)
        return response

    def counts(self) -> tuple[int, int, int]:
        """Wait until map.js has drawn; return its (places, stories, mentions)."""
        self.page.wait_for_selector(READY, state="attached")
        form = self.page.locator(".mapapp-filters")
        return tuple(
            int(form.get_attribute(f"data-{key}")) for key in ("places", "stories", "mentions")
        )

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"))

    def assert_clean(self) -> None:
        """Nothing left the machine, nothing ran that should not have."""
        foreign = [
            u
            for u in self.requests
            if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).hostname != "127.0.0.1"
        ]
        assert foreign == [], foreign
        assert self.dialogs == [], self.dialogs
        assert self.page.evaluate("window.__pwned") is None
        assert self.page.evaluate("window.__sentinel") == "intact"
        assert self.errors == [], self.errors


@pytest.fixture
def watched(browser, site, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    watch = Watched(page, site, tmp_path)
    yield watch
    watch.assert_clean()
    context.close()


VISIBLE = """() => {
    const lone = document.querySelectorAll('.leaflet-marker-pane .mapapp-place').length;
    let clustered = 0;
    document.querySelectorAll('.leaflet-marker-pane .marker-cluster span')
        .forEach(s => { clustered += parseInt(s.textContent, 10); });
    return lone + clustered;
}"""


def wait_visible_places(page, expected_places: int) -> None:
    """Wait until the lone markers plus the places inside cluster icons number ``n``."""
    page.wait_for_function(f"(n) => ({VISIBLE})() === n", arg=expected_places)


def open_popup(page, marker):
    """Click ``marker`` until its popup opens: a click that lands while a redraw replaces the
    marker (the map settling after a view change, on a loaded machine) opens nothing."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(3):
        page.wait_for_load_state("networkidle")
        marker.click()
        try:
            page.locator(".leaflet-popup").wait_for(timeout=5000)
            return settled_popup(page)
        except PlaywrightTimeout:
            continue
    raise AssertionError("no popup opened after three clicks")


def settled_popup(page):
    """The open popup once its evidence is in and its fade-in is over (for screenshots)."""
    popup = page.locator(".mapapp-popup[data-evidence=ready]")
    popup.wait_for()
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
    )
    return popup


def url_params(page) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query, keep_blank_values=True).items()}


def brush(page, start: str, end: str) -> None:
    """Drag across the timeline from the middle of day ``start`` to that of ``end``."""
    box = page.locator(".mapapp-timeline-svg").bounding_box()
    xs = page.evaluate(
        """([a, b]) => {
        const t = window.mapapp.layer.timeline, d = window.mapapp.dayNumber;
        return [(t.x(d(a)) + t.x(d(a) + 1)) / 2, (t.x(d(b)) + t.x(d(b) + 1)) / 2];
    }""",
        [start, end],
    )
    y = box["y"] + box["height"] / 2 - 8
    page.mouse.move(box["x"] + xs[0], y)
    page.mouse.down()
    page.mouse.move(box["x"] + (xs[0] + xs[1]) / 2, y, steps=4)
    page.mouse.move(box["x"] + xs[1], y, steps=4)
    page.mouse.up()


# -- the map -------------------------------------------------------------------


def test_map_shows_every_place_clustered(watched, site_store):
    page = watched.page
    watched.goto("/")
    places, stories, mentions = expected(site_store)
    assert watched.counts() == (places, stories, mentions)
    wait_visible_places(page, places)
    assert page.locator(".marker-cluster").count() >= 1  # Damascus, Syria, Aleppo
    assert page.locator(".mapapp-count").inner_text() == (
        f"{places} places in {stories} stories ({mentions} mentions)"
    )
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "GeoNames (CC BY 4.0)" in attribution and "Natural Earth" in attribution
    assert "Low confidence" in page.locator(".mapapp-legend").inner_text()
    page.wait_for_function("() => location.search.includes('zoom=')")  # the view is in the URL
    assert sorted(u for u in watched.requests if "/api/" in u) == [
        watched.base + "/api/events",  # the events layer's (none in this store)
        watched.base + "/api/points",
    ]
    watched.shot("map")


def test_basemap_and_country_outlines_are_drawn(watched, outlines):
    page = watched.page
    watched.goto("/")
    page.wait_for_selector(".mapapp-map[data-basemap=ready]")
    watched.counts()
    # Land is painted on the canvas over the ocean colour of the map's background.
    page.wait_for_function("""() => {
        const c = document.querySelector('.leaflet-overlay-pane canvas');
        if (!c) return false;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let land = 0;
        for (let i = 0; i < d.length; i += 4 * 97) if (d[i + 3] > 0) land++;
        return land > 50;
    }""")
    # Syria and France are named as countries: their outlines are drawn, not just rings.
    page.wait_for_selector(".mapapp-filters[data-outlines='2']", state="attached")
    watched.shot("basemap")
    page.uncheck(".mapapp-filters input[type=checkbox][name=areas]")
    page.wait_for_selector(".mapapp-filters[data-outlines='0']", state="attached")
    assert page.locator(".leaflet-marker-pane .mapapp-area").count() == 0


def test_brushing_the_timeline_refilters_in_the_page(watched, site_store):
    page = watched.page
    watched.goto("/?undated=0")
    watched.counts()
    page.evaluate("window.__sameDocument = true")
    brush(page, "2024-03-01", "2024-03-31")
    page.wait_for_function("() => location.search.includes('end=2024-03-31')")
    params = url_params(page)
    assert (params["start"], params["end"]) == ("2024-03-01", "2024-03-31")
    places, stories, mentions = expected(
        site_store, date(2024, 3, 1), date(2024, 3, 31), undated=False
    )
    assert watched.counts() == (places, stories, mentions)
    wait_visible_places(page, places)
    assert page.input_value("input[name=start]") == "2024-03-01"
    assert page.input_value("input[name=end]") == "2024-03-31"
    watched.shot("brushed-march")

    # The keyboard moves the range by a day; Escape clears it.
    page.focus(".mapapp-timeline")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => location.search.includes('end=2024-04-01')")
    assert watched.counts() == expected(
        site_store, date(2024, 3, 2), date(2024, 4, 1), undated=False
    )
    page.keyboard.press("Escape")
    page.wait_for_function("() => !location.search.includes('start=')")
    assert watched.counts() == expected(site_store, undated=False)
    assert page.evaluate("window.__sameDocument") is True  # no page load happened
    assert [u for u in watched.requests if "/api/points" in u or "places.geojson" in u] == [
        watched.base + "/api/points"
    ]  # loaded once, filtered in the page


def test_presets_dates_and_the_undated_toggle(watched, site_store):
    page = watched.page
    watched.goto("/")
    watched.counts()
    page.click("button[data-preset='7']")  # the newest story is 2024-05-02
    page.wait_for_function("() => location.search.includes('start=2024-04-26')")
    assert watched.counts() == expected(site_store, date(2024, 4, 26), date(2024, 5, 2))
    page.uncheck("input[type=checkbox][name=undated]")
    page.wait_for_function("() => location.search.includes('undated=0')")
    assert watched.counts() == expected(
        site_store, date(2024, 4, 26), date(2024, 5, 2), undated=False
    )
    watched.shot("last-7-days")
    page.click("button[data-preset='all']")
    assert watched.counts() == expected(site_store, undated=False)
    page.fill("input[name=start]", "2024-05-01")
    page.fill("input[name=end]", "2024-04-01")
    page.locator("input[name=end]").dispatch_event("change")
    assert "after the end date" in page.locator(".mapapp-error").inner_text()


def test_a_permalink_opens_the_same_view(watched, browser, site_store, tmp_path):
    page = watched.page
    watched.goto("/?undated=0")
    watched.counts()
    page.fill("input[name=q]", "syria")
    page.locator(".leaflet-control-zoom-in").click()
    page.wait_for_function("""() => {  // the address bar follows the map after 150 ms
        const m = window.mapapp.layer.map, p = new URLSearchParams(location.search);
        return p.get('q') === 'syria' && +p.get('zoom') === m.getZoom() &&
               Math.abs(+p.get('lat') - m.getCenter().lat) < 1e-3;
    }""")
    link = page.url
    before = watched.counts()
    view = page.evaluate(
        "(() => { const m = window.mapapp.layer.map, c = m.getCenter(); "
        "return [c.lat.toFixed(3), c.lng.toFixed(3), m.getZoom()]; })()"
    )
    watched.shot("before-link")

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    other = context.new_page()
    again = Watched(other, watched.base, tmp_path)
    other.goto(link)
    assert again.counts() == before
    assert (
        other.evaluate(
            "(() => { const m = window.mapapp.layer.map, c = m.getCenter(); "
            "return [c.lat.toFixed(3), c.lng.toFixed(3), m.getZoom()]; })()"
        )
        == view
    )
    assert other.input_value("input[name=q]") == "syria"
    assert not other.is_checked("input[type=checkbox][name=undated]")
    again.shot("after-link")
    again.assert_clean()
    context.close()


def test_cluster_marker_popup_and_story_link(watched, site_store):
    page = watched.page
    # Damascus, Syria and Aleppo, zoomed out so that they cluster.
    watched.goto("/?start=2024-03-01&end=2024-03-01&undated=0&lat=34&lon=37&zoom=3")
    assert watched.counts()[0] == 3
    wait_visible_places(page, 3)
    zoom = page.evaluate("window.mapapp.layer.map.getZoom()")
    page.locator(".marker-cluster").first.click()
    page.wait_for_function("(z) => window.mapapp.layer.map.getZoom() > z", arg=zoom)
    page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-marker-pane .mapapp-place').length === 3"
    )
    watched.shot("cluster-opened")
    page.locator(".leaflet-marker-pane .mapapp-point[title=Damascus]").click()
    popup = settled_popup(page)
    assert popup.locator("h3").inner_text() == "Damascus"
    assert popup.locator(".mapapp-where").inner_text() == "Dimashq, Syria (SY)"
    assert "best score 0.90" in popup.inner_text()
    quote = popup.locator("blockquote.mapapp-evidence")
    assert quote.locator("mark").inner_text() == "DAMASCUS"  # the dateline, best of the story
    assert quote.inner_text().startswith("DAMASCUS -- Talks opened in Damascus")
    watched.shot("popup")
    popup.locator("a.mapapp-headline", has_text="Talks open in Damascus").click()
    page.wait_for_url(
        re.compile(r"/stories/syria-0301\?map=[^#]*zoom[^#]*$")
    )  # the view comes along
    assert page.locator("h2.headline").inner_text() == "Talks open in Damascus"
    page.locator(".story-nav a.newer").click()
    page.wait_for_url(re.compile(r"/stories/geneva-0315\?map=[^#]*zoom[^#]*$"))


def test_areas_and_uncertain_places_look_different(watched):
    page = watched.page
    watched.goto("/?start=2024-03-15&end=2024-04-30&undated=0&country=")
    watched.counts()
    page.evaluate("() => { window.mapapp.layer.map.setView([20, -20], 2, {animate: false}); }")
    page.wait_for_selector(".leaflet-marker-pane .mapapp-area")
    ring = page.locator(".leaflet-marker-pane .mapapp-area").first.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    dot = page.locator(".leaflet-marker-pane .mapapp-point").first.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert ring == "rgba(0, 0, 0, 0)" and dot != ring
    unsure = page.locator(".leaflet-marker-pane .mapapp-uncertain")
    assert unsure.count() == 1 and unsure.get_attribute("title") == "Springfield"
    assert unsure.evaluate("e => getComputedStyle(e).borderStyle") == "dashed"
    popup = open_popup(page, unsure)
    assert "Low confidence" in popup.inner_text() and "0.30" in popup.inner_text()
    watched.shot("uncertain")


def test_search_country_roles_and_score(watched, site_store):
    page = watched.page
    watched.goto("/?undated=0")
    watched.counts()
    page.fill("input[name=q]", "LAGOS")
    page.wait_for_function("() => location.search.includes('q=LAGOS')")
    assert watched.counts() == (1, 1, 2)
    wait_visible_places(page, 1)
    watched.shot("search-lagos")
    page.fill("input[name=q]", "")
    page.select_option("select[name=country]", "SY")
    page.wait_for_function("() => location.search.includes('country=SY')")
    # Syria's places: Damascus, Syria, Aleppo (the Geneva story mentions Syria too).
    assert watched.counts() == (3, 2, 6)
    page.uncheck("input[type=checkbox][name=role][value=mention]")
    page.wait_for_function("() => location.search.includes('role=dateline%2Cfocus')")
    assert watched.counts() == (1, 1, 2)  # Damascus as dateline and focus
    page.select_option("select[name=country]", "")
    page.check("input[type=checkbox][name=role][value=mention]")
    page.locator("input[name=min_score]").evaluate(
        "e => { e.value = '0.5'; e.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    page.wait_for_function("() => location.search.includes('min_score=0.5')")
    all_places, all_stories, all_mentions = expected(site_store, undated=False)
    assert watched.counts() == (all_places - 1, all_stories - 1, all_mentions - 1)  # Springfield
    watched.shot("score-0.5")


def test_side_list_follows_the_map_and_the_keyboard(watched):
    page = watched.page
    watched.goto("/?undated=0")
    stories = watched.counts()[1]
    items = page.locator(".mapapp-list button.mapapp-story")
    assert items.count() == stories
    assert items.first.inner_text() == "Markets rally in Tokyo"  # newest first
    page.evaluate("() => { window.mapapp.layer.map.setView([35.7, 139.7], 6, {animate: false}); }")
    page.wait_for_function("() => document.querySelectorAll('.mapapp-list li').length === 1")
    assert page.locator(".mapapp-list-count").inner_text() == "1 story in view"
    page.evaluate("() => { window.mapapp.layer.map.setView([20, 10], 2, {animate: false}); }")
    page.wait_for_function(
        "(n) => document.querySelectorAll('.mapapp-list li').length === n", arg=stories
    )
    items.first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == items.nth(2).inner_text()
    page.keyboard.press("Enter")
    popup = settled_popup(page)
    assert focused in popup.inner_text()
    watched.shot("list-enter")


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
def test_export_downloads_the_view(watched, site_store, tmp_path, fmt):
    import geopandas
    import pandas

    page = watched.page
    watched.goto("/?undated=0")
    watched.counts()
    brush(page, "2024-03-01", "2024-04-15")
    page.uncheck("input[type=checkbox][name=role][value=mention]")
    page.wait_for_function("() => location.search.includes('role=')")
    mentions = watched.counts()[2]
    with page.expect_download() as info:
        page.click(f"a.mapapp-export[data-format={fmt}]")
    path = tmp_path / f"view.{fmt}"
    info.value.save_as(path)
    assert info.value.suggested_filename == f"mapapp-dateline-focus-2024-03-01_2024-04-15.{fmt}"
    frame = pandas.read_csv(path) if fmt == "csv" else geopandas.read_file(path)
    assert len(frame) == mentions
    expected_ids = {"syria-0301", "geneva-0315", "lagos-0410"}
    assert set(frame["article_id"]) == expected_ids
    assert set(frame["role"]) == {"dateline", "focus"}


# -- story pages and hostile text ------------------------------------------------


def test_story_page_highlights_places_and_maps_them(watched):
    page = watched.page
    watched.goto("/stories/syria-0301")
    marks = page.locator(".story-text mark.place")
    assert marks.all_inner_texts() == [
        "DAMASCUS",
        "Damascus",
        "Syria",
        "Aleppo",
        "Nowhere Junction",
        "Damascus",
    ]
    assert page.locator(".story-text mark.unresolved").inner_text() == "Nowhere Junction"
    assert page.locator(".places li").count() == 3
    assert page.locator(".story-map path.leaflet-interactive").count() == 3
    page.locator(".story-text mark a", has_text="Aleppo").click()
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert tooltip.inner_text().startswith("Aleppo")
    assert page.url.endswith("#place-170063")
    assert page.evaluate("typeof window.mapappPoints") == "undefined"  # found by data-point
    page.wait_for_selector(".story-map [data-basemap=ready]")
    page.screenshot(path=str(watched.shots / "story.png"), full_page=True)
    page.locator(".places li", has_text="Aleppo").locator("a.on-map").click()
    page.wait_for_url(re.compile(r"/\?lat=36\.2012&lon=37\.1612&zoom=7"))
    watched.counts()
    assert page.evaluate("window.mapapp.layer.map.getZoom()") == 7


def test_payloads_never_run(watched, payloads):
    page = watched.page
    watched.goto("/?start=2024-04-01&end=2024-04-25&undated=0")  # Lagos and Quito
    watched.counts()
    wait_visible_places(page, 2)
    texts = []
    for index in range(2):
        page.locator(".leaflet-marker-pane .mapapp-place").nth(index).click()
        page.locator(".mapapp-popup[data-evidence=ready]").wait_for()
        texts.append(page.locator(".leaflet-popup-content").inner_text())
        page.locator(".leaflet-popup-close-button").click()
        page.locator(".leaflet-popup").wait_for(state="detached")
    joined = "\n".join(texts)
    assert payloads.img in joined and payloads.template in joined and payloads.script in joined
    assert payloads.sentinel in joined  # in Quito's sentence, shown as text
    listed = page.locator(".mapapp-list").inner_text()
    assert payloads.img in listed and payloads.script in listed
    page.fill("input[name=q]", payloads.sentinel)
    page.wait_for_function("() => location.search.includes('q=')")
    watched.counts()
    for story in ("xss-0420", "lagos-0410"):
        watched.goto(f"/stories/{story}")
        page.locator(".story-map path.leaflet-interactive").first.hover()
        page.locator(".leaflet-tooltip").wait_for()
    watched.goto("/stories/xss-0420")
    assert page.locator(".story-text").inner_text().count(payloads.script) == 1
    assert page.locator("a.original").count() == 0  # javascript: url is not linked
    assert page.evaluate("document.querySelectorAll('.story img, .leaflet-popup img').length") == 0
