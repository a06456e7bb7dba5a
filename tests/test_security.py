"""Hostile text, hostile URLs, and what every response promises: nothing injected runs.

Twenty XSS payloads (script tags, event handlers, ``javascript:`` URLs,
``</script>`` breaks, ``${...}`` template literals, JS string breaks, U+2028,
SVG and MathML mutation tricks, full-width look-alikes, pre-escaped entities,
Jinja syntax, CSS and <base>/<meta> injection) are put into every untrusted
field of a story: headline, deck, body, dateline, place name as written and as
resolved, province, reason, URL and source file name; and into the query
string, the story path and the fragment.  Real headless Chromium then loads
every page and popup.  A payload that ran would set ``window.__pwned``, open a
dialog, or (if escaping failed but the Content-Security-Policy caught it)
raise a ``securitypolicyviolation``; all three are checked after every page,
and the payload must still be on the page, as text.

The same module checks the headers of every kind of response, path traversal
through every route that takes a path, and where ``mapapp serve`` binds.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from conftest import make_story, serving

from mapapp.records import Place
from mapapp.text import strip_bidi

ROOT = Path(__file__).resolve().parents[1]
READY = ".mapapp-filters[data-state=ready]"

PAYLOADS = [
    "<script>window.__pwned=1;alert(1)</script>",
    '<img src=x onerror="window.__pwned=2;alert(2)">',
    "<svg onload=window.__pwned=3><script>window.__pwned=3</script></svg>",
    "javascript:window.__pwned=4;alert(4)",
    "</script><script>window.__pwned=5</script><!--",
    "${window.__pwned=6} `${alert(6)}`",
    '"><iframe srcdoc="<script>parent.__pwned=7</script>"></iframe>',
    "';window.__pwned=8;// \";window.__pwned=8;//",
    "\u2028\u2029window.__pwned=9;\u2028",
    "\uff1cscript\uff1ewindow.__pwned=10\uff1c/script\uff1e \u202egnp.exe",
    '<a href="javascript:window.__pwned=11">link</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__pwned=12>",
    "&lt;script&gt;window.__pwned=13&lt;/script&gt;",
    "{{ 7*7 }}{% raw %}{{ config }}",
    "<style>*{display:none}</style><link rel=stylesheet href=//evil.example/x.css>",
    '<base href="//evil.example/">',
    '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned=17">',
    '<object data="javascript:window.__pwned=18"></object>',
    '<form action="javascript:window.__pwned=19"><button>go</button></form>',
    "<details open ontoggle=window.__pwned=20>",
]
WATCH = """
window.__sentinel = 'intact';
window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
    window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def flat(text: str) -> str:
    """Text as a reader sees it: whitespace (U+2028 included) as single spaces, as a browser's
    innerText may show it, and no bidi controls (pages drop them: they would reorder the page)."""
    return " ".join(strip_bidi(text).split())


def hostile_story(i: int, payload: str):
    """A story with ``payload`` in every field a reader sees, and its one place."""
    place = Place(
        9_000_000 + i,
        f"Town{i} {payload}",
        -50 + i * 5,
        -170 + i * 17,
        "P",
        "PPL",
        "EC",
        "18",
        f"Province {payload}",
        1000,
    )
    written = f"Town{i}{payload}"
    article, resolutions = make_story(
        f"xss-{i:02d}",
        date(2024, 1, 1 + i),
        f"Headline {i} {payload}",
        f"QUITO -- Crowds gathered in {written} on Monday. Nowhere{i} stayed calm. "
        f"A banner read {payload} all day.",
        [("QUITO", place, "dateline"), (written, place, "focus"), (f"Nowhere{i}", None, "mention")],
        dateline=f"QUITO {payload}",
        deck=f"Deck {i} {payload}",
        url=payload if i % 2 else "javascript:window.__pwned=99",
        source=f"feeds/{payload}.txt",
    )
    resolutions[-1] = dataclasses.replace(resolutions[-1], reason=f"no match for {payload}")
    return article, resolutions


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory):
    from mapapp.stores import open_store

    store = open_store(tmp_path_factory.mktemp("hostile") / "mapapp.gpkg")
    store.add([hostile_story(i, p) for i, p in enumerate(PAYLOADS)])
    return store


@pytest.fixture(scope="module")
def hostile_app(hostile_store, tmp_path_factory):
    from mapapp.web import create_app

    return create_app(
        {
            "TESTING": True,
            "STORE": str(hostile_store.path),
            "CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
        }
    )


@pytest.fixture(scope="module")
def hostile_site(hostile_app):
    with serving(hostile_app) as base_url:
        yield base_url


class Guarded:
    """A page that records dialogs, errors and CSP violations, and checks them after each load."""

    def __init__(self, browser, base: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.page = self.context.new_page()
        self.base, self.dialogs, self.errors, self.loads = base, [], [], 0
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.add_init_script(WATCH)
        self.page.set_default_timeout(15_000)

    def goto(self, path: str, status: int = 200):
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == status, (path, response.status)
        self.loads += 1
        return response

    def assert_inert(self, where: str) -> None:
        page = self.page
        page.wait_for_timeout(50)  # let any onerror/onload that slipped through fire
        assert self.dialogs == [], (where, self.dialogs)
        assert page.evaluate("window.__pwned") is None, where
        assert page.evaluate("window.__sentinel") == "intact", where
        assert page.evaluate("window.__violations") == [], where  # escaping held on its own
        assert self.errors == [], (where, self.errors)
        assert (
            page.evaluate(
                "document.querySelectorAll('main img, main svg script, main iframe,"
                " main object, main base, main meta, main form form').length"
            )
            == 0
        )


@pytest.fixture
def guarded(browser, hostile_site):
    guard = Guarded(browser, hostile_site)
    yield guard
    guard.context.close()


@pytest.mark.browser
def test_payloads_in_the_map_list_and_popups_stay_text(guarded, hostile_store):
    page = guarded.page
    guarded.goto("/")
    page.wait_for_selector(READY, state="attached")
    listed = flat(page.locator(".mapapp-list").inner_text())
    for i, payload in enumerate(PAYLOADS):
        assert flat(f"Headline {i} {payload}") in listed, payload
    count = page.evaluate("window.mapapp.layer.markers.length")
    assert count == len(PAYLOADS) + 0  # each story's place is its own point
    page.evaluate("() => { window.mapapp.layer.map._fadeAnimated = false; }")  # no fade waits
    shown = []
    for index in range(count):
        page.evaluate(
            "(i) => { var l = window.mapapp.layer, m = l.markers[i];"
            " l.map.closePopup(); l.map.setView(m.getLatLng(), 8, {animate: false});"
            " l.openPopup(m); }",
            index,
        )
        page.locator(".mapapp-popup[data-evidence=ready]").wait_for()
        shown.append(flat(page.locator(".leaflet-popup-content").inner_text()))
    popups = "\n".join(shown)
    for payload in PAYLOADS:
        assert flat(payload) in popups, payload  # in the place name and the evidence sentence
    guarded.assert_inert("map")


@pytest.mark.browser
def test_payloads_on_the_story_pages_stay_text(guarded, hostile_store):
    for index in range(len(PAYLOADS)):
        check_story_page(guarded, hostile_store, index)


def check_story_page(guarded, hostile_store, index: int) -> None:
    payload, page = PAYLOADS[index], guarded.page
    guarded.goto(f"/stories/xss-{index:02d}")
    article = hostile_store.article(f"xss-{index:02d}")
    assert flat(page.locator(".headline").inner_text()) == flat(article["headline"])
    assert flat(page.locator(".deck").inner_text()) == flat(article["deck"])
    assert flat(page.locator(".dateline").inner_text()) == flat(article["dateline"])
    assert flat(page.locator(".story-text").inner_text()) == flat(article["text"])
    assert flat(payload) in flat(page.locator(".places").inner_text())
    assert flat(f"no match for {payload}") in flat(page.locator(".unplaced").inner_text())
    assert flat(f"Headline {index}") in flat(page.title())
    assert page.locator("a.original").count() == 0  # neither javascript: nor a payload is linked
    if index % 4 == 0:  # the small map's labels (one code path for every payload)
        page.locator(".story-map path.leaflet-interactive").first.hover()
        assert flat(payload) in flat(page.locator(".leaflet-tooltip").inner_text())
    guarded.assert_inert(f"story {index}")


@pytest.mark.browser
def test_payloads_in_the_address_stay_text(guarded):
    page = guarded.page
    for payload in (PAYLOADS[i] for i in (0, 1, 4, 5, 13)):  # tags, handlers, breaks, Jinja
        query = quote(payload.strip()[:180], safe="")
        guarded.goto(f"/?q={query}")
        page.wait_for_selector(READY, state="attached")
        assert page.input_value("input[name=q]") == payload.strip()[:180]
        guarded.goto(f"/?start={query}", status=400)
        assert "Bad date" in page.locator(".error-description").inner_text()
        guarded.goto(f"/stories/{query}", status=404)  # a '/' in it makes it another route
        assert page.locator(".error-description").inner_text()
        guarded.goto(f"/stories/xss-00#{query}")
        guarded.assert_inert(payload)


@pytest.mark.browser
def test_the_policy_blocks_markup_that_gets_past_escaping(guarded):
    """Defence in depth: inline handlers, scripts and javascript: URLs injected into the live
    DOM do not run, because the policy allows only our files and this response's nonce."""
    page = guarded.page
    guarded.goto("/")
    page.wait_for_selector(READY, state="attached")
    page.evaluate("""() => {
        document.body.insertAdjacentHTML('beforeend',
            '<img src="data:," onerror="window.__pwned=1"><svg onload="window.__pwned=2"></svg>' +
            '<a id="jsurl" href="javascript:window.__pwned=3">x</a>');
        var s = document.createElement('script');
        s.textContent = 'window.__pwned = 4';
        document.body.appendChild(s);
        var t = document.createElement('script');
        t.src = 'data:text/javascript,window.__pwned=5';
        document.body.appendChild(t);
    }""")
    page.locator("#jsurl").click()
    page.wait_for_timeout(200)
    assert page.evaluate("window.__pwned") is None
    blocked = page.evaluate("window.__violations")
    assert any(v.startswith("script-src") for v in blocked), blocked


# ------------------------------------------------------------------ template injection

JINJA = [
    "{{ 7*7 }}",
    "{{ cycler.__init__.__globals__.os.getpid() }}",
    "{% raw %}",
    "{#",
    "{{ config.items() }}",
    "{%- for x in range(3) %}{{x}}{% endfor %}",
]


@pytest.mark.parametrize("text", JINJA)
def test_template_syntax_in_the_query_is_data_not_code(hostile_app, text):
    """branca re-compiles each rendered map script as a Jinja template: data must not be a tag."""
    response = hostile_app.test_client().get("/", query_string={"q": text})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    state = re.search(r'"q":\s*("(?:[^"\\]|\\.)*")', page)
    assert state and json.loads(state.group(1)) == text  # the browser gets the text back
    assert "SECRET_KEY" not in page and "MAX_CONTENT_LENGTH" not in page


def test_template_syntax_in_stored_places_is_data_not_code(hostile_app):
    page = hostile_app.test_client().get("/stories/xss-13")
    assert page.status_code == 200
    labels = re.findall(r"label\.textContent = (\"[^\n]*\");", page.get_data(as_text=True))
    assert any(json.loads(label).startswith("Town13 {{ 7*7 }}{% raw %}") for label in labels)


# ------------------------------------------------------------------ headers


def every_kind_of_response(client) -> dict[str, object]:
    """One response of each kind the app sends: pages, API, assets, errors."""
    return {
        "map": client.get("/"),
        "story": client.get("/stories/xss-00"),
        "points": client.get("/api/points"),
        "stats": client.get("/api/stats"),
        "geojson": client.get("/api/places.geojson"),
        "export": client.get("/export.csv"),
        "static": client.get("/static/map.js"),
        "vendor": client.get("/vendor/leaflet/leaflet.js"),
        "basemap": client.get("/basemap/countries.geojson"),
        "400": client.get("/?start=x"),
        "404": client.get("/nowhere"),
        "api-404": client.get("/api/nowhere"),
        "405": client.post("/"),
        "409": client.get("/api/evidence?v=old&m=1"),
        "413": client.get("/", data=b"x" * 99_999),
        "414": client.get("/?q=" + "x" * 9000),
    }


def test_every_response_carries_the_security_headers(hostile_app):
    client = hostile_app.test_client()
    nonces = set()
    for kind, response in every_kind_of_response(client).items():
        headers = response.headers
        policy = headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert "'unsafe-inline'" not in directives["script-src"], kind
        assert "'unsafe-eval'" not in policy and "*" not in directives["script-src"], kind
        assert "'unsafe-inline'" not in directives["style-src"], kind
        assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
        assert directives["base-uri"] == "'none'" and directives["default-src"] == "'self'"
        assert headers["X-Frame-Options"] == "DENY", kind
        assert headers["X-Content-Type-Options"] == "nosniff", kind
        assert headers["Referrer-Policy"] == "same-origin", kind
        nonce = re.search(r"'nonce-([^']+)'", directives["script-src"])
        assert nonce, kind
        nonces.add(nonce.group(1))
        if response.mimetype == "text/html":
            page = response.get_data(as_text=True)
            tags = re.findall(r"<(?:script|style)\b[^>]*>", page)
            assert all(f'nonce="{nonce.group(1)}"' in t or " src=" in t for t in tags), (kind, tags)
            assert not re.search(r"<[^>]+\son\w+\s*=", page), kind  # no inline event handlers
            assert "javascript:" not in page, kind
    assert len(nonces) == len(every_kind_of_response(client))  # a fresh nonce each response


def test_pages_served_from_the_cache_carry_their_own_nonce(hostile_app):
    client = hostile_app.test_client()
    for path in ("/", "/stories/xss-03"):
        seen = set()
        for _ in range(3):  # the second and third come from the page cache
            response = client.get(path)
            nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
            tags = re.findall(r"<script\b[^>]*>", response.get_data(as_text=True))
            inline = [tag for tag in tags if " src=" not in tag]
            assert inline and all(f'nonce="{nonce}"' in tag for tag in inline), path
            assert all(f'nonce="{nonce}"' in tag for tag in tags if "nonce=" in tag), path
            seen.add(nonce)
        assert len(seen) == 3, path


# ------------------------------------------------------------------ path traversal

TRAVERSALS = [
    "/stories/..%2f..%2f..%2fetc%2fpasswd",
    "/stories/../../etc/passwd",
    "/stories/%2e%2e",
    "/stories/xss-00/../../mapapp/web.py",
    "/static/../mapapp/web.py",
    "/static/%2e%2e/web.py",
    "/static/..%2fweb.py",
    "/static/....//....//web.py",
    "/static/%252e%252e/web.py",
    "/vendor/leaflet/../../../../../../etc/passwd",
    "/vendor/leaflet/..%2f__init__.py",
    "/vendor/leaflet/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/vendor/..%2f..%2fmapapp/web.py",
    "/vendor/leaflet//etc/passwd",
    "/vendor/leaflet/%2fetc%2fpasswd",
    "/vendor/leaflet/C:%5cwin.ini",
    "/export.csv/../../etc/passwd",
    "/export.%2e%2e%2fetc%2fpasswd",
    "/export.gpkg%00.csv",
    "/basemap/../../etc/passwd",
    "/basemap/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/static/map.js%00.png",
    "/vendor/leaflet/leaflet.js%00",
    "/..%5c..%5cetc%5cpasswd",
]
SECRETS = (b"root:x:0:0", b"def create_app", b"import ", b"[fonts]", b"__version__")


def raw_get(base_url: str, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (no client-side normalising of '..')."""
    host, port = base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_path_leaves_the_app(hostile_site, path):
    status, body = raw_get(hostile_site, path)
    assert status in (400, 404, 308), (path, status)
    assert not any(secret in body for secret in SECRETS), path


def test_story_ids_are_only_looked_up(hostile_app):
    client = hostile_app.test_client()
    for story_id in (
        "' OR '1'='1",
        "xss-00' --",
        "%",
        "_",
        "xss-0_",
        "*",
        "1; DROP TABLE articles",
    ):
        response = client.get("/stories/" + quote(story_id, safe=""))
        assert response.status_code == 404, story_id
    assert client.get("/stories/xss-00").status_code == 200  # still there


# ------------------------------------------------------------------ binding


def test_serve_binds_loopback_unless_told_and_warns_when_told(monkeypatch, tmp_path):
    from mapapp.cli import cli
    from mapapp.web import server

    calls = []
    monkeypatch.setattr(server, "serve", lambda app, host, port: calls.append((host, port)))
    monkeypatch.delenv("MAPAPP_HOST", raising=False)
    runner = CliRunner()
    store = ["--store", str(tmp_path / "s.gpkg")]
    quiet = runner.invoke(cli, ["serve", *store])
    assert quiet.exit_code == 0 and calls[-1] == ("127.0.0.1", 5000)
    assert "warning" not in quiet.stderr
    for args, env in ((["--host", "0.0.0.0"], {}), ([], {"MAPAPP_HOST": "192.0.2.7"})):
        told = runner.invoke(cli, ["serve", *store, *args], env=env)
        assert told.exit_code == 0 and calls[-1][0] != "127.0.0.1"
        assert (
            f"warning: binding {calls[-1][0]} makes the map reachable from other machines"
            in told.stderr
        )


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_a_real_mapapp_serve_listens_on_127_0_0_1_only(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPAPP_")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mapapp",
            "serve",
            "--port",
            str(port),
            "--store",
            str(tmp_path / "s.gpkg"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not listening_addresses(port):
            assert server.poll() is None and time.monotonic() < deadline, server.communicate()
            time.sleep(0.05)
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, and nothing else
        status, _ = raw_get(f"http://127.0.0.1:{port}", "/api/stats")
        assert status == 200
    finally:
        server.terminate()
        out, err = server.communicate(timeout=10)
    assert "warning" not in err and f"http://127.0.0.1:{port}/" in out
