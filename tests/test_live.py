"""The live map: an open page learns of new stories and shows them without losing its view.

``GET /api/version`` is checked on both backends with the test client; the
page itself in headless Chromium against a live server polling every second,
while the test writes a story into the store behind it.
"""

from __future__ import annotations

from datetime import date

import pytest
from conftest import make_story, serving, story_records
from test_browser import READY, Watched, url_params

from mapapp.records import Place

NAIROBI = Place(
    184745, "Nairobi", -1.28333, 36.81667, "P", "PPLC", "KE", "05", "Nairobi", 2_750_547
)


def nairobi_story():
    """A story the store does not hold until a test adds it."""
    return make_story(
        "nairobi-0405",
        date(2024, 4, 5),
        "Rains return to Nairobi",
        "NAIROBI -- Long rains returned to Nairobi on Friday.",
        [("NAIROBI", NAIROBI, "dateline"), ("Nairobi", NAIROBI, "focus")],
        dateline="NAIROBI",
    )


# -- /api/version ----------------------------------------------------------------


def test_version_changes_with_every_write_and_counts_the_stories(client, store, articles_records):
    first = client.get("/api/version")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "no-store"
    assert first.json == {"version": store.version(), "stories": len(articles_records)}
    assert client.get("/api/version").json == first.json  # nothing written: same answer
    store.add([nairobi_story()])
    after = client.get("/api/version").json
    assert after["version"] != first.json["version"]
    assert after["stories"] == len(articles_records) + 1


@pytest.mark.parametrize(("setting", "shown"), [(None, "15"), (3, "3"), (0, "0")])
def test_the_page_carries_its_version_and_polling_interval(store, tmp_path, setting, shown):
    from mapapp.web import create_app

    config = {"TESTING": True, "STORE": store.location, "CACHE_DIR": str(tmp_path / "c")}
    if setting is not None:
        config["LIVE_POLL_SECONDS"] = setting
    html = create_app(config).test_client().get("/").get_data(as_text=True)
    assert 'data-url="/api/version"' in html
    assert f'data-poll="{shown}"' in html
    assert f'data-version="{store.version()}"' in html
    assert f'data-stories="{len(story_records())}"' in html


def test_a_negative_polling_interval_is_refused():
    from mapapp.errors import ConfigError
    from mapapp.settings import load_settings

    with pytest.raises(ConfigError, match="MAPAPP_LIVE_POLL_SECONDS expects a whole number of 0"):
        load_settings({"LIVE_POLL_SECONDS": -1}, environ={})


# -- in the browser -----------------------------------------------------------------


@pytest.fixture
def live_site(tmp_path):
    """A store of the usual stories and a server whose pages poll every second."""
    from mapapp.stores import open_store
    from mapapp.web import create_app

    store = open_store(tmp_path / "live.gpkg")
    store.add(story_records())
    app = create_app(
        {
            "TESTING": True,
            "STORE": str(store.path),
            "CACHE_DIR": str(tmp_path / "cache"),
            "LIVE_POLL_SECONDS": 1,
        }
    )
    with serving(app) as base_url:
        yield store, base_url


@pytest.fixture
def live_page(browser, live_site, tmp_path):
    store, base_url = live_site
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    watch = Watched(context.new_page(), base_url, tmp_path)
    yield store, watch
    watch.assert_clean()
    context.close()


@pytest.mark.browser
def test_a_new_story_is_offered_and_shown_in_the_same_view(live_page):
    store, watched = live_page
    page = watched.page
    # Africa, March to May, dateline and focus only: a view the new story falls inside.
    watched.goto(
        "/?start=2024-03-01&end=2024-05-31&role=dateline,focus&lat=5.0000&lon=20.0000&zoom=3"
    )
    page.wait_for_selector(READY, state="attached")
    before = url_params(page)
    stories = page.evaluate("window.mapapp.layer.data.storyCount")
    live = page.locator(".mapapp-live")
    assert live.get_attribute("role") == "status" and live.get_attribute("aria-live") == "polite"
    page.wait_for_function("() => window.mapapp.live && window.mapapp.live.baseline !== null")
    assert page.locator(".mapapp-live-show").is_hidden()

    store.add([nairobi_story()])
    button = page.locator(".mapapp-live-show")
    button.wait_for(state="visible", timeout=10_000)
    assert button.inner_text() == "1 new story \u2014 show"
    watched.shot("live-offer")
    # Nothing moved while the offer stood: the map still shows what it loaded.
    assert page.evaluate("window.mapapp.layer.data.storyCount") == stories

    button.click()
    page.wait_for_function(
        "(n) => window.mapapp.layer.data.storyCount === n + 1 && "
        "document.querySelector('.mapapp-live').dataset.state === 'idle'",
        arg=stories,
    )
    page.wait_for_selector(READY, state="attached")
    assert button.is_hidden()
    after = url_params(page)
    assert after == before  # same centre, zoom and filters
    marker = page.locator(".leaflet-marker-icon[title='Nairobi']")
    marker.wait_for(state="visible")
    assert "Rains return to Nairobi" in page.locator(".mapapp-list").inner_text()
    assert page.locator("select[name=country] option[value=KE]").inner_text() == "Kenya (2)"
    watched.shot("live-shown")
    # Once shown, nothing is new: two more polls and the offer has not come back.
    for _ in range(2):
        page.wait_for_event("requestfinished", lambda r: r.url.endswith("/api/version"))
    assert button.is_hidden()
    # A write that adds no story (a reprocess swaps a story's places) is offered too.
    store.replace([nairobi_story()])
    button.wait_for(state="visible", timeout=10_000)
    assert button.inner_text() == "The stories have changed \u2014 show"
    button.press("Enter")  # a button, so the keyboard works as well as the mouse
    page.wait_for_selector(".mapapp-live[data-state=idle]", state="attached")
    button.wait_for(state="hidden")  # the offer goes once the new points are drawn
    assert url_params(page) == before
