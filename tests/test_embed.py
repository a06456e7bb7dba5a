"""The embed page: a read-only map of a view that only the configured sites may frame.

Checked on the served HTML and headers (both store backends), and in headless
Chromium: the page framed by a second local server (another origin) shows its
markers when that origin is allowed and nothing when it is not, while the
main map refuses every frame; the "Copy embed code" button copies an iframe of
the view, or shows it for copying by hand when the clipboard says no.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from helpers import serving

from mapapp.errors import ConfigError
from mapapp.settings import load_settings

TIMEOUT = 15_000  # ms
READY = ".mapapp-filters[data-state=ready]"
HOSTILE_Q = "<script>alert(1)</script>${alert(1)}{{7*7}}"


def make_app(store, tmp_path, **settings):
    from mapapp.web import create_app

    return create_app(
        {"TESTING": True, "STORE": store.location, "CACHE_DIR": str(tmp_path / "cache"), **settings}
    )


def frame_ancestors(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return re.search(r"frame-ancestors ([^;]*)", policy)[1].strip()


# -- the page and its headers ---------------------------------------------------------


def test_embed_is_the_map_without_panel_or_controls(client):
    response = client.get("/embed?start=2024-03-01&end=2024-04-30")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "mapapp.placesLayer(" in html and "/static/map.js" in html
    assert '"start": "2024-03-01"' in html  # opened on the view of its URL
    for absent in ("side-panel", "timeline-panel", "mapapp-list", "Download this view", "<input"):
        assert absent not in html, absent
    assert "<select" not in html and "<textarea" not in html and "<button" not in html
    assert re.search(r'<form class="mapapp-filters"[^>]*hidden[^>]*></form>', html)
    assert '<base target="_blank">' in html  # links leave the frame for a tab
    assert "2024-03-01 to 2024-04-30, with undated stories" in html
    link = re.search(r'class="embed-open" href="([^"]+)"', html)[1].replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query) == {"start": ["2024-03-01"], "end": ["2024-04-30"]}


@pytest.mark.parametrize(
    ("origins", "ancestors"),
    [
        ("", "'self'"),
        ("https://news.example", "'self' https://news.example"),
        (
            "https://news.example, http://127.0.0.1:8080/ https://*.cms.example",
            "'self' https://news.example http://127.0.0.1:8080 https://*.cms.example",
        ),
    ],
)
def test_only_the_embed_page_may_be_framed(store, tmp_path, origins, ancestors):
    client = make_app(store, tmp_path, EMBED_ORIGINS=origins).test_client()
    embed = client.get("/embed")
    assert frame_ancestors(embed) == ancestors
    assert embed.headers["X-Frame-Options"] == "SAMEORIGIN"
    for path in ("/", "/stories/syria-0301", "/api/points", "/export.csv", "/nowhere"):
        other = client.get(path)
        assert frame_ancestors(other) == "'none'", path
        assert other.headers["X-Frame-Options"] == "DENY", path


@pytest.mark.parametrize(
    "bad",
    [
        "*",
        "https://news.example/path",
        "news.example",
        "https://a.example'; script-src *",
        "ftp://x",
    ],
)
def test_embed_origins_must_be_origins(bad):
    with pytest.raises(ConfigError, match="MAPAPP_EMBED_ORIGINS"):
        load_settings({"EMBED_ORIGINS": bad}, environ={})


def test_embed_origins_from_the_environment():
    env = {"MAPAPP_EMBED_ORIGINS": "https://a.example https://B.example"}
    assert load_settings(environ=env).embed_origins == ("https://a.example", "https://b.example")


def test_embed_escapes_the_view_text(client, payloads):
    response = client.get("/embed", query_string={"q": HOSTILE_Q})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert(1)" not in html and "49" not in html.split("embed-caption", 1)[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;${alert(1)}{{7*7}}" in html


def test_embed_refuses_a_bad_view(client):
    response = client.get("/embed?start=2024-13-01")
    assert response.status_code == 400 and "2024-13-01" in response.get_data(as_text=True)


def test_map_page_offers_the_embed_code(client):
    html = client.get("/").get_data(as_text=True)
    assert 'class="mapapp-embed-copy"' in html and "Copy embed code" in html
    assert 'data-embed-url="/embed"' in html  # made absolute by the script
    assert "/static/embedcode.js" in html


# -- in Chromium ----------------------------------------------------------------------------


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 700})
    context.set_default_timeout(TIMEOUT)
    yield context
    context.close()


@pytest.fixture
def framing(store, tmp_path):
    """(mapapp's base URL, a parent site's base URL): mapapp lets the parent, and only it, frame
    /embed; the parent's pages are whatever HTML the test puts in ``pages``."""
    from flask import Flask

    pages: dict[str, str] = {}
    parent = Flask("parent")
    parent.add_url_rule("/<name>", "page", lambda name: pages[name])
    with serving(parent) as parent_url:
        app = make_app(store, tmp_path, EMBED_ORIGINS=parent_url)
        with serving(app) as base_url:
            yield base_url, parent_url, pages


def _frame_holds_map(frame) -> bool:
    """Did ``frame`` load a mapapp page (rather than Chromium's 'refused to connect')?"""
    try:
        return frame.locator(".mapapp-map").count() > 0
    except Exception:  # noqa: BLE001 - a blocked frame has no document to ask
        return False


@pytest.mark.browser
def test_allowed_site_frames_the_embed_and_nothing_else(context, framing):
    base, parent, pages = framing
    pages["allowed"] = (
        f'<iframe id="embed" src="{base}/embed?start=2024-03-01&end=2024-03-31" '
        f'width="800" height="500"></iframe><iframe id="main" src="{base}/"></iframe>'
    )
    page = context.new_page()
    page.goto(parent + "/allowed")
    embed = page.frame_locator("#embed")
    embed.locator(READY).wait_for(state="attached")
    form = embed.locator(".mapapp-filters")
    assert int(form.get_attribute("data-stories")) == 3  # March's two plus the undated one
    assert embed.locator(".leaflet-marker-pane > *").count() >= 1
    # no side panel, timeline, upload or editing: the only inputs are the map legend's own
    # read-only switches (which layer, which types), inside the Leaflet control
    nothing_else = ".side-panel, .timeline-panel, button.mapapp-embed-copy, input[type=file]"
    assert embed.locator(nothing_else).count() == 0
    assert embed.locator("input").count() == embed.locator(".mapapp-layers input").count()
    assert embed.locator("button", has_text="Wrong place?").count() == 0
    page.wait_for_timeout(300)
    assert page.frame_locator("#main").locator(".mapapp-map").count() == 0  # refused


@pytest.mark.browser
def test_other_sites_cannot_frame_the_embed(context, store, tmp_path):
    from flask import Flask

    parent = Flask("stranger")
    with serving(make_app(store, tmp_path)) as base:
        parent.add_url_rule("/", "page", lambda: f'<iframe id="embed" src="{base}/embed"></iframe>')
        with serving(parent) as stranger:
            page = context.new_page()
            blocked: list[str] = []
            page.on("console", lambda m: blocked.append(m.text))
            page.goto(stranger + "/")
            page.wait_for_timeout(800)
            frames = [f for f in page.frames if f != page.main_frame]
            assert frames and not any(_frame_holds_map(f) for f in frames)
            assert any("frame-ancestors" in text for text in blocked), blocked


@pytest.mark.browser
def test_embed_popup_links_open_a_new_tab(context, live_server):
    page = context.new_page()
    page.goto(
        live_server + "/embed?start=2024-05-01&end=2024-05-31&undated=0&lat=35.7&lon=139.7&zoom=5"
    )
    page.wait_for_selector(READY, state="attached")
    page.locator(".leaflet-marker-pane .mapapp-place").first.click()
    link = page.locator(".mapapp-popup a.mapapp-headline")
    link.wait_for()
    assert link.inner_text() == "Markets rally in Tokyo"
    with context.expect_page() as opened:
        link.click()
    story = opened.value
    story.wait_for_load_state()
    assert story.url == live_server + "/stories/tokyo-0502"
    assert page.url.startswith(live_server + "/embed")  # the frame itself stayed


@pytest.mark.browser
def test_copy_embed_code_copies_an_iframe_of_the_view(context, live_server):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = context.new_page()
    page.goto(live_server + "/?country=SY&lat=34.8&lon=38.0&zoom=5")
    page.wait_for_selector(READY, state="attached")
    page.get_by_role("button", name="Copy embed code").click()
    page.wait_for_selector(".mapapp-embed-copy[data-copied=clipboard]")
    code = page.evaluate("() => navigator.clipboard.readText()")
    src = re.fullmatch(r'<iframe src="([^"]+)" width="100%" height="480" [^>]*></iframe>', code)[1]
    url = urlsplit(src.replace("&amp;", "&"))
    assert f"{url.scheme}://{url.netloc}{url.path}" == live_server + "/embed"
    query = parse_qs(url.query)
    assert query["country"] == ["SY"] and query["zoom"] == ["5"]
    assert page.locator(".mapapp-embed-code").input_value() == code
    assert page.locator(".mapapp-embed-status").inner_text() == "Copied."
    # the copied code, framed by a page of this origin, shows the same view
    page.set_content(code.replace('src="', 'id="copied" src="'))
    framed = page.frame_locator("#copied")
    framed.locator(READY).wait_for(state="attached")
    assert framed.locator(".mapapp-filters").get_attribute("data-places") == "3"  # Syria's


@pytest.mark.browser
def test_copy_embed_code_falls_back_to_the_text_box(context, live_server):
    context.add_init_script(
        "navigator.clipboard.writeText = () => Promise.reject(new Error('denied'));"
    )
    page = context.new_page()
    page.goto(live_server + "/")
    page.wait_for_selector(READY, state="attached")
    page.wait_for_function("() => location.search.includes('zoom=')")  # the view is in the URL
    page.get_by_role("button", name="Copy embed code").click()
    page.wait_for_selector(".mapapp-embed-copy[data-copied=manual]")
    box = page.locator(".mapapp-embed-code")
    assert box.is_visible() and box.input_value().startswith(
        f'<iframe src="{live_server}/embed?'
    ), box.input_value()[:120]
    selected = page.evaluate(
        "() => { const b = document.querySelector('.mapapp-embed-code');"
        " return b.selectionEnd - b.selectionStart; }"
    )
    assert selected == len(box.input_value())
    assert "copy it" in page.locator(".mapapp-embed-status").inner_text()
