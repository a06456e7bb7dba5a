"""The map and story pages in headless Chromium, against a live server.

Each test records every request the page makes (all must go to 127.0.0.1),
dismisses and records any dialog, and checks that no payload set the
``window.__pwned`` sentinel.  Screenshots go to the test's tmp_path.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
READY = ".mapapp-dates[data-state=ready]"
TIMEOUT = 15_000  # ms


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (Debian's) for the whole session."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no chromium on PATH (apt-get install chromium); browser tests need it")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Watched:
    """A page plus what it did: requests, failed requests, dialogs, console errors."""

    def __init__(self, page, base_url: str) -> None:
        self.page, self.base = page, base_url
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
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

    def wait_ready(self) -> dict[str, int]:
        """Wait until map.js has drawn the places; return its counts."""
        self.page.wait_for_selector(READY)
        form = self.page.locator(".mapapp-dates")
        return {key: int(form.get_attribute(f"data-{key}"))
                for key in ("places", "stories", "mentions")}

    def assert_clean(self) -> None:
        """Nothing left the machine, nothing ran that should not have."""
        foreign = [u for u in self.requests
                   if urlsplit(u).scheme not in ("data", "blob")
                   and urlsplit(u).hostname != "127.0.0.1"]
        assert foreign == [], foreign
        assert self.dialogs == [], self.dialogs
        assert self.page.evaluate("window.__pwned") is None
        assert self.page.evaluate("window.__sentinel") == "intact"
        assert self.errors == [], self.errors


@pytest.fixture
def watched(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    watch = Watched(page, live_server)
    yield watch
    watch.assert_clean()
    context.close()


def visible_places(page) -> int:
    """Places on screen: lone markers plus the places counted inside cluster icons."""
    return page.evaluate("""() => {
        const lone = document.querySelectorAll('.leaflet-marker-pane .mapapp-place').length;
        let clustered = 0;
        document.querySelectorAll('.leaflet-marker-pane .marker-cluster span')
            .forEach(s => { clustered += parseInt(s.textContent, 10); });
        return lone + clustered;
    }""")


def wait_visible_places(page, expected: int) -> None:
    page.wait_for_function("""(n) => {
        const lone = document.querySelectorAll('.leaflet-marker-pane .mapapp-place').length;
        let c = 0;
        document.querySelectorAll('.leaflet-marker-pane .marker-cluster span')
            .forEach(s => { c += parseInt(s.textContent, 10); });
        return lone + c === n;
    }""", arg=expected)


def test_map_shows_clustered_places(watched, counts, tmp_path):
    watched.goto("/")
    got = watched.wait_ready()
    places, stories = counts()
    assert (got["places"], got["stories"]) == (places, stories)
    page = watched.page
    assert page.locator(".mapapp-count").inner_text() == f"{places} places in {stories} stories"
    wait_visible_places(page, places)
    assert page.locator(".marker-cluster").count() >= 1  # Damascus, Syria, Aleppo cluster
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "GeoNames (CC BY 4.0)" in attribution and "Natural Earth" in attribution
    page.screenshot(path=str(tmp_path / "map.png"))


def test_basemap_outlines_are_drawn(watched, outlines, tmp_path):
    watched.goto("/")
    page = watched.page
    page.wait_for_selector(".mapapp-map[data-basemap=ready]")
    # Land is painted on the canvas over the ocean colour of the map's background.
    page.wait_for_function("""() => {
        const c = document.querySelector('.leaflet-overlay-pane canvas');
        if (!c) return false;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let land = 0;
        for (let i = 0; i < d.length; i += 4 * 97) if (d[i + 3] > 0) land++;
        return land > 50;
    }""")
    assert any(u.endswith("/basemap/countries.geojson") for u in watched.requests)
    watched.wait_ready()
    page.screenshot(path=str(tmp_path / "basemap.png"))


def test_date_range_refetches_without_reload(watched, counts, tmp_path):
    page = watched.page
    watched.goto("/")
    watched.wait_ready()
    page.evaluate("window.__sameDocument = true")
    page.fill(".mapapp-dates input[name=start]", "2024-03-01")
    page.fill(".mapapp-dates input[name=end]", "2024-03-31")
    page.click(".mapapp-apply")
    page.wait_for_url(re.compile(r"\?start=2024-03-01&end=2024-03-31$"))
    got = watched.wait_ready()
    assert (got["places"], got["stories"]) == counts(date(2024, 3, 1), date(2024, 3, 31))
    wait_visible_places(page, got["places"])
    assert page.evaluate("window.__sameDocument") is True  # no page load happened
    page.wait_for_selector(".mapapp-map[data-basemap]")
    page.screenshot(path=str(tmp_path / "march.png"))

    page.click(".mapapp-clear")
    page.wait_for_url(re.compile(r"/$"))
    got = watched.wait_ready()
    assert (got["places"], got["stories"]) == counts()

    page.fill(".mapapp-dates input[name=start]", "2024-05-01")
    page.fill(".mapapp-dates input[name=end]", "2024-04-01")
    page.click(".mapapp-apply")
    assert "after the end date" in page.locator(".mapapp-error").inner_text()


def test_first_load_honours_the_range_in_the_url(watched, counts):
    watched.goto("/?start=2024-04-01&end=2024-04-30")
    got = watched.wait_ready()
    assert (got["places"], got["stories"]) == counts(date(2024, 4, 1), date(2024, 4, 30))
    page = watched.page
    assert page.input_value(".mapapp-dates input[name=start]") == "2024-04-01"
    assert page.input_value(".mapapp-dates input[name=end]") == "2024-04-30"


def test_area_and_point_markers_look_different(watched):
    watched.goto("/?start=2024-03-15&end=2024-03-15")  # Geneva (city), Syria (country)
    assert watched.wait_ready()["places"] == 2
    page = watched.page
    wait_visible_places(page, 2)
    assert page.locator(".mapapp-place.mapapp-area").count() == 1
    assert page.locator(".mapapp-place.mapapp-point").count() == 1
    ring = page.locator(".mapapp-area").evaluate("e => getComputedStyle(e).backgroundColor")
    dot = page.locator(".mapapp-point").evaluate("e => getComputedStyle(e).backgroundColor")
    assert ring == "rgba(0, 0, 0, 0)" and dot != ring


def test_marker_popup_links_to_the_story(watched, payloads):
    watched.goto("/?start=2024-04-10&end=2024-04-10")  # Lagos only
    assert watched.wait_ready()["places"] == 1
    page = watched.page
    page.locator(".leaflet-marker-pane .mapapp-place").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert popup.locator("h3").inner_text() == "Lagos"
    assert "Lagos, NG" in popup.inner_text()
    link = popup.locator("a.mapapp-headline")
    assert link.inner_text() == payloads.img  # shown as text, not parsed
    link.click()
    page.wait_for_url(re.compile(r"/stories/lagos-0410$"))
    assert page.locator("h2.headline").inner_text() == payloads.img
    assert page.locator(".story-text mark.place").count() == 2


def test_story_page_highlights_places_and_maps_them(watched, tmp_path):
    watched.goto("/stories/syria-0301")
    page = watched.page
    marks = page.locator(".story-text mark.place")
    assert marks.all_inner_texts() == ["DAMASCUS", "Damascus", "Syria", "Aleppo",
                                       "Nowhere Junction", "Damascus"]
    assert page.locator(".story-text mark.unresolved").inner_text() == "Nowhere Junction"
    assert page.locator(".places li").count() == 3
    assert page.locator(".story-map path.leaflet-interactive").count() == 3
    page.locator(".story-text mark a", has_text="Aleppo").click()
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert tooltip.inner_text().startswith("Aleppo")
    assert page.url.endswith("#place-170063")
    page.wait_for_selector(".story-map [data-basemap=ready]")
    page.screenshot(path=str(tmp_path / "story.png"), full_page=True)
    page.click("text=Back to the map")
    page.wait_for_url(re.compile(r"/$"))


def test_payloads_never_run(watched, payloads):
    page = watched.page
    watched.goto("/?start=2024-04-01&end=2024-04-30")  # Lagos and Quito carry payloads
    watched.wait_ready()
    wait_visible_places(page, 2)
    texts = []
    for index in range(page.locator(".leaflet-marker-pane .mapapp-place").count()):
        page.locator(".leaflet-marker-pane .mapapp-place").nth(index).click()
        page.locator(".leaflet-popup-content").wait_for()
        texts.append(page.locator(".leaflet-popup-content").inner_text())
        page.locator(".leaflet-popup-close-button").click()
        page.locator(".leaflet-popup").wait_for(state="detached")
    joined = "\n".join(texts)
    assert payloads.img in joined and payloads.template in joined and payloads.script in joined
    for story in ("xss-0420", "lagos-0410"):
        watched.goto(f"/stories/{story}")
        page.locator(".story-map path.leaflet-interactive").first.hover()
        page.locator(".leaflet-tooltip").wait_for()
    watched.goto("/stories/xss-0420")
    assert page.locator(".story-text").inner_text().count(payloads.script) == 1
    assert page.locator("a.original").count() == 0  # javascript: url is not linked
    assert page.evaluate("document.querySelectorAll('.story img, .leaflet-popup img').length") == 0
