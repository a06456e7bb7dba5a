"""`mapapp ingest --reprocess`: stored articles redone with today's corrections, in one swap."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mapapp.errors import StoreError
from mapapp.ingest.pipeline import ingest, reprocess
from mapapp.settings import Settings, load_settings
from mapapp.stores import Store, open_store

pytest_plugins = ["geo_fixtures"]

DATA = Path(__file__).parent / "data"
PARIS_TEXAS = 4717560
PARIS_FRANCE = 2988507


@pytest.fixture
def config(store_location: str, gazetteer_cache: Path, gazetteer) -> Settings:
    """Settings for an empty store, on each backend."""
    return load_settings({"STORE": store_location, "CACHE_DIR": str(gazetteer_cache)})


def paris_ids(store: Store) -> set[int]:
    frame = store.mentions(include_undated=True)
    return set(frame.loc[frame["name"].str.casefold() == "paris", "geonameid"].dropna().astype(int))


def test_reprocess_applies_a_new_pin_to_stored_articles(config: Settings, tmp_path: Path) -> None:
    ingest([DATA / "2026-10-19-paris-texas-fair.txt"], config)
    store = open_store(config.store)
    assert paris_ids(store) == {PARIS_TEXAS}
    before = len(store.mentions(resolved_only=False))
    pins = tmp_path / "corrections.json"
    pins.write_text(json.dumps({"pins": {"Paris": PARIS_FRANCE}}), encoding="utf-8")
    summary = reprocess(config.replace(CORRECTIONS=str(pins)))
    assert summary.articles == 1
    assert paris_ids(store) == {PARIS_FRANCE}
    assert len(store.mentions(resolved_only=False)) == before  # replaced, not doubled
    assert len(store.known_ids()) == 1


def test_a_failed_reprocess_leaves_the_old_places(config: Settings, monkeypatch) -> None:
    ingest([DATA], config)
    store = open_store(config.store)
    before = store.mentions(resolved_only=False)[["article_id", "name", "geonameid"]]

    def broken(*args, **kwargs):
        raise StoreError("disk full while reprocessing")

    monkeypatch.setattr(
        "mapapp.stores.geopackage._touch_contents", broken
    )  # the GeoPackage's last step
    monkeypatch.setattr("mapapp.stores.postgis._write_mentions", broken)  # PostGIS's
    with pytest.raises(StoreError):
        reprocess(config)
    after = store.mentions(resolved_only=False)[["article_id", "name", "geonameid"]]
    assert after.reset_index(drop=True).equals(before.reset_index(drop=True))


def test_reprocess_of_an_empty_store_does_nothing(config: Settings) -> None:
    assert reprocess(config).articles == 0
