"""The events layer of the store, on both backends: rows per (event, place), filters,
old stores upgraded, reprocessing, copying, and GeoParquet's clear refusal."""

from __future__ import annotations

import sqlite3
from datetime import date

import pandas
import pytest
from event_fixtures import event_records, events_for

from mapapp.errors import StoreError
from mapapp.stores import open_store
from mapapp.stores.copy import copy_store
from mapapp.stores.schema import EVENT_COLUMNS, JOINED_COLUMNS


@pytest.fixture
def event_store(store_location, articles_records):
    """A store holding the conftest stories with their hand-made events."""
    filled = open_store(store_location)
    assert filled.add_events(event_records(articles_records)).added == len(articles_records)
    return filled


def test_events_are_stored_one_row_per_event_and_place(event_store):
    frame = event_store.events()
    assert list(frame.columns) == [*EVENT_COLUMNS, *JOINED_COLUMNS, "geometry"]
    assert len(frame) == 6 and frame["event_id"].is_unique
    flood = frame[frame["type"] == "disaster"].iloc[0]
    assert flood["event_id"] == "lagos-0410:9-17"
    assert (flood["kind"], flood["killed"], flood["injured"]) == ("flood", 12, 30)
    assert (flood["date"], flood["published"], bool(flood["date_assumed"])) == (
        "2024-04-09",
        "2024-04-10",
        False,
    )
    assert flood["sentence"] == "LAGOS -- Flooding hit Lagos overnight."
    assert (flood["place_name"], flood["geonameid"], flood["country_code"]) == (
        "Lagos",
        2332459,
        "NG",
    )
    assert (flood.geometry.x, flood.geometry.y) == pytest.approx((3.39467, 6.45407))
    assert flood["headline"] == "<img src=x onerror=alert(1)>"  # joined from the story


def test_an_event_without_a_place_keeps_a_row_with_no_point(event_store):
    frame = event_store.events(article_id="syria-0301")
    placeless = frame[frame["trigger"] == "left"].iloc[0]
    assert placeless.geometry is None and pandas.isna(placeless["place_name"])
    assert bool(placeless["date_assumed"]) is True
    assert len(event_store.events(article_id="syria-0301", located_only=True)) == 1


@pytest.mark.parametrize(
    ("start", "end", "by", "expected"),
    [
        (date(2024, 4, 9), date(2024, 4, 9), "event", {"lagos-0410"}),
        (date(2024, 4, 9), date(2024, 4, 9), "published", set()),
        (date(2024, 4, 10), date(2024, 4, 10), "published", {"lagos-0410"}),
        (date(2024, 4, 19), date(2024, 4, 30), "event", {"xss-0420"}),
        (
            None,
            None,
            "event",
            {"syria-0301", "geneva-0315", "lagos-0410", "xss-0420", "tokyo-0502"},
        ),
    ],
)
def test_the_date_filter_reads_the_event_date_or_the_publication_date(
    event_store, start, end, by, expected
):
    assert set(event_store.events(start, end, by=by)["article_id"]) == expected


def test_bbox_keeps_the_events_inside(event_store):
    frame = event_store.events(bbox=(0.0, 0.0, 10.0, 10.0))
    assert list(frame["place_name"]) == ["Lagos"]


def test_an_event_at_two_places_is_two_rows_with_one_id(store_location, articles_records):
    from event_fixtures import with_two_places

    from mapapp.records import EventPlace

    article, resolutions = articles_records[0]
    events = events_for(article, resolutions)
    aleppo = next(r for r in resolutions if r.toponym.name == "Aleppo")
    extra = EventPlace(
        aleppo.toponym.start, aleppo.toponym.end, "Aleppo", 36.2, 37.16, 170063, "SY", 0.6
    )
    events[0] = with_two_places(events[0], extra)
    store = open_store(store_location)
    store.add_events([(article, resolutions, events)])
    frame = store.events(located_only=True)
    assert list(frame["place_name"]) == ["Damascus", "Aleppo"]
    assert frame["event_id"].nunique() == 1


def test_stored_articles_are_skipped_with_their_events(event_store, articles_records):
    again = event_store.add_events(event_records(articles_records))
    assert (again.added, again.skipped) == (0, len(articles_records))
    assert len(event_store.events()) == 6


def test_reprocessing_rewrites_the_events(event_store, articles_records):
    article, resolutions = articles_records[2]  # Lagos
    (flood,) = events_for(article, resolutions)
    from dataclasses import replace

    assert (
        event_store.replace([(article, resolutions)], [(article, [replace(flood, killed=13)])]) == 1
    )
    frame = event_store.events(article_id="lagos-0410")
    assert list(frame["killed"]) == [13]
    event_store.replace([(article, resolutions)])  # no events given: the old ones go
    assert event_store.events(article_id="lagos-0410").empty
    assert len(event_store.events()) == 5
    assert len(event_store.mentions(article_id="lagos-0410")) == 2  # mentions kept


def test_plain_add_leaves_events_empty(store):
    assert store.events().empty
    assert list(store.events().columns) == [*EVENT_COLUMNS, *JOINED_COLUMNS, "geometry"]


def test_store_copy_copies_the_events(event_store, tmp_path):
    target = str(tmp_path / "copy.gpkg")
    copy_store(event_store.location, target)
    left = event_store.events().drop(columns="geometry")
    right = open_store(target).events()
    assert left.astype(str).to_dict("records") == right.drop(columns="geometry").astype(
        str
    ).to_dict("records")
    assert right.geometry.notna().sum() == 5


def test_a_geoparquet_store_refuses_events_clearly(tmp_path, articles_records):
    store = open_store(tmp_path / "run.parquet")
    with pytest.raises(StoreError, match="GeoParquet.*events"):
        store.events()
    with pytest.raises(StoreError, match="GeoParquet.*events"), store.writer() as writer:
        from mapapp.stores.event_frames import events_frame
        from mapapp.stores.frames import batch_frames

        batch = event_records(articles_records)
        writer.add_frames(
            *batch_frames([(a, r) for a, r, _ in batch]),
            events_frame([(a, e) for a, _, e in batch]),
        )


@pytest.mark.parametrize("store_location", ["gpkg"], indirect=True)
def test_a_geopackage_made_before_events_gains_the_layer_without_losing_rows(
    store_location, articles_records
):
    store = open_store(store_location)
    store.add(articles_records[:2])
    with sqlite3.connect(store_location) as conn:  # as an older mapapp left it
        conn.execute('DROP TABLE "events"')
        for table in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_ogr_contents"):
            conn.execute(f"DELETE FROM {table} WHERE table_name = 'events'")
    assert store.events().empty  # read as "no events", not an error
    store.add_events(event_records(articles_records[2:]))
    assert len(store.mentions(include_undated=True)) == len(
        [r for _, rs in articles_records for r in rs if r.place]
    )
    assert set(store.events()["article_id"]) == {"lagos-0410", "xss-0420", "tokyo-0502"}
    import pyogrio

    layers = {name for name, _ in pyogrio.list_layers(store_location)}
    assert {"mentions", "articles", "events"} <= layers
    assert pyogrio.read_info(store_location, layer="events")["features"] == 3


def test_a_postgis_store_at_0002_is_upgraded_keeping_its_rows(postgis_url):
    from alembic import command
    from sqlalchemy import create_engine, pool

    from mapapp.stores import postgis_db
    from mapapp.stores.postgis_db import head_revision

    engine = create_engine(
        postgis_url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=pool.NullPool
    )
    with engine.begin() as conn:
        command.upgrade(postgis_db.alembic_config(conn), "0002")
    store = open_store(postgis_url)
    assert store.upgrade() == ("0002", head_revision())
    assert store.events().empty


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("0", False), ("off", False), ("Yes", True), ("", True)]
)
def test_the_events_setting_is_an_on_off_switch(raw, expected):
    from mapapp.settings import load_settings

    assert load_settings({}, {"MAPAPP_EVENTS": raw}).events is expected


def test_a_bad_events_setting_is_refused_with_a_sentence():
    from mapapp.errors import ConfigError
    from mapapp.settings import load_settings

    with pytest.raises(ConfigError, match="MAPAPP_EVENTS expects 1 or 0"):
        load_settings({}, {"MAPAPP_EVENTS": "maybe"})
