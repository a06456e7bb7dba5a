"""The store on both backends (GeoPackage, PostGIS): round trip, filters, idempotence,
atomicity, export.  Tests about the GeoPackage file itself run on that backend only;
their PostGIS counterparts are in test_postgis.py."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import geopandas
import pandas
import pyogrio
import pytest

from mapapp.errors import StoreError
from mapapp.records import Article, Place, Resolution, Toponym
from mapapp.stores import Store, open_store
from mapapp.stores import geopackage as store_module
from mapapp.stores.base import WriteResult
from mapapp.stores.frames import batch_frames, resolutions_frame, to_point
from mapapp.stores.schema import ARTICLE_COLUMNS, CORRECTED_COLUMNS, MENTION_COLUMNS

DAMASCUS = Place(170654, "Damascus", 33.5, 36.3, "P", "PPLC", "SY", "13", "Dimashq", 1_569_394)
HOMS = Place(169577, "Homs", 34.72682, 36.72339, "P", "PPLA", "SY", "11", "Homs", 775_404)
GENEVA = Place(2660646, "Geneva", 46.20222, 6.14569, "P", "PPLA", "CH", "GE", "Geneva", 183_981)


def _story(
    article_id: str, published: date | None, headline: str, places: list[Place | None]
) -> tuple[Article, list[Resolution]]:
    """An article whose body names each place (None = a name that did not resolve)."""
    names = [p.name if p else "Qaryatayn Nowhere" for p in places]
    text = "DAMASCUS -- " + ". ".join(f"Talks in {n}" for n in names) + "."
    resolutions, cursor = [], 0
    for name, place in zip(names, places, strict=False):
        start = text.index(name, cursor)
        cursor = start + len(name)
        toponym = Toponym(
            name, start, cursor, role="mention", sentence=f"Talks in {name}", source="gazetteer"
        )
        resolutions.append(
            Resolution(
                toponym,
                place,
                score=0.8 if place else 0.0,
                reason=None if place else "no gazetteer candidate",
            )
        )
    article = Article(
        article_id,
        headline,
        text,
        published,
        dateline="DAMASCUS",
        url=f"https://news.example/{article_id}",
        source="wire",
    )
    return article, resolutions


@pytest.fixture
def stories() -> list[tuple[Article, list[Resolution]]]:
    """Three dated stories and one undated; one mention is unresolved."""
    return [
        _story("a-0501", date(2024, 5, 1), "Talks open in Damascus", [DAMASCUS, None]),
        _story("b-0503", date(2024, 5, 3), "Aid reaches Homs", [HOMS, DAMASCUS]),
        _story("c-0505", date(2024, 5, 5), "Envoys meet in Geneva", [GENEVA]),
        _story("d-none", None, "Background: the road north", [HOMS]),
    ]


@pytest.fixture
def store(store_location: str, stories) -> Store:
    """A store holding the four stories (once per backend)."""
    filled = open_store(store_location)
    assert filled.add(stories) == WriteResult(added=4, skipped=0, mentions=6, resolved=5)
    return filled


geopackage_only = pytest.mark.parametrize("store_location", ["gpkg"], indirect=True)


def _ids(frame: pandas.DataFrame) -> set[str]:
    return set(frame["article_id"])


def test_to_point_puts_longitude_first():
    point = to_point(33.5, 36.3)
    assert (point.x, point.y) == (36.3, 33.5)


@pytest.mark.parametrize("lat, lon", [(95.0, 10.0), (10.0, 181.0), (-91.0, 0.0)])
def test_to_point_rejects_impossible_pairs(lat, lon):
    with pytest.raises(ValueError):
        to_point(lat, lon)


def test_resolutions_frame_schema(stories):
    article, resolutions = stories[0]
    frame = resolutions_frame(article, resolutions)
    assert list(frame.columns) == [*MENTION_COLUMNS, "geometry"]
    assert frame.crs == "EPSG:4326"
    assert frame.loc[0, "geometry"].x == 36.3 and frame.loc[0, "geometry"].y == 33.5
    assert frame.loc[1, "geometry"] is None and frame.loc[1, "reason"] == "no gazetteer candidate"
    assert (frame["published"] == "2024-05-01").all()


def test_round_trip_columns_dtypes_crs_and_order(store):
    frame = store.mentions(article_id="a-0501")
    assert list(frame.columns) == [
        *MENTION_COLUMNS,
        "headline",
        "url",
        *CORRECTED_COLUMNS,
        "geometry",
    ]
    assert {c: str(frame[c].dtype) for c in MENTION_COLUMNS} == MENTION_COLUMNS
    assert frame.crs == "EPSG:4326"
    row = frame.iloc[0]
    assert (row.geometry.x, row.geometry.y) == (36.3, 33.5)
    assert row["geonameid"] == 170654 and row["country_code"] == "SY"
    assert row["headline"] == "Talks open in Damascus"
    assert row["url"] == "https://news.example/a-0501"
    assert row["published"] == "2024-05-01" and row["role"] == "mention"
    text = store.article("a-0501")["text"]
    assert text[row["start"] : row["end"]] == "Damascus"


def test_unresolved_are_stored_counted_and_hidden_by_default(store):
    assert "Qaryatayn Nowhere" not in set(store.mentions()["name"])
    everything = store.mentions(resolved_only=False)
    unresolved = everything[everything.geometry.isna()]
    assert list(unresolved["name"]) == ["Qaryatayn Nowhere"]
    assert unresolved["reason"].iloc[0] == "no gazetteer candidate"
    assert unresolved["geonameid"].isna().all()
    stats = store.stats()
    assert (stats["mentions"], stats["resolved"], stats["unresolved"]) == (6, 5, 1)


def test_stats(store):
    stats = store.stats()
    assert stats["articles"] == 4 and stats["undated_articles"] == 1
    assert (stats["first_date"], stats["last_date"]) == ("2024-05-01", "2024-05-05")
    assert stats["top_places"][:2] == [["Damascus", "SY", 2], ["Homs", "SY", 2]]
    assert ["Geneva", "CH", 1] in stats["top_places"]


@pytest.mark.parametrize(
    "start, end, undated, expected",
    [
        (None, None, False, {"a-0501", "b-0503", "c-0505", "d-none"}),
        (date(2024, 5, 1), date(2024, 5, 3), False, {"a-0501", "b-0503"}),
        (date(2024, 5, 3), None, False, {"b-0503", "c-0505"}),
        (None, date(2024, 5, 3), True, {"a-0501", "b-0503", "d-none"}),
        (date(2024, 5, 5), date(2024, 5, 5), False, {"c-0505"}),
        (date(2024, 5, 2), date(2024, 5, 2), False, set()),
        (date(2024, 5, 2), date(2024, 5, 2), True, {"d-none"}),
    ],
)
def test_date_filters_are_inclusive(store, start, end, undated, expected):
    assert _ids(store.mentions(start, end, include_undated=undated)) == expected
    assert _ids(store.articles(start, end, include_undated=undated)) == expected


def test_articles_ordered_by_date_then_headline_undated_last(store, stories):
    late = _story("e-0501", date(2024, 5, 1), "Aardvark in Damascus", [DAMASCUS])
    store.add([late])
    frame = store.articles()
    assert list(frame.columns) == list(ARTICLE_COLUMNS)
    assert list(frame["article_id"]) == ["e-0501", "a-0501", "b-0503", "c-0505", "d-none"]
    assert frame["ingested_at"].str.endswith("+00:00").all()


def test_article_lookup(store):
    found = store.article("b-0503")
    assert found["headline"] == "Aid reaches Homs" and found["published"] == "2024-05-03"
    assert store.article("nope") is None
    assert store.known_ids() == {"a-0501", "b-0503", "c-0505", "d-none"}


def test_readding_is_idempotent(store, stories):
    before = store.stats()
    assert store.add(stories[:2]) == WriteResult(added=0, skipped=2, mentions=0)
    assert store.stats() == before


def test_duplicate_within_batch_counts_as_skipped(store_location, stories):
    fresh = open_store(store_location)
    assert fresh.add([stories[0], stories[0]]) == WriteResult(
        added=1, skipped=1, mentions=2, resolved=1
    )


@pytest.mark.parametrize(
    "bbox, expected",
    [
        ((36.0, 33.0, 37.0, 35.0), {"Damascus", "Homs"}),
        ((6.14569, 46.20222, 6.14569, 46.20222), {"Geneva"}),  # edges count
        ((-10.0, -10.0, 0.0, 0.0), set()),
    ],
)
def test_bbox_keeps_the_points_inside(store, bbox, expected):
    frame = store.mentions(bbox=bbox, include_undated=True)
    assert set(frame["resolved_name"]) == expected
    everything = store.mentions(include_undated=True)
    assert len(frame) == len(everything.cx[bbox[0] : bbox[2], bbox[1] : bbox[3]])


def test_bbox_and_dates_combine(store):
    frame = store.mentions(date(2024, 5, 3), None, bbox=(36.0, 33.0, 37.0, 35.0))
    assert list(frame["article_id"]) == ["b-0503", "b-0503"]


def test_version_changes_with_each_write_only(store, stories):
    before = store.version()
    assert store.version() == before
    store.add(stories[:1])  # nothing new: the store may or may not count it as a write
    mid = store.version()
    store.add([_story("f-0506", date(2024, 5, 6), "Late story", [HOMS])])
    assert store.version() not in (before, mid)


def test_second_batch_appends_in_place(tmp_path, stories):
    fresh = open_store(tmp_path / "s.gpkg")
    fresh.add(stories[:2])
    inode = fresh.path.stat().st_ino
    first = fresh.mentions(resolved_only=False)
    assert fresh.add(stories[1:]) == WriteResult(added=2, skipped=1, mentions=2, resolved=2)
    assert fresh.path.stat().st_ino == inode  # appended, not replaced by a rewrite
    both = fresh.mentions(resolved_only=False)
    assert len(both) == 6
    kept = both[both["article_id"].isin(_ids(first))].reset_index(drop=True)
    pandas.testing.assert_frame_equal(kept, first)


def _boom(*args, **kwargs):
    raise RuntimeError("injected failure")


@geopackage_only
@pytest.mark.parametrize("target", ["_touch_contents", "_write_layers"])
def test_failed_batch_leaves_store_untouched(store, stories, monkeypatch, target):
    before_bytes = store.path.read_bytes()
    before_rows = store.mentions(resolved_only=False)
    extra = _story("f-0506", date(2024, 5, 6), "Late story", [HOMS, None])
    monkeypatch.setattr(store_module, target, _boom)
    with pytest.raises(RuntimeError, match="injected"):
        store.add([extra])
    monkeypatch.undo()
    assert store.path.read_bytes() == before_bytes
    pandas.testing.assert_frame_equal(store.mentions(resolved_only=False), before_rows)
    assert not list(store.path.parent.glob(".*"))  # no scratch files left behind
    assert store.add([extra]).added == 1
    assert "f-0506" in store.known_ids()


@geopackage_only
def test_reader_during_write_sees_previous_state(store, monkeypatch):
    seen = []
    touch = store_module._touch_contents

    def peek_then_touch(conn, added):
        seen.append(open_store(store.path).stats()["articles"])
        touch(conn, added)

    monkeypatch.setattr(store_module, "_touch_contents", peek_then_touch)
    store.add([_story("f-0506", date(2024, 5, 6), "Late story", [HOMS])])
    assert seen == [4] and store.stats()["articles"] == 5


@geopackage_only
def test_writer_waits_for_a_concurrent_writer(store, monkeypatch):
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT", 5.0)
    holder = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.3, holder.execute, ("COMMIT",)).start()
    assert store.add([_story("f-0506", date(2024, 5, 6), "Late", [HOMS])]).added == 1
    holder.close()


@geopackage_only
def test_is_a_real_geopackage(store):
    layers = dict(pyogrio.list_layers(store.path))
    assert layers == {"mentions": "Point", "articles": None, "corrections": None}
    mentions = geopandas.read_file(store.path, layer="mentions")
    assert len(mentions) == 6 and mentions.crs == "EPSG:4326"
    assert mentions.geometry.isna().sum() == 1
    assert pyogrio.read_info(store.path, layer="mentions")["features"] == 6
    assert len(geopandas.read_file(store.path, layer="articles")) == 4


def test_missing_store_reads_empty(store_location):
    absent = open_store(store_location)
    frame = absent.mentions()
    assert frame.empty and frame.crs == "EPSG:4326"
    assert list(frame.columns) == [
        *MENTION_COLUMNS,
        "headline",
        "url",
        *CORRECTED_COLUMNS,
        "geometry",
    ]
    assert list(absent.articles().columns) == list(ARTICLE_COLUMNS)
    assert absent.stats()["articles"] == 0 and absent.stats()["top_places"] == []
    assert absent.article("x") is None and absent.known_ids() == set()
    assert absent.version() == "empty"
    assert not absent.exists()  # reading never creates a store


def test_empty_batch_creates_an_empty_store(store_location):
    fresh = open_store(store_location)
    assert fresh.add([]) == WriteResult(added=0, skipped=0)
    assert fresh.exists() and fresh.mentions().empty


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg", "GeoJSON"])
def test_export_round_trip(store, tmp_path, fmt):
    out = store.export(
        tmp_path / f"out.{fmt.lower()}", fmt, start=date(2024, 5, 1), end=date(2024, 5, 3)
    )
    if fmt.lower() == "csv":
        table = pandas.read_csv(out)
        assert {"lat", "lon", "headline", "url"} <= set(table.columns)
        damascus = table[table["resolved_name"] == "Damascus"].iloc[0]
        assert (damascus["lat"], damascus["lon"]) == (33.5, 36.3)
    else:
        table = geopandas.read_file(out)
        assert table.crs == "EPSG:4326" and {"headline", "url"} <= set(table.columns)
        damascus = table[table["resolved_name"] == "Damascus"].iloc[0]
        assert (damascus.geometry.x, damascus.geometry.y) == (36.3, 33.5)
    assert len(table) == 3 and set(table["article_id"]) == {"a-0501", "b-0503"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_rejects_unknown_format(store, tmp_path):
    with pytest.raises(StoreError, match="geojson, csv, gpkg"):
        store.export(tmp_path / "out.shp", "shapefile")


def _plain_text(path: Path) -> None:
    path.write_text("this is not a database\n" * 100)


def _other_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")


def _other_geopackage(path: Path) -> None:
    frame = geopandas.GeoDataFrame({"label": ["x"]}, geometry=[to_point(1.0, 2.0)], crs=4326)
    frame.to_file(path, layer="mentions", driver="GPKG")


@pytest.mark.parametrize("make", [_plain_text, _other_sqlite, _other_geopackage])
@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.mentions(),
        lambda s: s.stats(),
        lambda s: s.known_ids(),
        lambda s: s.add([_story("z", None, "Z", [HOMS])]),
    ],
)
def test_bad_file_is_a_store_error(tmp_path, make, call):
    path = tmp_path / "bad.gpkg"
    make(path)
    before = path.read_bytes()
    with pytest.raises(StoreError, match=str(path)):
        call(open_store(path))
    assert path.read_bytes() == before


def test_store_does_not_import_the_pipeline():
    code = (
        "import sys, mapapp.stores.geopackage; "
        "print(sorted(m for m in sys.modules if m.startswith("
        "('mapapp.resolution', 'mapapp.recognition', 'mapapp.geoparsing', 'spacy'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        check=True,
    )
    assert done.stdout.strip() == "[]", done.stderr


@pytest.mark.parametrize(
    "escaped, stored",
    [
        ("Aid reached Homs\\u0000 today.", "Aid reached Homs today."),  # NUL: dropped
        ("Aid reached Homs \\ud800today.", "Aid reached Homs \ufffdtoday."),  # lone surrogate
        ("Aid reached Homs \\ud83c\\udf0d today.", "Aid reached Homs \U0001f30d today."),  # a pair
    ],
)
def test_any_json_string_is_stored_and_read_back(store_location, tmp_path, escaped, stored):
    from mapapp.articles import parse_file

    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        '{"headline": "H\\u0000", "text": "' + escaped + '", "date": "2024-05-01"}\n',
        encoding="utf-8",
    )
    (article,) = parse_file(feed)
    assert article.text == stored and article.headline == "H"
    target = open_store(store_location)
    assert target.add([(article, [])]).added == 1
    assert target.article(article.article_id)["text"] == stored
    assert target.article("no\x00such id") is None
    assert target.mentions(article_id="x\x00y").empty


# ------------------------------------------------------------------ one door, every backend


@pytest.mark.parametrize(
    "name, kind",
    [
        ("mapapp.gpkg", "GeoPackage"),
        ("archive.parquet", "GeoParquet"),
        ("ARCHIVE.PARQUET", "GeoParquet"),
        ("postgresql://desk@db.example/mapapp", "PostGIS"),
    ],
)
def test_open_store_picks_the_backend_from_the_location(tmp_path, name, kind):
    location = name if "://" in name else tmp_path / name
    store = open_store(location)
    assert store.kind == kind and store.partitioned is (kind == "GeoParquet")
    assert store.needs_writer_lock is (kind != "PostGIS")


def _parquet_store(folder: Path, stories) -> Path:
    """A GeoParquet store holding ``stories``, written as one run (as the Dask engine does)."""
    location = folder / "archive.parquet"
    with open_store(location).writer() as writer:
        assert writer.add_frames(*batch_frames(stories)).added == len(stories)
    return location


def test_a_folder_with_a_manifest_is_a_parquet_store_whatever_its_name(tmp_path, stories):
    renamed = tmp_path / "archive"
    _parquet_store(tmp_path, stories).rename(renamed)
    assert open_store(renamed).kind == "GeoParquet"
    assert open_store(renamed).known_ids() == {article.article_id for article, _ in stories}


def test_stats_and_export_read_a_parquet_store(tmp_path, stories):
    """Every command takes every store the project writes: a GeoParquet folder too."""
    from click.testing import CliRunner

    from mapapp.cli import cli

    location = _parquet_store(tmp_path, stories)
    stats = CliRunner().invoke(cli, ["stats", "--json", "--store", str(location)])
    assert stats.exit_code == 0, stats.output
    data = json.loads(stats.output)
    assert (data["articles"], data["mentions"], data["resolved"]) == (4, 6, 5)
    out = tmp_path / "places.geojson"
    export = CliRunner().invoke(
        cli,
        [
            "export",
            "--store",
            str(location),
            "-o",
            str(out),
            "--start",
            "2024-05-01",
            "--end",
            "2024-05-03",
        ],
    )
    assert export.exit_code == 0, export.output
    assert set(geopandas.read_file(out)["article_id"]) == {"a-0501", "b-0503"}
    view = tmp_path / "view.csv"
    shown = CliRunner().invoke(
        cli, ["export", "--store", str(location), "-o", str(view), "--view", "country=CH"]
    )
    assert shown.exit_code == 0, shown.output
    assert set(pandas.read_csv(view)["resolved_name"]) == {"Geneva"}


def test_the_writer_lock_sweeps_what_a_dead_parquet_run_left(tmp_path, stories):
    from mapapp.stores.locking import writer_lock

    location = _parquet_store(tmp_path, stories)
    (location / ".run-20240501T000000Z-dead0000-x").mkdir()
    (location / ".manifest.json.tmp-dead0000.json").write_text("{")  # a manifest half-written
    (tmp_path / f".{location.name}.new-dead0000").mkdir()  # a store half-made beside it
    with writer_lock(location):
        pass
    assert sorted(p.name for p in location.iterdir()) == ["manifest.json", "runs"]
    assert not list(tmp_path.glob(f".{location.name}.new-*"))
    assert open_store(location).stats()["articles"] == 4
