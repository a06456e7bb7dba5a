"""The story page lists the story's events (both backends): type, trigger marked, date,
counts and places, every text escaped; and ``/api/events`` sends the located ones."""

from __future__ import annotations

import gzip
import json

import pytest
from event_fixtures import event_records

from mapapp.stores import open_store


@pytest.fixture
def events_client(store_location, articles_records, tmp_path):
    from mapapp.web import create_app

    open_store(store_location).add_events(event_records(articles_records))
    app = create_app(
        {"TESTING": True, "STORE": store_location, "CACHE_DIR": str(tmp_path / "cache")}
    )
    return app.test_client()


def test_the_story_page_lists_its_events(events_client):
    page = events_client.get("/stories/lagos-0410").get_data(as_text=True)
    assert '<section class="story-events"' in page
    assert '<span class="event-type">Disaster (flood)</span>' in page
    assert '<mark class="trigger">Flooding</mark>' in page
    assert 'datetime="2024-04-09"' in page
    assert '<span class="event-count" data-count="killed">12 killed</span>' in page
    assert '<span class="event-count" data-count="injured">30 injured</span>' in page
    assert "at <bdi>Lagos</bdi>" in page


def test_an_event_at_two_places_lists_both(store_location, articles_records, tmp_path):
    from event_fixtures import events_for, with_two_places

    from mapapp.records import EventPlace
    from mapapp.web import create_app

    article, resolutions = articles_records[0]
    events = events_for(article, resolutions)
    aleppo = next(r for r in resolutions if r.toponym.name == "Aleppo")
    extra = EventPlace(aleppo.toponym.start, aleppo.toponym.end, "Aleppo", 36.2, 37.2, 170063)
    open_store(store_location).add_events(
        [(article, resolutions, [with_two_places(events[0], extra)])]
    )
    app = create_app({"TESTING": True, "STORE": store_location, "CACHE_DIR": str(tmp_path / "c")})
    page = app.test_client().get("/stories/syria-0301").get_data(as_text=True)
    assert "at <bdi>Damascus, Aleppo</bdi>" in page


def test_placeless_events_and_assumed_dates_are_said(events_client):
    page = events_client.get("/stories/syria-0301").get_data(as_text=True)
    assert page.count('class="event event-') == 2
    assert "no place named" in page
    assert "(date assumed: the publication date)" in page


def test_event_text_is_escaped_on_the_story_page(events_client):
    page = events_client.get("/stories/xss-0420").get_data(as_text=True)
    section = page[page.index('<section class="story-events"') :]
    assert "<script>alert(2)" not in section and "&lt;/script&gt;&lt;script&gt;" in section
    assert "<img src=x" not in section


def test_a_story_without_events_says_so(client):
    page = client.get("/stories/tokyo-0502").get_data(as_text=True)
    assert "No event was found in this story." in page


def test_api_events_sends_the_located_events(events_client):
    response = events_client.get("/api/events", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(response.data))
    assert len(body["events"]) == 5 and len(body["types"]) == 14
    flood = next(e for e in body["events"] if e["type"] == "disaster")
    assert (flood["lat"], flood["lon"]) == pytest.approx((6.45407, 3.39467))
    assert flood["story_url"] == "/stories/lagos-0410"
    assert flood["sentence"][slice(*flood["trigger"])] == "Flooding"
    assert (flood["killed"], flood["injured"], flood["date_assumed"]) == (12, 30, False)
    again = events_client.get("/api/events", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code in (200, 304)


@pytest.mark.parametrize(
    ("query", "message"),
    [("layer=events2", "Bad layer"), ("types=war", "Unknown event type"), ("dates=x", "Bad dates")],
)
def test_bad_event_view_parameters_get_a_sentence(client, query, message):
    response = client.get(f"/?{query}")
    assert response.status_code == 400 and message in response.get_data(as_text=True)
