"""The shared seed article's events: where the killing happened, not where the powers are.

The seed is read from ``../shared/seeds`` (skipped when the shared corpora are absent).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from geo_fixtures import NER_MODEL

from mapapp.articles import parse_file
from mapapp.events.articles import ArticleEvents
from mapapp.geoparsing import Geoparser
from mapapp.records import Event
from mapapp.settings import load_settings

pytest_plugins = ["geo_fixtures"]

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
POWERS = {"RU", "PK", "GB", "US", "TR", "IR"}  # named as the accord's backers, not as scenes


@pytest.fixture(scope="module")
def seed_events(gazetteer, gazetteer_cache: Path) -> list[Event]:
    found = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []
    if not found:
        pytest.skip(f"no seed article under {SEEDS} (the shared corpora are not checked out)")
    config = load_settings({"CACHE_DIR": str(gazetteer_cache)})
    reader = ArticleEvents.from_geoparser(Geoparser.from_settings(config), NER_MODEL)
    if reader is None:
        pytest.skip(f"spaCy model {NER_MODEL!r} is not installed")
    _, [events] = reader.parse_articles(parse_file(found[0]))
    return events


def test_no_event_is_placed_where_the_story_only_names_a_power(seed_events) -> None:
    placed = {p.country_code for e in seed_events for p in e.places if p.lat is not None}
    assert placed and not placed & POWERS, placed


def test_the_counted_deaths_are_in_syria_on_the_day_they_happened(seed_events) -> None:
    by_count: dict[int, set] = defaultdict(set)
    for event in seed_events:
        if event.killed in (8, 2, 17):
            by_count[event.killed] |= {(p.country_code, event.date) for p in event.places}
    assert set(by_count) == {8, 2, 17}
    for count, places in by_count.items():
        assert places and {cc for cc, _ in places} == {"SY"}, (count, places)
        assert len({day for _, day in places}) == 1  # one day for every report of one toll


def test_the_filing_city_places_no_event(seed_events) -> None:
    """The story is filed from the dateline's city; nothing in it happens there, not even
    the headline's clashes or a toll the paragraph gives for the place it just named."""
    placed = {p.country_code for e in seed_events for p in e.places if p.lat is not None}
    assert "LB" not in placed, placed
    [toll] = [e for e in seed_events if e.killed == 77]
    assert {p.country_code for p in toll.places} == {"SY"}
