"""The Flask app through its test client: routes, filters, errors, escaping, isolation."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mapapp.settings import PROJECT_ROOT
from mapapp.web import create_app
from mapapp.web.server import serve

STORY_IDS = ("syria-0301", "geneva-0315", "lagos-0410", "xss-0420", "tokyo-0502", "paris-undated")
PAGES = (
    "/",
    "/?start=2024-03-01&end=2024-03-31",
    *(f"/stories/{i}" for i in STORY_IDS),
    "/stories/missing",
    "/?start=banana",
)


def geojson(client, query: str = "") -> dict:
    response = client.get(f"/api/places.geojson{query}")
    assert response.status_code == 200, response.data
    assert response.mimetype == "application/geo+json"
    return json.loads(response.data)


class Assets(HTMLParser):
    """Every URL a page would load (script, stylesheet, image, frame) or link to."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attrs_ = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "video", "audio") and attrs_.get("src"):
            self.loads.append(attrs_["src"])
        if tag == "link" and attrs_.get("href"):
            self.loads.append(attrs_["href"])
        if tag == "a" and attrs_.get("href"):
            self.links.append(attrs_["href"])


class Marks(HTMLParser):
    """The story text as plain text, with the [start, end) of each <mark> in it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # > 0 inside div#story-text
        self.text = ""
        self.marks: list[tuple[int, int, dict]] = []
        self._open: tuple[int, dict] | None = None

    def handle_starttag(self, tag, attrs):
        attrs_ = dict(attrs)
        if tag == "div" and attrs_.get("id") == "story-text":
            self.depth = 1
        elif self.depth and tag == "div":
            self.depth += 1
        elif self.depth and tag == "mark":
            self._open = (len(self.text), attrs_)

    def handle_endtag(self, tag):
        if self.depth and tag == "div":
            self.depth -= 1
        elif self.depth and tag == "mark" and self._open:
            start, attrs_ = self._open
            self.marks.append((start, len(self.text), attrs_))
            self._open = None

    def handle_data(self, data):
        if self.depth:
            self.text += data


def test_factory_reads_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)  # a relative store: its companions (the session key) go here
    assert not create_app().testing
    app = create_app({"TESTING": True, "STORE": "elsewhere.gpkg"})
    assert app.testing and app.config["MAPAPP_SETTINGS"].store == "elsewhere.gpkg"
    assert Path(app.template_folder) == PROJECT_ROOT / "templates"


def test_map_page_renders(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "mapapp.placesLayer(" in page
    assert '"url": "/api/points"' in page
    assert '"storyUrl": "/stories/ARTICLE-ID"' in page
    assert '"exportUrl": "/export.FORMAT"' in page


def test_map_page_passes_the_range_to_the_script(client):
    page = client.get("/?start=2024-03-01&end=2024-03-31").get_data(as_text=True)
    assert '"start": "2024-03-01"' in page and '"end": "2024-03-31"' in page


def test_geojson_holds_every_resolved_mention(client, store):
    data = geojson(client)
    assert data["type"] == "FeatureCollection"
    resolved = store.mentions(include_undated=True)
    assert len(data["features"]) == len(resolved) == 17
    assert {f["properties"]["article_id"] for f in data["features"]} == set(STORY_IDS)
    assert "Nowhere Junction" not in {f["properties"]["name"] for f in data["features"]}


def test_geojson_feature_is_lon_lat_with_the_listed_properties(client):
    damascus = next(
        f for f in geojson(client)["features"] if f["properties"]["geonameid"] == 170654
    )
    assert damascus["geometry"] == {"type": "Point", "coordinates": [36.29128, 33.5102]}
    props = damascus["properties"]
    assert props["story_url"] == "/stories/syria-0301"
    assert props["url"] == "https://news.example/syria-0301"
    assert props["published"] == "2024-03-01"
    assert (props["resolved_name"], props["country_code"], props["admin1_name"]) == (
        "Damascus",
        "SY",
        "Dimashq",
    )
    assert props["kind"] == "point" and props["score"] == 0.9
    for key in ("article_id", "headline", "name", "feature_code", "role"):
        assert props[key]


def test_countries_are_areas(client):
    kinds = {
        f["properties"]["resolved_name"]: f["properties"]["kind"]
        for f in geojson(client)["features"]
    }
    assert kinds["Syria"] == kinds["France"] == "area"
    assert kinds["Geneva"] == kinds["Tokyo"] == "point"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?start=2024-03-01&end=2024-03-31", {"syria-0301", "geneva-0315"}),
        ("?start=2024-04-01", {"lagos-0410", "xss-0420", "tokyo-0502"}),
        ("?end=2024-03-10", {"syria-0301"}),
        ("?start=2024-04-20&end=2024-04-20", {"xss-0420"}),
        ("?start=2025-01-01", set()),
        ("?start=&end=", set(STORY_IDS)),  # blank bounds: everything, undated too
    ],
)
def test_date_filter_narrows_the_geojson(client, query, expected):
    data = geojson(client, query)
    assert {f["properties"]["article_id"] for f in data["features"]} == expected


@pytest.mark.parametrize("path", ["/", "/api/places.geojson"])
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?start=banana", "Bad date 'banana': use YYYY-MM-DD"),
        ("?end=2024-02-30", "Bad date '2024-02-30': use YYYY-MM-DD"),
        ("?start=2024-3-1", "Bad date '2024-3-1': use YYYY-MM-DD"),
        ("?start=2024-05-01&end=2024-04-01", "Start date 2024-05-01 is after end date 2024-04-01"),
    ],
)
def test_bad_dates_are_400_with_a_sentence(client, path, query, message):
    response = client.get(path + query)
    assert response.status_code == 400
    shown = (
        response.get_json()["error"]
        if response.is_json
        else unescape(response.get_data(as_text=True))
    )
    assert message in shown


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?bbox=35,32,38,37", {"syria-0301", "geneva-0315"}),  # Damascus, Aleppo, Syria
        ("?bbox=6.1,46.1,6.2,46.3", {"geneva-0315"}),
        ("?bbox=-10,-10,0,0", set()),
        ("?bbox=35,32,38,37&start=2024-03-10", {"geneva-0315"}),
        ("?bbox=", set(STORY_IDS)),  # blank: no box
    ],
)
def test_bbox_narrows_the_geojson(client, query, expected):
    data = geojson(client, query)
    assert {f["properties"]["article_id"] for f in data["features"]} == expected
    for feature in data["features"]:
        if "bbox=" in query and query != "?bbox=":
            west, south, east, north = map(float, query.split("bbox=")[1].split("&")[0].split(","))
            x, y = feature["geometry"]["coordinates"]
            assert west <= x <= east and south <= y <= north


@pytest.mark.parametrize(
    "bbox", ["1,2,3", "a,b,c,d", "10,0,5,1", "0,0,1,95", "nan,0,1,1", "-200,0,1,1"]
)
def test_bad_bbox_is_400_with_a_sentence(client, bbox):
    response = client.get(f"/api/places.geojson?bbox={bbox}")
    assert response.status_code == 400 and response.is_json
    assert "bbox must be" in response.get_json()["error"]


def test_api_errors_are_json(client):
    response = client.get("/api/places.geojson?start=banana")
    assert response.status_code == 400 and response.is_json
    assert response.get_json()["error"] == "Bad date 'banana': use YYYY-MM-DD"


def test_missing_story_is_404_with_a_sentence(client):
    response = client.get("/stories/no-such-story")
    assert response.status_code == 404
    assert "No story with id 'no-such-story' is in the store." in unescape(
        response.get_data(as_text=True)
    )


def test_empty_store_still_serves_the_map(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "STORE": str(tmp_path / "absent.gpkg"),
            "CACHE_DIR": str(tmp_path / "cache"),
        }
    )
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert geojson(client)["features"] == []
    assert client.get("/api/stats").get_json()["articles"] == 0
    assert client.get("/stories/anything").status_code == 404
    assert not (tmp_path / "absent.gpkg").exists()  # reading never creates a store


def test_stats(client):
    stats = client.get("/api/stats").get_json()
    assert stats["articles"] == 6 and stats["undated_articles"] == 1
    assert stats["unresolved"] == 1
    assert (stats["first_date"], stats["last_date"]) == ("2024-03-01", "2024-05-02")


def test_headlines_are_escaped_in_pages(client, payloads):
    for story_id in ("lagos-0410", "xss-0420"):
        page = client.get(f"/stories/{story_id}").get_data(as_text=True)
        for raw in (payloads.img, payloads.script, payloads.sentinel):
            assert raw not in page
        assert "<img" not in page and "alert(2)</script>" not in page
    page = client.get("/stories/lagos-0410").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_payloads_are_inert_in_the_json(client, payloads):
    response = client.get("/api/places.geojson")
    body = response.get_data(as_text=True)
    assert "<" not in body and ">" not in body  # escaped as \\u003c, \\u003e
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    headlines = {f["properties"]["headline"] for f in json.loads(body)["features"]}
    assert payloads.img in headlines  # the text itself survives intact
    assert f"{payloads.template} {payloads.script}" in headlines


def test_unsafe_original_url_is_not_linked(client):
    page = client.get("/stories/xss-0420").get_data(as_text=True)
    assert "javascript:" not in page
    assert all(
        f["properties"]["url"] is None
        for f in geojson(client)["features"]
        if f["properties"]["article_id"] == "xss-0420"
    )


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_nothing_from_other_hosts(client, path):
    page = client.get(path).get_data(as_text=True)
    assets = Assets()
    assets.feed(page)
    assert assets.loads, path
    for url in assets.loads:
        assert url.startswith("/") and not url.startswith("//") or url.startswith("data:"), url
    allowed = {"https://news.example/syria-0301"}  # the one story's original article
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) <= allowed
    for url in assets.links:
        assert url.startswith(("/", "#")) or url in allowed, url
    assert "cdn" not in page.lower()


def test_security_headers(client):
    for path in ("/", "/stories/syria-0301", "/api/places.geojson", "/nowhere"):
        headers = client.get(path).headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "default-src 'self'" in headers["Content-Security-Policy"]


def test_tiles_setting_adds_the_layer_and_its_host(store, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "STORE": store.location,
            "TILES": "https://{s}.tiles.example/{z}/{x}/{y}.png",
            "TILES_ATTRIBUTION": "Tiles: Example",
        }
    )
    response = app.test_client().get("/")
    page = response.get_data(as_text=True)
    assert "L.tileLayer(" in page and "Tiles: Example" in page
    assert "https://*.tiles.example" in response.headers["Content-Security-Policy"]


def test_story_page_shows_the_article(client):
    page = client.get("/stories/syria-0301").get_data(as_text=True)
    assert "Talks open in Damascus" in page
    assert "Neighbours meet as convoys move north" in page
    assert '<time class="published" datetime="2024-03-01">2024-03-01</time>' in page
    assert '<bdi class="dateline">DAMASCUS</bdi>' in page
    assert 'href="/"' in page  # back to the map
    assert 'href="https://news.example/syria-0301"' in page
    assert page.count("L.circleMarker(") == 3  # Damascus, Syria, Aleppo
    assert '<li id="place-170063"' in page


def test_undated_story_says_so(client):
    page = client.get("/stories/paris-undated").get_data(as_text=True)
    assert '<time class="published">undated</time>' in page


@pytest.mark.parametrize("story_id", STORY_IDS)
def test_story_page_marks_places_at_their_offsets(client, store, story_id):
    article = store.article(story_id)
    mentions = store.mentions(article_id=story_id, resolved_only=False)
    parsed = Marks()
    parsed.feed(client.get(f"/stories/{story_id}").get_data(as_text=True))
    assert parsed.text == article["text"]  # nothing lost, nothing added
    assert [(s, e) for s, e, _ in parsed.marks] == list(
        zip(mentions["start"], mentions["end"], strict=False)
    )
    for (start, end, _attrs), name in zip(parsed.marks, mentions["name"], strict=False):
        assert parsed.text[start:end] == name


def test_marks_link_to_their_place(client):
    parsed = Marks()
    parsed.feed(client.get("/stories/syria-0301").get_data(as_text=True))
    page = client.get("/stories/syria-0301").get_data(as_text=True)
    assert '<a href="#place-170063" data-point="place-170063"><bdi>Aleppo</bdi></a>' in page
    unresolved = [a for _, _, a in parsed.marks if "unresolved" in a.get("class", "")]
    assert len(unresolved) == 1 and unresolved[0]["title"] == "Not placed: no gazetteer candidate"


def test_vendor_files_are_served_locally(client):
    for path in (
        "/vendor/leaflet/leaflet.js",
        "/vendor/leaflet/leaflet.css",
        "/vendor/leaflet/images/marker-icon.png",
        "/vendor/markercluster/leaflet.markercluster.js",
        "/vendor/markercluster/MarkerCluster.Default.css",
        "/vendor/jquery/jquery.min.js",
        "/static/map.js",
        "/static/story.js",
        "/static/mapapp.css",
    ):
        assert client.get(path).status_code == 200, path
    assert client.get("/vendor/bootstrap/bootstrap.js").status_code == 404
    assert client.get("/vendor/leaflet/../../../../etc/passwd").status_code == 404


def test_basemap_is_geojson_outlines(client, outlines, app, tmp_path):
    response = client.get("/basemap/countries.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    data = json.loads(response.data)
    assert data["type"] == "FeatureCollection" and len(data["features"]) > 150
    assert any(f["properties"]["name"] == "Syria" for f in data["features"])
    assert list((tmp_path / "cache" / "basemap").glob("*.geojson"))  # cached on disk
    again = client.get(
        "/basemap/countries.geojson", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_basemap_without_world_atlas_is_empty(store, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "STORE": store.location,
            "DATA_PACKAGES": str(tmp_path / "no-node-modules"),
        }
    )
    data = json.loads(app.test_client().get("/basemap/countries.geojson").data)
    assert data == {"type": "FeatureCollection", "features": []}


def test_serve_uses_waitress_and_prints_the_url(app, monkeypatch, capsys):
    import waitress

    calls = []
    monkeypatch.setattr(waitress, "serve", lambda *a, **kw: calls.append((a, kw)))
    serve(app, "127.0.0.1", 5000)
    ((args, kwargs),) = calls
    assert args == (app,) and (kwargs["host"], kwargs["port"]) == ("127.0.0.1", 5000)
    assert kwargs["max_request_body_size"] == app.config["MAX_CONTENT_LENGTH"]  # refused unread
    assert "http://127.0.0.1:5000/" in capsys.readouterr().out


def test_web_does_not_import_the_geocoder():
    code = (
        "import sys, mapapp.web; bad = [m for m in sys.modules if m.startswith(("
        "'mapapp.resolution', 'mapapp.recognition', 'mapapp.geoparsing', 'spacy'))]; "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_counts_fixture_matches_the_geojson(client, counts):
    data = geojson(client, "?start=2024-03-01&end=2024-03-31")
    places = {f["properties"]["geonameid"] for f in data["features"]}
    stories = {f["properties"]["article_id"] for f in data["features"]}
    assert (len(places), len(stories)) == counts(date(2024, 3, 1), date(2024, 3, 31))


def test_assets_follow_a_prefixed_mount(client):
    page = client.get("/", base_url="http://localhost/news/").get_data(as_text=True)
    assets = Assets()
    assets.feed(page)
    local = [u for u in assets.loads if not u.startswith("data:")]
    assert local and all(u.startswith("/news/") for u in local), local
    assert '"url": "/news/api/points"' in page
    assert '"storyUrl": "/news/stories/ARTICLE-ID"' in page
    assert 'href="/news/export.csv"' in page


def test_demonyms_and_qualifiers_are_context_not_markers(tmp_path):
    """A "Syrian" demonym is stored for context but never becomes a map marker."""
    from conftest import DAMASCUS, SYRIA, make_story

    from mapapp.stores import open_store
    from mapapp.web import create_app

    record = make_story(
        "d1",
        date(2024, 3, 1),
        "Bread queues",
        "Syrian bakers in Damascus, Syria, queued for flour.",
        [
            ("Syrian", SYRIA, "demonym"),
            ("Damascus", DAMASCUS, "mention"),
            ("Syria", SYRIA, "qualifier"),
        ],
    )
    store = open_store(tmp_path / "demonym.gpkg")
    store.add([record])
    client = create_app(
        {"TESTING": True, "STORE": store.location, "CACHE_DIR": str(tmp_path / "cache")}
    ).test_client()
    features = client.get("/api/places.geojson").get_json()["features"]
    assert [f["properties"]["name"] for f in features] == ["Damascus"]
    assert len(store.mentions()) == 3


# -- the map's state in the URL ----------------------------------------------


def placed_options(page: str) -> dict:
    """The options map.js is started with (the parsed view is in ``state``)."""
    return json.loads(re.search(r"mapapp\.placesLayer\(\s*\w+, (\{.*?\})\);", page).group(1))


def test_map_page_honours_every_filter_in_the_url(client):
    page = client.get(
        "/?start=2024-03-01&end=2024-03-31&undated=0&q=Damascus&country=sy"
        "&role=dateline,focus&min_score=0.25&areas=0&lat=33.5&lon=36.3&zoom=6"
        "&layer=mentions&types=protest,riot&dates=published"
    ).get_data(as_text=True)
    state = placed_options(page)["state"]
    assert state == {
        "start": "2024-03-01",
        "end": "2024-03-31",
        "undated": False,
        "q": "Damascus",
        "country": "SY",
        "roles": ["dateline", "focus"],
        "minScore": 0.25,
        "areas": False,
        "lat": 33.5,
        "lon": 36.3,
        "zoom": 6,
        "layer": "mentions",
        "types": ["protest", "riot"],
        "dates": "published",
    }
    assert placed_options(page)["fit"] is False
    assert '"zoom": 6' in page  # Leaflet opens there, before any script runs
    # The form shows the same state (and works without JavaScript).
    assert 'name="q" value="Damascus"' in page
    assert '<option value="SY" selected>Syria' in page
    assert 'value="dateline" checked' in page and 'value="mention" checked' not in page
    assert 'name="start" form="filters"\n          value="2024-03-01"' in page
    assert 'href="/export.geojson?start=2024-03-01&amp;end=2024-03-31&amp;undated=0' in page


def test_map_page_without_a_view_fits_the_places(client):
    options = placed_options(client.get("/").get_data(as_text=True))
    assert options["fit"] is True and options["state"]["lat"] is None


def test_form_submission_without_javascript_is_understood(client):
    # What the plain HTML form sends: hidden defaults first, then the checked boxes.
    query = (
        "?q=&country=&role=&role=focus&min_score=0&areas=0&areas=1&start=2024-04-01&end=&undated=0"
    )
    state = placed_options(client.get("/" + query).get_data(as_text=True))["state"]
    assert state["roles"] == ["focus"] and state["areas"] is True
    assert state["undated"] is False and state["start"] == "2024-04-01"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?role=capital", "Unknown role 'capital': use dateline, focus, mention"),
        ("?country=Syria", "Bad country 'Syria': use a two-letter code such as SY"),
        ("?min_score=2", "Bad min_score '2': use a number from 0 to 1"),
        ("?min_score=nan", "Bad min_score 'nan': use a number from 0 to 1"),
        ("?undated=maybe", "Bad undated 'maybe': use 1 to show or 0 to hide"),
        ("?lat=95&lon=0&zoom=3", "Bad lat '95': use a number from -90 to 90"),
        ("?zoom=40&lat=0&lon=0", "Bad zoom '40': use a number from 0 to 18"),
        ("?q=" + "x" * 201, "Search text is 201 characters long: use at most 200"),
    ],
)
@pytest.mark.parametrize("path", ["/", "/export.csv"])
def test_bad_view_parameters_are_400_with_a_sentence(client, path, query, message):
    response = client.get(path + query)
    assert response.status_code == 400
    assert message in unescape(response.get_data(as_text=True))


# -- /api/points and /api/evidence --------------------------------------------


def points(client) -> dict:
    response = client.get("/api/points")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return json.loads(response.data)


def test_points_hold_every_mappable_mention_once(client, store):
    data = points(client)
    mapped = store.mentions(include_undated=True)
    assert len(data["mentions"]["story"]) == len(mapped) == 17
    assert sorted(data["stories"]["id"]) == sorted(STORY_IDS)
    assert len(data["places"]["key"]) == mapped["geonameid"].nunique() == 9
    assert data["low_score"] == 500


def test_points_are_inert_compressed_and_cached(client, payloads):
    plain = client.get("/api/points")
    body = plain.get_data(as_text=True)
    assert "<" not in body and ">" not in body  # escaped as \u003c, \u003e
    assert payloads.img in json.loads(body)["stories"]["headline"]
    zipped = client.get("/api/points", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert len(zipped.data) < len(plain.data)
    import gzip

    assert gzip.decompress(zipped.data) == plain.data
    again = client.get("/api/points", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304


def test_points_follow_the_store_file(app, client, store, articles_records):
    from conftest import LAGOS, make_story

    before = points(client)["version"]
    store.add(
        [
            make_story(
                "lagos-0601",
                date(2024, 6, 1),
                "Rain again in Lagos",
                "LAGOS -- Rain fell.",
                [("LAGOS", LAGOS, "dateline")],
            )
        ]
    )
    data = points(client)
    assert data["version"] != before and "lagos-0601" in data["stories"]["id"]


def test_evidence_marks_the_name_in_its_sentence(client):
    data = points(client)
    aleppo = data["places"]["key"].index("g170063")
    row = data["mentions"]["place"].index(aleppo)
    response = client.get(f"/api/evidence?v={data['version']}&m={row}")
    assert response.status_code == 200
    (found,) = response.get_json()["evidence"]
    assert found["match"] == "Aleppo" and found["m"] == row
    assert found["before"] + found["match"] + found["after"] == (
        "Aid convoys later left Aleppo for the north, passing Nowhere Junction."
    )
    assert found["score"] == 0.9 and found["role"] == "mention"


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("m=0", 409),  # no version: the page's numbering may be stale
        ("v=VERSION&m=", 400),
        ("v=VERSION&m=a,b", 400),
        ("v=VERSION&m=99", 400),
        ("v=VERSION&m=" + ",".join(["0"] * 201), 400),
    ],
)
def test_evidence_refuses_bad_requests(client, query, status):
    version = points(client)["version"]
    response = client.get("/api/evidence?" + query.replace("VERSION", version))
    assert response.status_code == status and response.is_json
    assert response.get_json()["error"]


# -- exports -------------------------------------------------------------------


def read_export(data: bytes, fmt: str, tmp_path: Path):
    import geopandas
    import pandas

    path = tmp_path / f"download.{fmt}"
    path.write_bytes(data)
    if fmt == "csv":
        table = pandas.read_csv(path)
        return geopandas.GeoDataFrame(
            table, geometry=geopandas.points_from_xy(table["lon"], table["lat"]), crs="EPSG:4326"
        )
    return geopandas.read_file(path)


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
@pytest.mark.parametrize(
    ("query", "articles"),
    [
        ("", set(STORY_IDS)),
        ("?start=2024-03-01&end=2024-03-31&undated=0", {"syria-0301", "geneva-0315"}),
        ("?q=lagos&lat=1&lon=2&zoom=3", {"lagos-0410"}),  # the view itself is ignored
        ("?country=SY&role=mention", {"syria-0301", "geneva-0315"}),
        ("?min_score=0.95", set()),
    ],
)
def test_export_holds_the_filtered_view(client, tmp_path, fmt, query, articles):
    response = client.get(f"/export.{fmt}{query}")
    assert response.status_code == 200, response.data[:200]
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    frame = read_export(response.data, fmt, tmp_path)
    assert set(frame["article_id"]) == articles if len(frame) else articles == set()
    assert int(response.headers["X-Mapapp-Rows"]) == len(frame)
    if len(frame):
        damascus = frame[frame["geonameid"] == 170654]
        for point in damascus.geometry:
            assert (round(point.x, 4), round(point.y, 4)) == (36.2913, 33.5102)  # lon, lat
        assert {"headline", "sentence", "score", "role", "resolved_name"} <= set(frame.columns)


def test_export_of_an_unknown_format_is_404(client):
    response = client.get("/export.xlsx")
    assert response.status_code == 404
    assert "No export format 'xlsx'" in unescape(response.get_data(as_text=True))


def test_export_view_is_the_command_line_twin(store, tmp_path, client):
    from mapapp.errors import ConfigError
    from mapapp.maps.export import export_view

    out = export_view(
        store.location, tmp_path / "march.gpkg", "gpkg", "start=2024-03-01&end=2024-03-31&undated=0"
    )
    frame = read_export(out.read_bytes(), "gpkg", tmp_path)
    web = read_export(
        client.get("/export.gpkg?start=2024-03-01&end=2024-03-31&undated=0").data, "gpkg", tmp_path
    )
    assert sorted(frame["article_id"]) == sorted(web["article_id"]) and len(frame) == 8
    with pytest.raises(ConfigError, match="Bad date 'March'"):
        export_view(store.location, tmp_path / "x.csv", "csv", "start=March")
    with pytest.raises(ConfigError, match="unknown export format"):
        export_view(store.location, tmp_path / "x.kml", "kml")


# -- story pages: previous and next --------------------------------------------


@pytest.mark.parametrize(
    ("story_id", "older", "newer"),
    [
        ("syria-0301", None, "geneva-0315"),
        ("lagos-0410", "geneva-0315", "xss-0420"),
        ("tokyo-0502", "xss-0420", "paris-undated"),
        ("paris-undated", "tokyo-0502", None),
    ],
)
def test_story_page_links_the_stories_before_and_after(client, story_id, older, newer):
    page = client.get(f"/stories/{story_id}").get_data(as_text=True)
    found_older = re.search(r'<a class="older" rel="prev" href="/stories/([^"]+)"', page)
    found_newer = re.search(r'<a class="newer" rel="next" href="/stories/([^"]+)"', page)
    assert (found_older and found_older.group(1)) == older
    assert (found_newer and found_newer.group(1)) == newer


def test_story_places_link_to_the_main_map(client):
    page = client.get("/stories/syria-0301").get_data(as_text=True)
    assert 'href="/?lat=36.2012&amp;lon=37.1612&amp;zoom=7">on the main map</a>' in page


def test_basemap_is_sent_gzipped_when_accepted(client, outlines):
    import gzip

    plain = client.get("/basemap/countries.geojson")
    zipped = client.get("/basemap/countries.geojson", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "gzip" not in plain.headers.get(
        "Content-Encoding", ""
    )
    assert gzip.decompress(zipped.data) == plain.data and len(zipped.data) < len(plain.data) / 2
    data = json.loads(plain.data)
    syria = next(f for f in data["features"] if f["properties"]["name"] == "Syria")
    assert syria["properties"]["iso"] == "SY"  # map.js draws named countries by this code
    again = client.get(
        "/basemap/countries.geojson",
        headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]},
    )
    assert again.status_code == 304
