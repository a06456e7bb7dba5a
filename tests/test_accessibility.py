"""The map and story pages for keyboard and screen-reader users, in headless Chromium.

axe-core (the npm package, served by the app at /vendor/axe-core/axe.min.js
and injected by the test: no page loads it) must find no violation of impact
"serious" or "critical".  The keyboard tests do what a reviewer does without
a mouse: Tab to a marker, Enter opens its popup, Escape closes it and focus
is back on the marker; Enter on a cluster zooms in; the skip link jumps past
the markers to the filters.

Without chromium the tests skip, except under CI (CI=true), where they fail.
"""

from __future__ import annotations

import pytest
from conftest import serving, story_records

pytestmark = pytest.mark.browser

READY = ".mapapp-filters[data-state=ready]"
TIMEOUT = 15_000  # ms
AXE_URL = "/vendor/axe-core/axe.min.js"
BLOCKING = ("serious", "critical")

# The one live server of this module: the conftest stories in a GeoPackage.


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from mapapp.stores import open_store
    from mapapp.web import create_app

    store = open_store(tmp_path_factory.mktemp("a11y") / "mapapp.gpkg")
    store.add(story_records())
    app = create_app(
        {
            "TESTING": True,
            "STORE": str(store.path),
            "CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
        }
    )
    with serving(app) as base_url:
        yield base_url


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    opened.on("pageerror", lambda e: errors.append(str(e)))
    opened.base = site
    yield opened
    context.close()
    assert errors == [], errors


def axe_violations(page, *, exclude: tuple[str, ...] = ()) -> list[dict]:
    """axe-core's serious and critical violations on the page as it stands now."""
    page.add_script_tag(url=page.base + AXE_URL)
    results = page.evaluate(
        """(exclude) => axe.run({exclude: exclude.map((s) => [s])},
                               {resultTypes: ["violations"]})""",
        list(exclude),
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in results["violations"]
        if v["impact"] in BLOCKING
    ]


def open_map(page, query: str = "") -> None:
    page.goto(page.base + "/" + query)
    page.wait_for_selector(READY, state="attached")


def focused(page) -> str:
    """A short description of the element that has the focus."""
    return page.evaluate(
        """() => { const a = document.activeElement;
                   const name = a.title || a.getAttribute("aria-label") || "";
                   return a.tagName + "." + a.className + "[" + name + "]"; }"""
    )


def tab_until(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never got the focus in {limit} Tabs (last: {focused(page)})")


# -- axe -----------------------------------------------------------------------


def test_axe_is_served_locally_but_no_page_loads_it(tmp_path):
    from mapapp.web import create_app

    app = create_app(
        {"TESTING": True, "STORE": str(tmp_path / "m.gpkg"), "CACHE_DIR": str(tmp_path)}
    )
    client = app.test_client()
    served = client.get(AXE_URL)
    assert served.status_code == 200 and b"axe" in served.data[:2000]
    for other in ("/vendor/axe-core/package.json", "/vendor/axe-core/../axe-core/axe.js"):
        assert client.get(other).status_code == 404, other
    assert b"axe" not in client.get("/").data


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?start=2024-03-01&end=2024-03-01&undated=0&lat=34&lon=37&zoom=3",
        "/stories/syria-0301",
    ],
)
def test_pages_have_no_serious_axe_violation(page, path):
    page.goto(page.base + path)
    if path.startswith("/?") or path == "/":
        page.wait_for_selector(READY, state="attached")
    else:
        page.wait_for_selector(".story-map [data-basemap=ready]")
    assert axe_violations(page) == []


def test_an_open_popup_has_no_serious_axe_violation(page):
    open_map(page, "?start=2024-03-15&end=2024-03-15&undated=0")
    page.locator(".leaflet-marker-pane .mapapp-place[title=Geneva]").click()
    page.locator(".mapapp-popup[data-evidence=ready]").wait_for()
    # Leaflet fades a popup in: judge its contrast once it is fully drawn
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
    )
    assert axe_violations(page) == []


# -- the keyboard --------------------------------------------------------------


def test_tab_to_a_marker_enter_opens_escape_returns(page):
    open_map(page, "?start=2024-03-15&end=2024-03-15&undated=0")  # Geneva alone
    page.wait_for_selector(".leaflet-marker-pane .mapapp-place[title=Geneva]")
    tab_until(page, ".mapapp-place[title=Geneva]")
    page.keyboard.press("Enter")
    popup = page.locator(".mapapp-popup[data-evidence=ready]")
    popup.wait_for()
    assert popup.locator("h3").inner_text() == "Geneva"
    assert page.evaluate(
        "document.querySelector('.leaflet-popup').contains(document.activeElement)"
    ), focused(page)
    page.screenshot(path="/tmp/a11y-popup-keyboard.png")
    page.keyboard.press("Escape")
    page.locator(".leaflet-popup").wait_for(state="detached")
    assert page.evaluate("document.activeElement.matches('.mapapp-place[title=Geneva]')"), focused(
        page
    )
    page.keyboard.press(" ")  # Space opens it too
    popup.wait_for()
    page.locator(".leaflet-popup-close-button").click()
    page.locator(".leaflet-popup").wait_for(state="detached")
    assert page.evaluate("document.activeElement.matches('.mapapp-place[title=Geneva]')"), focused(
        page
    )


def test_enter_on_a_cluster_zooms_in(page):
    open_map(page, "?start=2024-03-01&end=2024-03-01&undated=0&lat=34&lon=37&zoom=3")
    cluster = page.locator(".leaflet-marker-pane .marker-cluster")
    cluster.first.wait_for()
    label = cluster.first.get_attribute("aria-label")
    assert label and label.startswith("3 places"), label
    assert cluster.first.get_attribute("role") == "button"
    zoom = page.evaluate("window.mapapp.layer.map.getZoom()")
    tab_until(page, ".marker-cluster")
    page.keyboard.press("Enter")
    page.wait_for_function("(z) => window.mapapp.layer.map.getZoom() > z", arg=zoom)
    # the focus lands on a marker or cluster of what the cluster held, not on the page
    page.wait_for_function("() => document.activeElement.matches('.mapapp-place, .marker-cluster')")


def test_skip_link_jumps_past_the_markers(page):
    open_map(page, "?start=2024-03-01&end=2024-03-31&undated=0")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    assert page.evaluate("document.activeElement.matches('a.skip-link')"), focused(page)
    assert skip.inner_text() == "Skip to filters"
    assert skip.is_visible()  # shown while it has the focus
    page.screenshot(path="/tmp/a11y-skip-link.png")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('#filters').contains(document.activeElement)"), (
        focused(page)
    )


def test_story_map_markers_take_the_focus_and_show_their_place(page):
    """On a story page the small map's markers are reached by Tab; Enter shows the place."""
    page.goto(page.base + "/stories/syria-0301")
    page.wait_for_selector(".story-map [data-basemap=ready]")
    marker = ".story-map .leaflet-interactive[data-point][role=button]"
    page.wait_for_selector(marker, state="attached")
    tab_until(page, marker)
    name = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert name
    page.keyboard.press("Enter")
    tooltip = page.locator(".story-map .leaflet-tooltip")
    tooltip.wait_for()
    assert tooltip.inner_text() == name
    page.keyboard.press("Tab")  # moving on closes the label again
    page.locator(".story-map .leaflet-tooltip", has_text=name).wait_for(state="detached")
