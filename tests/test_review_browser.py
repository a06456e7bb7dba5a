"""Correcting places in the browser: "Wrong place?" on the map, /review from the keyboard, the log.

Each test runs on both store backends (the conftest ``store`` fixture, here
filled with the stories below, whose mentions carry the candidates the
resolver weighed) against a live server, in headless Chromium.  The gazetteer
search is a small table handed to the app as its place finder.  Screenshots
go to /tmp/review-*.png.

Without chromium (or PostGIS for its half) the tests skip, except under CI
(CI=true), where they fail.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from conftest import make_story, serving
from test_accessibility import axe_violations

from mapapp.records import Place, WeighedPlace

pytestmark = pytest.mark.browser

READY = ".mapapp-filters[data-state=ready]"
TIMEOUT = 15_000  # ms
IN_DIALOG = "document.querySelector('.mapapp-dialog').contains(document.activeElement)"

SPRINGFIELD_MO = Place(
    4409896, "Springfield", 37.21533, -93.29824, "P", "PPLA2", "US", "MO", "Missouri", 169_176
)
SPRINGFIELD_IL = Place(
    4250542, "Springfield", 39.80172, -89.64371, "P", "PPLA", "US", "IL", "Illinois", 116_250
)
PORTLAND_OR = Place(
    5746545, "Portland", 45.52345, -122.67621, "P", "PPLA2", "US", "OR", "Oregon", 652_503
)
PORTLAND_ME = Place(
    4975802, "Portland", 43.66147, -70.25533, "P", "PPLA2", "US", "ME", "Maine", 66_881
)
GEORGIA_US = Place(4197000, "Georgia", 32.75042, -83.50018, "A", "ADM1", "US", "GA", "Georgia", 0)
GEORGIA = Place(614540, "Georgia", 42.0, 43.5, "A", "PCLI", "GE", "00", "", 3_731_000)
TBILISI = Place(
    611717, "Tbilisi", 41.69411, 44.83368, "P", "PPLC", "GE", "TB", "Tbilisi", 1_049_498
)
GAZETTEER = (SPRINGFIELD_MO, SPRINGFIELD_IL, PORTLAND_OR, PORTLAND_ME, GEORGIA_US, GEORGIA, TBILISI)


def weighed(place: Place, score: float) -> WeighedPlace:
    return WeighedPlace(
        place.geonameid,
        place.name,
        place.latitude,
        place.longitude,
        place.country_code,
        place.admin1_name,
        place.feature_class,
        place.feature_code,
        place.population,
        score,
    )


def unsure(story, picks):
    """A story whose mentions were resolved with low scores, each with its weighed candidates."""
    article, resolutions = story
    return article, [
        dataclasses.replace(r, score=score, candidates=tuple(weighed(p, s) for p, s in cands))
        for r, (score, cands) in zip(resolutions, picks, strict=True)
    ]


def review_stories():
    """Three stories written for these tests, four unsure mentions between them."""
    fair = make_story(
        "fair-0428",
        date(2024, 4, 28),
        "State fair opens with a record crowd",
        "SPRINGFIELD -- The state fair opened on Sunday near the capitol.",
        [("SPRINGFIELD", SPRINGFIELD_MO, "dateline")],
        dateline="SPRINGFIELD",
    )
    ferry = make_story(
        "ferry-0502",
        date(2024, 5, 2),
        "Ferry service resumes",
        "PORTLAND -- The island ferry ran again after the storm. Crews from Tbilisi watched.",
        [("PORTLAND", PORTLAND_OR, "dateline"), ("Tbilisi", TBILISI, "mention")],
        dateline="PORTLAND",
    )
    wine = make_story(
        "wine-0510",
        date(2024, 5, 10),
        "Harvest festival draws growers",
        "Growers from Georgia brought amber wine to the harvest festival.",
        [("Georgia", GEORGIA_US, "focus")],
    )
    return [
        unsure(fair, [(0.41, [(SPRINGFIELD_MO, 0.41), (SPRINGFIELD_IL, 0.38)])]),
        unsure(
            ferry,
            [
                (0.35, [(PORTLAND_OR, 0.35), (PORTLAND_ME, 0.33)]),
                (0.93, [(TBILISI, 0.93)]),
            ],
        ),
        unsure(wine, [(0.30, [(GEORGIA_US, 0.30), (GEORGIA, 0.29)])]),
    ]


class Finder:
    """The gazetteer search the app is handed: GAZETTEER by name or id."""

    @staticmethod
    def _row(p: Place) -> dict:
        return {
            "geonameid": p.geonameid,
            "name": p.name,
            "lat": p.latitude,
            "lon": p.longitude,
            "country_code": p.country_code,
            "admin1": p.admin1_name,
            "feature_class": p.feature_class,
            "feature_code": p.feature_code,
            "population": p.population,
        }

    def search(self, query: str, limit: int = 10) -> list[dict]:
        q = query.strip().lower()
        found = [p for p in GAZETTEER if p.name.lower().startswith(q) or str(p.geonameid) == q]
        return [self._row(p) for p in sorted(found, key=lambda p: -p.population)][:limit]

    def place(self, geonameid: int) -> dict | None:
        return next((self._row(p) for p in GAZETTEER if p.geonameid == geonameid), None)


@pytest.fixture
def articles_records():
    """The stories of this module, in place of conftest's (the ``store`` fixture adds them)."""
    return review_stories()


@pytest.fixture
def site(store, tmp_path):
    from mapapp.web import create_app
    from mapapp.web.corrections import FINDER_KEY

    app = create_app(
        {"TESTING": True, "STORE": store.location, "CACHE_DIR": str(tmp_path / "cache")}
    )
    app.extensions[FINDER_KEY] = Finder()
    with serving(app) as base_url:
        yield base_url


def new_page(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.base = site
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return context, page


@pytest.fixture
def page(browser, site):
    context, opened = new_page(browser, site)
    yield opened
    context.close()
    assert opened.errors == [], opened.errors


def open_map(page, query: str = "") -> None:
    page.goto(page.base + "/" + query)
    page.wait_for_selector(READY, state="attached")


def place_at(page, name: str) -> tuple[float, float] | None:
    """(lat, lon) of the place called ``name`` the map now shows (None: not shown)."""
    return page.evaluate(
        """(name) => { const l = window.mapapp.layer, d = l.data;
            for (let p = 0; p < d.placeCount; p++) {
              if (d.place.name[p] === name && l.result.placeShown[p]) {
                return [d.place.lat[p], d.place.lon[p]]; } }
            return null; }""",
        name,
    )


def open_popup(page, title: str):
    page.locator(f".leaflet-marker-pane .mapapp-place[title='{title}']").first.click()
    popup = page.locator(".mapapp-popup[data-evidence=ready]")
    popup.wait_for()
    return popup


# -- "Wrong place?" on the map ------------------------------------------------------


def test_correct_a_marker_from_its_popup_and_undo_it(page, browser, site):
    open_map(page, "?lat=38&lon=-91&zoom=5")
    assert place_at(page, "Springfield") == pytest.approx((37.21533, -93.29824), abs=1e-4)
    popup = open_popup(page, "Springfield")
    popup.locator("button.mapapp-wrong").click()
    page.locator(".mapapp-dialog[role=dialog][data-state=ready]").wait_for()
    dialog = page.locator(".mapapp-dialog")
    options = dialog.locator(".mapapp-candidates button.mapapp-candidate")
    assert options.count() == 2
    assert "Missouri" in options.nth(0).inner_text() and "score 0.41" in options.nth(0).inner_text()
    assert options.nth(0).get_attribute("aria-current") == "true"  # what it is now
    assert "Illinois" in options.nth(1).inner_text()
    assert dialog.locator("svg.mapapp-minimap circle").count() == 2
    page.screenshot(path="/tmp/review-dialog.png")
    assert axe_violations(page) == []
    options.nth(1).click()
    scope = dialog.locator("fieldset.mapapp-scope")
    assert scope.locator("input[type=radio]").count() == 3
    page.screenshot(path="/tmp/review-dialog-scope.png")
    scope.locator("button.mapapp-apply-correction").click()
    page.locator(".mapapp-dialog[data-state=saved]").wait_for()
    assert "Moved to Springfield" in dialog.locator(".mapapp-dialog-status").inner_text()
    # the open map moved the marker at once
    page.wait_for_function(
        "() => { const d = window.mapapp.layer.data;"
        " return d.place.lat.some((y, p) => Math.abs(y - 39.80172) < 1e-4); }"
    )
    assert place_at(page, "Springfield") == pytest.approx((39.80172, -89.64371), abs=1e-4)
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    page.screenshot(path="/tmp/review-moved.png")

    page.reload()  # it lasts
    page.wait_for_selector(READY, state="attached")
    assert place_at(page, "Springfield") == pytest.approx((39.80172, -89.64371), abs=1e-4)
    other_context, other = new_page(browser, site)  # and another browser sees it
    try:
        open_map(other)
        assert place_at(other, "Springfield") == pytest.approx((39.80172, -89.64371), abs=1e-4)
    finally:
        other_context.close()

    # undo from the log restores the geoparser's reading
    page.goto(page.base + "/review/log")
    row = page.locator("[data-correction-id]").first
    row.locator("button", has_text="Undo").click()
    page.wait_for_selector("[data-correction-id][data-undone]")
    open_map(page)
    assert place_at(page, "Springfield") == pytest.approx((37.21533, -93.29824), abs=1e-4)


def test_not_a_place_from_the_keyboard_and_the_search(page):
    open_map(page, "?lat=45&lon=-100&zoom=4")
    marker = page.locator(".leaflet-marker-pane .mapapp-place[title=Portland]")
    marker.wait_for()
    marker.focus()
    page.keyboard.press("Enter")
    page.locator(".mapapp-popup[data-evidence=ready]").wait_for()
    page.locator(".mapapp-popup button.mapapp-wrong").focus()
    page.keyboard.press("Enter")
    page.locator(".mapapp-dialog[data-state=ready]").wait_for()
    dialog = page.locator(".mapapp-dialog")
    assert page.evaluate(IN_DIALOG)
    for _ in range(30):  # Tab never leaves the dialog
        page.keyboard.press("Tab")
        assert page.evaluate(IN_DIALOG)
    dialog.locator("input[type=search]").fill("Tbil")
    page.keyboard.press("Enter")
    hits = dialog.locator(".mapapp-hits button.mapapp-candidate")
    hits.first.wait_for()
    assert "Tbilisi" in hits.first.inner_text() and "Georgia (GE)" in hits.first.inner_text()
    dialog.locator("button.mapapp-not-a-place").click()
    dialog.locator("fieldset.mapapp-scope input[value=story]").check()
    dialog.locator("button.mapapp-apply-correction").click()
    page.locator(".mapapp-dialog[data-state=saved]").wait_for()
    page.wait_for_function("() => !window.mapapp.layer.data.place.name.includes('Portland')")
    page.keyboard.press("Escape")
    page.locator(".mapapp-dialog").wait_for(state="detached")
    assert page.evaluate("document.activeElement !== document.body")  # the focus went somewhere


# -- /review from the keyboard --------------------------------------------------------

LEFT = "() => +document.querySelector('.review-count').getAttribute('data-left')"


def left(page) -> int:
    return page.evaluate(LEFT)


def wait_left(page, n: int) -> None:
    page.wait_for_function(f"(n) => ({LEFT})() === n", arg=n)


def current(page) -> str:
    return page.evaluate(
        "() => document.querySelector('.review-item.current').getAttribute('data-mention-id')"
    )


def test_review_queue_cleared_from_the_keyboard(page, store):
    page.goto(page.base + "/review")
    page.wait_for_selector(".review-queue[data-state=ready]")
    items = page.locator(".review-item")
    total = items.count()
    assert total >= 3 and left(page) == total
    assert page.locator(".review-count").get_attribute("aria-live") == "polite"
    page.keyboard.press("Tab")  # into the page; the keys work from anywhere but a field
    page.locator(".review-item").first.focus()
    first = current(page)
    page.keyboard.press("j")
    assert current(page) != first
    page.keyboard.press("k")
    assert current(page) == first
    assert page.evaluate("document.activeElement.classList.contains('current')")
    page.screenshot(path="/tmp/review-queue-start.png", full_page=True)
    decided = []
    for done in range(1, total + 1):
        item = page.locator(".review-item.current")
        name = item.locator(".review-name").inner_text()
        picks = item.locator("button.review-pick").count()
        accept = item.locator("button.review-accept").is_enabled()
        key = "2" if picks >= 2 and not decided else ("a" if accept else "x")
        page.keyboard.press(key)
        wait_left(page, total - done)
        decided.append((name, key))
    assert (
        page.locator(".review-count").inner_text().endswith("nothing left to review in this view.")
    )
    assert page.locator(".review-item.done").count() == total
    page.screenshot(path="/tmp/review-queue-cleared.png", full_page=True)
    page.keyboard.press("u")  # the last decision comes back
    wait_left(page, 1)
    assert page.locator(".review-item.done").count() == total - 1
    page.keyboard.press("x")
    wait_left(page, 0)

    page.reload()  # the server's queue agrees: nothing left
    page.wait_for_selector(".review-queue[data-state=ready]")
    assert left(page) == 0 and page.locator(".review-item").count() == 0
    log = store.corrections(include_undone=False)
    assert decided[0][1] == "2" and any(c["action"] == "place" for c in log)
    assert {c["action"] for c in log} <= {"place", "accept", "not_a_place"}


def test_review_pages_pass_axe(page):
    page.goto(page.base + "/review")
    page.wait_for_selector(".review-queue[data-state=ready]")
    assert axe_violations(page) == []
    page.locator(".review-item").first.focus()
    page.keyboard.press("a")
    wait_left(page, page.locator(".review-item").count() - 1)
    page.locator(".review-item.current").focus()
    page.keyboard.press("Enter")  # the full dialog, from the queue
    page.locator(".mapapp-dialog[data-state=ready]").wait_for()
    assert axe_violations(page) == []
    page.keyboard.press("Escape")
    page.locator(".mapapp-dialog").wait_for(state="detached")
    assert page.evaluate("document.activeElement.classList.contains('review-item')")
    page.goto(page.base + "/review/log")
    page.locator("button.review-undo").first.wait_for()
    page.screenshot(path="/tmp/review-log.png", full_page=True)
    assert axe_violations(page) == []


def test_wrong_place_on_the_story_page(page):
    page.goto(page.base + "/stories/wine-0510")
    item = page.locator(".places li", has_text="Georgia")
    assert "Georgia, US" in item.inner_text()
    item.locator("button.mapapp-wrong").click()
    page.locator(".mapapp-dialog[data-state=ready]").wait_for()
    dialog = page.locator(".mapapp-dialog")
    dialog.locator(".mapapp-candidates button", has_text="(GE)").click()
    dialog.locator("fieldset.mapapp-scope input[value=everywhere]").check()
    dialog.locator("button.mapapp-apply-correction").click()
    page.locator(".mapapp-dialog[data-state=saved]").wait_for()
    with page.expect_navigation():  # closing shows the page again, the correction applied
        page.keyboard.press("Escape")
    page.locator(".places li", has_text="Georgia").wait_for()
    assert ", GE" in page.locator(".places li", has_text="Georgia").inner_text()
    assert axe_violations(page) == []


@pytest.mark.parametrize("store_location", ["gpkg"], indirect=True)
def test_read_only_maps_offer_no_corrections(browser, store, tmp_path):
    from mapapp.web import create_app

    app = create_app(
        {
            "TESTING": True,
            "STORE": store.location,
            "CACHE_DIR": str(tmp_path / "cache"),
            "READ_ONLY": True,
        }
    )
    with serving(app) as base:
        context, page = new_page(browser, base)
        try:
            open_map(page, "?lat=38&lon=-91&zoom=5")
            open_popup(page, "Springfield")
            assert page.locator(".mapapp-popup button.mapapp-wrong").count() == 0
            page.goto(base + "/stories/fair-0428")
            page.locator(".places li").first.wait_for()
            assert page.locator("button.mapapp-wrong").count() == 0
        finally:
            context.close()
        assert page.errors == []
