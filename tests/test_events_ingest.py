"""Ingest and reprocess store each story's events, read from the same parse (both backends);
MAPAPP_EVENTS=0 stores none.  The story is written here."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapapp.ingest.pipeline import ingest, reprocess
from mapapp.settings import Settings, load_settings
from mapapp.stores import open_store

pytest_plugins = ["geo_fixtures"]

STORY = """Floods cut roads in the north

ALEPPO, Syria — Floodwater swept through three villages near Aleppo on Sunday, and at least
12 people were killed, the civil defence said.

Police in Damascus arrested 40 traders on Tuesday.

Officials will meet next month.

A Section on 11/03/2026
"""


@pytest.fixture
def config(store_location: str, gazetteer_cache: Path, gazetteer) -> Settings:
    return load_settings({"STORE": store_location, "CACHE_DIR": str(gazetteer_cache)})


@pytest.fixture
def story(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "2026-11-03-floods.txt"
    path.parent.mkdir()
    path.write_text(STORY, encoding="utf-8")
    return path


def test_ingest_stores_the_events_beside_the_mentions(config, story) -> None:
    pytest.importorskip("spacy")
    summary = ingest([story], config)
    assert summary.articles == 1
    store = open_store(config.store)
    events = store.events(include_undated=True)
    if events.empty and not store.mentions().empty:
        pytest.skip("no spaCy model: events need the parse")
    by_trigger = {row.trigger: row for row in events.itertuples()}
    arrest = by_trigger["arrested"]
    assert (arrest.type, arrest.arrested, arrest.place_name) == ("crime_justice", 40, "Damascus")
    assert arrest.date == "2026-11-03" and not arrest.date_assumed  # Tuesday = publication day
    killed = by_trigger["killed"]
    assert killed.killed == 12 and killed.date == "2026-11-01"  # the Sunday before
    assert set(events["article_id"]) == set(store.known_ids())
    assert "Russia" not in set(events["place_name"].dropna())


def test_events_can_be_turned_off(config, story) -> None:
    ingest([story], config.replace(EVENTS="0"))
    store = open_store(config.store)
    assert len(store.mentions()) > 0 and store.events(include_undated=True).empty


def test_reprocess_rewrites_the_events_with_the_same_ids(config, story) -> None:
    pytest.importorskip("spacy")
    ingest([story], config)
    store = open_store(config.store)
    before = store.events(include_undated=True)
    reprocess(config)
    after = store.events(include_undated=True)
    assert sorted(after["event_id"]) == sorted(before["event_id"])  # rewritten, not doubled
    reprocess(config.replace(EVENTS="0"))
    assert store.events(include_undated=True).empty  # read from the old places: dropped
