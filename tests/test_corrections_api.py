"""The corrections API: candidates, the gazetteer search, corrections, undo, the log.

Every store test runs on both backends (``store_location`` from conftest).
The stories carry the candidates a resolver would have weighed; the
gazetteer search is a small stand-in (the web layer is handed one, it never
builds it), and `PlaceSearch` itself is checked on a hand-made gazetteer.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from typing import Any

import pytest
from conftest import ALEPPO, DAMASCUS, PARIS, make_story

from mapapp.recognition.gazetteer import Gazetteer
from mapapp.recognition.place_search import PlaceSearch
from mapapp.records import Place, WeighedPlace
from mapapp.stores import open_store
from mapapp.web import create_app

TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
ALEPPO_GOVERNORATE = Place(
    170062, "Aleppo Governorate", 36.25, 37.5, "A", "ADM1", "SY", "09", "Aleppo", 4_868_000
)
PARIS_TEXAS = Place(
    4717560, "Paris", 33.66094, -95.55551, "P", "PPLA2", "US", "TX", "Texas", 24_782
)
HOMS = Place(169577, "Homs", 34.72682, 36.72339, "P", "PPLA", "SY", "11", "Homs", 775_404)


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


def weighed_stories():
    """Two stories whose mentions carry what the resolver weighed (Paris doubtfully)."""
    syria = make_story(
        "aid-0601",
        date(2024, 6, 1),
        "Convoys reach Aleppo",
        "DAMASCUS -- Convoys from Damascus reached Aleppo on Monday.",
        [
            ("DAMASCUS", DAMASCUS, "dateline"),
            ("Damascus", DAMASCUS, "mention"),
            ("Aleppo", ALEPPO, "focus"),
        ],
    )
    paris = make_story(
        "fair-0602",
        date(2024, 6, 2),
        "A county fair in Paris",
        "The county fair in Paris drew farmers from three states.",
        [("Paris", PARIS, "focus")],
    )
    candidates = {
        "Aleppo": (weighed(ALEPPO, 0.71), weighed(ALEPPO_GOVERNORATE, 0.22)),
        "Paris": (weighed(PARIS, 0.64), weighed(PARIS_TEXAS, 0.30)),
    }
    out = []
    for article, resolutions in (syria, paris):
        out.append(
            (
                article,
                [
                    dataclasses.replace(
                        r,
                        candidates=candidates.get(r.toponym.name, ()),
                        score=0.3 if r.toponym.name == "Paris" else r.score,  # a doubtful one
                    )
                    for r in resolutions
                ],
            )
        )
    return out


class FakeFinder:
    """A gazetteer search over three places (what the CLI's PlaceSearch answers)."""

    places = {p.geonameid: p for p in (HOMS, PARIS_TEXAS, ALEPPO_GOVERNORATE)}

    def search(self, query: str, limit: int = 10) -> list[dict[str, Any]]:
        found = [p for p in self.places.values() if p.name.lower().startswith(query.lower())]
        return [self._dict(p) for p in found[:limit]]

    def place(self, geonameid: int) -> dict[str, Any] | None:
        found = self.places.get(geonameid)
        return self._dict(found) if found else None

    @staticmethod
    def _dict(p: Place) -> dict[str, Any]:
        return {
            "geonameid": p.geonameid,
            "name": p.name,
            "admin1": p.admin1_name,
            "country_code": p.country_code,
            "feature_class": p.feature_class,
            "feature_code": p.feature_code,
            "population": p.population,
            "lat": p.latitude,
            "lon": p.longitude,
        }


@pytest.fixture
def wstore(store_location):
    store = open_store(store_location)
    store.add(weighed_stories())
    return store


@pytest.fixture
def wapp(wstore, tmp_path):
    return create_app(
        {"TESTING": True, "STORE": wstore.location, "CACHE_DIR": str(tmp_path / "cache")},
        place_search=FakeFinder(),
    )


class Browser:
    """A test client that carries its page's CSRF token on every write, like map.js."""

    def __init__(self, app, **kwargs: Any) -> None:
        self.client = app.test_client()
        self.kwargs = kwargs
        page = self.client.get("/", **kwargs).get_data(as_text=True)
        self.token = TOKEN.search(page)[1]

    def get(self, path: str, **kwargs: Any):
        return self.client.get(path, **self.kwargs, **kwargs)

    def post(self, body: Any, **kwargs: Any):
        headers = {"X-CSRF-Token": self.token, **kwargs.pop("headers", {})}
        return self.client.post(
            "/api/corrections", json=body, headers=headers, **self.kwargs, **kwargs
        )

    def delete(self, correction_id: Any):
        return self.client.delete(
            f"/api/corrections/{correction_id}",
            headers={"X-CSRF-Token": self.token},
            **self.kwargs,
        )


def mention_id_of(store, name: str) -> str:
    frame = store.mentions(resolved_only=False)
    return str(frame[frame["name"] == name]["mention_id"].iloc[0])


def point_of(client, mention_id: str) -> tuple[float, float] | None:
    """(lat, lon) of a mention in the points the map loads; None when it is not mapped."""
    payload = client.get("/api/points").get_json()
    ids = payload["mentions"]["id"]
    if mention_id not in ids:
        return None
    place = payload["mentions"]["place"][ids.index(mention_id)]
    return payload["places"]["lat"][place], payload["places"]["lon"][place]


# -- reading ----------------------------------------------------------------------


def test_candidates_of_a_mention(wapp, wstore):
    aleppo = mention_id_of(wstore, "Aleppo")
    answer = wapp.test_client().get(f"/api/mentions/{aleppo}/candidates")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["mention_id"] == aleppo and body["name"] == "Aleppo" and body["base"] == 0
    assert body["current"]["geonameid"] == ALEPPO.geonameid
    assert body["current"]["country"] == "Syria"
    first, second = body["candidates"]
    assert (first["geonameid"], first["chosen"], second["geonameid"], second["chosen"]) == (
        ALEPPO.geonameid,
        True,
        ALEPPO_GOVERNORATE.geonameid,
        False,
    )
    for key in ("name", "admin1", "country", "feature_code", "population", "lat", "lon", "score"):
        assert key in first, key
    assert first["score"] == pytest.approx(0.71) and second["feature_code"] == "ADM1"


@pytest.mark.parametrize("mention_id", ["nope", "aid-0601-1-2", "x" * 80])
def test_candidates_of_an_unknown_mention_is_a_404(wapp, mention_id):
    answer = wapp.test_client().get(f"/api/mentions/{mention_id}/candidates")
    assert answer.status_code == 404
    assert "No mention with id" in answer.get_json()["error"]


def test_search_over_the_gazetteer(wapp):
    answer = wapp.test_client().get("/api/places/search?q=par&limit=5")
    assert answer.status_code == 200
    places = answer.get_json()["places"]
    assert [(p["geonameid"], p["country"]) for p in places] == [(4717560, "United States")]


@pytest.mark.parametrize(
    "query, message",
    [
        ("", "Give the name to search for as q"),
        ("?q=" + "a" * 101, "use at most 100"),
        ("?q=homs&limit=0", "limit must be a whole number"),
        ("?q=homs&limit=x", "limit must be a whole number"),
    ],
)
def test_search_refuses_bad_queries(wapp, query, message):
    answer = wapp.test_client().get(f"/api/places/search{query}")
    assert answer.status_code == 400 and message in answer.get_json()["error"]


def test_search_without_a_gazetteer_is_a_501(wstore, tmp_path):
    app = create_app({"TESTING": True, "STORE": wstore.location})
    answer = app.test_client().get("/api/places/search?q=homs")
    assert answer.status_code == 501 and "no gazetteer" in answer.get_json()["error"]


def test_place_search_on_a_small_gazetteer():
    gazetteer = Gazetteer()
    for place in (HOMS, PARIS_TEXAS, PARIS, ALEPPO):
        gazetteer.add(
            geonameid=place.geonameid,
            name=place.name,
            lat=place.latitude,
            lon=place.longitude,
            fclass=place.feature_class,
            fcode=place.feature_code,
            country=place.country_code,
            admin1=place.admin1_code,
            population=place.population,
        )
    gazetteer.index_name(3, "Halab", 1)
    loads = []
    search = PlaceSearch(lambda: loads.append(1) or gazetteer)
    assert [p["geonameid"] for p in search.search("paris")] == [2988507, 4717560]  # biggest first
    assert [p["geonameid"] for p in search.search("Pa", limit=1)] == [2988507]
    assert [p["name"] for p in search.search("halab")] == ["Aleppo"]
    assert [p["name"] for p in search.search("169577")] == ["Homs"]
    assert search.search("Zzyzx") == [] and search.search("  ") == []
    assert search.search("P") == []  # one letter: whole names only
    assert search.place(4717560)["lat"] == pytest.approx(33.66094)
    assert loads == [1]  # loaded once, on the first question


# -- writing: validation -----------------------------------------------------------

VALIDATION = [
    ("not json", "Send the correction as JSON"),
    ([1, 2], "must be a JSON object"),
    ({"mention_id": "m", "action": "accept", "colour": "red"}, "Unknown field 'colour'"),
    ({"action": "accept"}, "mention_id is missing"),
    ({"mention_id": 7, "action": "accept"}, "mention_id is missing"),
    ({"mention_id": "m" * 301, "action": "accept"}, "mention_id is 301 characters"),
    ({"mention_id": "MID", "action": "delete"}, "action must be one of place, not_a_place"),
    ({"mention_id": "MID"}, "action must be one of"),
    ({"mention_id": "MID", "action": "accept", "scope": "world"}, "scope must be one of"),
    ({"mention_id": "MID", "action": "place"}, "geonameid is missing"),
    ({"mention_id": "MID", "action": "place", "geonameid": "170062"}, "geonameid must be"),
    ({"mention_id": "MID", "action": "place", "geonameid": True}, "geonameid must be"),
    ({"mention_id": "MID", "action": "place", "geonameid": -3}, "geonameid must be"),
    ({"mention_id": "MID", "action": "place", "geonameid": 1.5}, "geonameid must be"),
    ({"mention_id": "MID", "action": "not_a_place", "geonameid": 170062}, "only with action"),
    ({"mention_id": "MID", "action": "accept", "base": -1}, "base must be a whole number"),
    ({"mention_id": "MID", "action": "place", "geonameid": 999}, "geonameid 999 is not a place"),
]


@pytest.mark.parametrize("body, message", VALIDATION)
def test_a_bad_correction_is_a_400_naming_the_field(wapp, wstore, body, message):
    browser = Browser(wapp)
    if isinstance(body, dict) and body.get("mention_id") == "MID":
        body = {**body, "mention_id": mention_id_of(wstore, "Aleppo")}
    if body == "not json":
        answer = browser.client.post(
            "/api/corrections",
            data="mention_id=x",
            content_type="text/plain",
            headers={"X-CSRF-Token": browser.token},
        )
    else:
        answer = browser.post(body)
    assert answer.status_code == 400, answer.get_json()
    assert message in answer.get_json()["error"]
    assert wstore.corrections() == []


def test_a_correction_of_an_unknown_mention_is_a_404(wapp):
    answer = Browser(wapp).post({"mention_id": "aid-0601-900-906", "action": "accept"})
    assert answer.status_code == 404 and "No mention with id" in answer.get_json()["error"]


# -- writing: corrections, undo, conflicts, the log --------------------------------


def test_pick_a_candidate_then_undo(wapp, wstore):
    browser = Browser(wapp)
    aleppo = mention_id_of(wstore, "Aleppo")
    before = point_of(browser.client, aleppo)
    assert before == pytest.approx((ALEPPO.latitude, ALEPPO.longitude), abs=1e-4)
    etag = browser.get("/api/points").headers["ETag"]

    answer = browser.post(
        {"mention_id": aleppo, "action": "place", "geonameid": 170062, "scope": "mention"}
    )
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert isinstance(body["id"], int) and body["correction"]["action"] == "place"
    assert body["correction"]["editor"]  # the local user
    assert body["mention"]["geonameid"] == 170062 and body["mention"]["reviewed"] is True
    # the map's cached data is not served stale: new version, the marker moved
    assert browser.get("/api/points").headers["ETag"] != etag
    assert point_of(browser.client, aleppo) == pytest.approx((36.25, 37.5), abs=1e-4)
    story = browser.get("/stories/aid-0601").get_data(as_text=True)
    assert "Aleppo Governorate" in story

    undone = browser.delete(body["id"])
    assert undone.status_code == 200, undone.get_json()
    assert undone.get_json()["mention"]["geonameid"] == ALEPPO.geonameid
    assert undone.get_json()["correction"]["undone"] is True
    assert point_of(browser.client, aleppo) == pytest.approx(before, abs=1e-4)

    again = browser.delete(body["id"])
    assert again.status_code == 409 and "already undone" in again.get_json()["error"]
    assert browser.delete(9999).status_code == 404


def test_a_place_from_the_gazetteer_not_a_place_and_accept(wapp, wstore):
    browser = Browser(wapp)
    aleppo, paris, damascus = (mention_id_of(wstore, n) for n in ("Aleppo", "Paris", "Damascus"))
    moved = browser.post({"mention_id": aleppo, "action": "place", "geonameid": HOMS.geonameid})
    assert moved.status_code == 201, moved.get_json()
    assert moved.get_json()["mention"]["resolved_name"] == "Homs"
    gone = browser.post({"mention_id": paris, "action": "not_a_place", "geonameid": None})
    assert gone.status_code == 201, gone.get_json()
    assert gone.get_json()["mention"]["geonameid"] is None
    assert point_of(browser.client, paris) is None
    accepted = browser.post({"mention_id": damascus, "action": "accept", "scope": "story"})
    assert accepted.status_code == 201, accepted.get_json()
    assert accepted.get_json()["mention"]["reviewed"] is True

    log = browser.get("/api/corrections").get_json()["corrections"]
    assert [c["action"] for c in log] == ["accept", "not_a_place", "place"]  # newest first
    assert log[0]["scope"] == "story" and log[2]["old"]["geonameid"] == ALEPPO.geonameid
    browser.delete(log[1]["id"])
    active = browser.get("/api/corrections?active=1").get_json()["corrections"]
    assert [c["action"] for c in active] == ["accept", "place"]
    assert browser.get("/api/corrections?active=2").status_code == 400


def test_the_later_of_two_concurrent_corrections_gets_a_409(wapp, wstore):
    first, second = Browser(wapp), Browser(wapp)
    aleppo = mention_id_of(wstore, "Aleppo")
    seen = first.get(f"/api/mentions/{aleppo}/candidates").get_json()["base"]
    assert second.get(f"/api/mentions/{aleppo}/candidates").get_json()["base"] == seen == 0
    won = first.post({"mention_id": aleppo, "action": "place", "geonameid": 170062, "base": seen})
    assert won.status_code == 201
    lost = second.post({"mention_id": aleppo, "action": "not_a_place", "base": seen})
    assert lost.status_code == 409
    assert "while you were looking at it" in lost.get_json()["error"]
    fresh = second.get(f"/api/mentions/{aleppo}/candidates").get_json()
    assert fresh["base"] == won.get_json()["id"] and fresh["current"]["geonameid"] == 170062
    retried = second.post({"mention_id": aleppo, "action": "not_a_place", "base": fresh["base"]})
    assert retried.status_code == 201


# -- writing: who may -------------------------------------------------------------


def test_api_writes_are_guarded(wstore, tmp_path):
    def app(**settings):
        return create_app(
            {"TESTING": True, "STORE": wstore.location, **settings}, place_search=FakeFinder()
        )

    aleppo = mention_id_of(wstore, "Aleppo")
    body = {"mention_id": aleppo, "action": "accept"}
    local = Browser(app())
    assert local.client.post("/api/corrections", json=body).status_code == 403  # no token
    foreign = local.post(body, headers={"Host": "evil.example"})
    assert foreign.status_code == 400
    assert local.client.delete("/api/corrections/1").status_code == 403
    remote = Browser(app(), environ_base={"REMOTE_ADDR": "10.9.8.7"})
    refused = remote.post(body)
    assert refused.status_code == 401 and "editor login" in refused.get_json()["error"]
    assert remote.delete(1).status_code == 401
    read_only = Browser(app(READ_ONLY=True))
    shut = read_only.post(body)
    assert shut.status_code == 403 and "read-only" in shut.get_json()["error"]
    assert wstore.corrections() == []
    assert local.post(body).status_code == 201


# -- the review pages ---------------------------------------------------------------


@pytest.fixture
def review_app(store_location, tmp_path):
    """The app on a store holding the weighed stories and the conftest ones (payloads too)."""
    from conftest import story_records

    store = open_store(store_location)
    store.add(weighed_stories() + story_records())
    app = create_app(
        {"TESTING": True, "STORE": store.location, "CACHE_DIR": str(tmp_path / "cache")},
        place_search=FakeFinder(),
    )
    return app, store


def queue_ids(client, query: str = "") -> list[str]:
    page = client.get(f"/review{query}")
    assert page.status_code == 200
    return re.findall(
        r'class="review-item"[^>]*data-mention-id="([^"]+)"', page.get_data(as_text=True)
    )


def test_the_review_queue_page(review_app, payloads):
    app, store = review_app
    browser = Browser(app)
    page = browser.get("/review").get_data(as_text=True)
    paris = mention_id_of(store, "Paris")  # the first Paris: the county fair's, doubtful
    assert paris == "fair-0602-19-24"
    ids = queue_ids(browser.client)
    assert paris in ids
    assert TOKEN.search(page)[1] and '<ol class="review-queue"' in page
    assert f"{len(ids)}</span>" in page and "left to review" in page
    item = page.split(f'data-mention-id="{paris}"', 1)[1].split('class="review-item"', 1)[0]
    assert 'data-geonameid="2988507"' in item and 'data-geonameid="4717560"' in item
    assert "score 0.30 is below" in item
    assert '<option value="FR">France</option>' in page
    for payload in (payloads.script, payloads.img, payloads.sentinel):
        assert payload not in page  # every name and headline is escaped

    # filters: the map's own query
    assert paris not in queue_ids(browser.client, "?end=2024-05-31")
    assert paris not in queue_ids(browser.client, "?country=SY")
    assert paris in queue_ids(browser.client, "?start=2024-06-02&country=FR")
    assert browser.get("/review?start=yesterday").status_code == 400

    # an accepted place leaves the queue
    assert browser.post({"mention_id": paris, "action": "accept"}).status_code == 201
    assert paris not in queue_ids(browser.client)


def test_review_buttons_are_off_for_those_who_cannot_write(review_app):
    app, _ = review_app
    remote = app.test_client().get("/review", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    page = remote.get_data(as_text=True)
    assert "Sign in to correct" in page
    assert re.search(r'class="review-not-a-place"[^>]*\s+disabled', page)
    local = app.test_client().get("/review").get_data(as_text=True)
    assert "Sign in to correct" not in local
    assert not re.search(r'class="review-not-a-place"[^>]*\s+disabled', local)


def test_the_corrections_log_page(review_app, payloads):
    app, store = review_app
    browser = Browser(app)
    aleppo = "aid-0601-42-48"
    paris = mention_id_of(store, "Paris")
    moved = browser.post({"mention_id": aleppo, "action": "place", "geonameid": 170062})
    gone = browser.post({"mention_id": paris, "action": "not_a_place", "scope": "story"})
    assert moved.status_code == gone.status_code == 201
    browser.delete(moved.get_json()["id"])

    page = browser.get("/review/log").get_data(as_text=True)
    rows = re.findall(r'data-correction-id="(\d+)"', page)
    assert rows == [str(gone.get_json()["id"]), str(moved.get_json()["id"])]  # newest first
    assert 'Aleppo <span class="review-id">(GeoNames 170063)</span>' in page  # was
    assert "Aleppo Governorate" in page and "this name in this story" in page
    assert f'data-undo="{gone.get_json()["id"]}"' in page  # active: an undo button
    assert f'data-undo="{moved.get_json()["id"]}"' not in page and "undone" in page
    assert "Convoys reach Aleppo" in page and "A county fair in Paris" in page

    def logged(query: str) -> list[str]:
        text = browser.get(f"/review/log{query}").get_data(as_text=True)
        return re.findall(r'data-mention-id="([^"]+)"', text)

    assert logged("?country=FR") == [paris]  # not a place now, but its story was in France
    assert logged("?country=SY") == [aleppo]
    assert logged("?end=2024-06-01") == [aleppo]
    assert logged("?start=2024-07-01") == []


def test_serve_wires_the_gazetteer_search_in_without_loading_it(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from mapapp.cli import cli
    from mapapp.web import server
    from mapapp.web.corrections import FINDER_KEY

    served = []
    monkeypatch.setattr(server, "serve", lambda app, host, port: served.append(app))
    result = CliRunner().invoke(cli, ["serve", "--store", str(tmp_path / "s.gpkg")])
    assert result.exit_code == 0, result.output
    search = served[0].extensions[FINDER_KEY]
    assert isinstance(search, PlaceSearch) and search._gazetteer is None  # loaded on first use
