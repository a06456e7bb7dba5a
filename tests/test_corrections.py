"""Editors' corrections in the store: mention ids, candidates, the log, scopes, undo, races."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from datetime import date

import pytest
from conftest import ALEPPO, DAMASCUS, make_story

from mapapp.errors import ConflictError, NotFoundError, QueryError, StoreError
from mapapp.records import WeighedPlace
from mapapp.stores import open_store
from mapapp.stores.copy import copy_store
from mapapp.stores.corrections import NOT_A_PLACE, mention_id, parse_mention_id
from mapapp.stores.frames import batch_frames
from mapapp.stores.postgis_db import head_revision

HOMS_PLACE = {
    "geonameid": 169577,
    "name": "Homs",
    "lat": 34.72682,
    "lon": 36.72339,
    "country_code": "SY",
    "admin1": "Homs",
    "feature_class": "P",
    "feature_code": "PPLA",
    "population": 775_404,
}
DARAYYA = WeighedPlace(170017, "Darayya", 33.458, 36.2357, "SY", "Rif Dimashq", "P", "PPL", 78_000)


def _row(store, article_id: str, start: int, **kwargs):
    """The mention of ``article_id`` starting at ``start``, as ``mentions()`` reads it."""
    frame = store.mentions(article_id=article_id, resolved_only=False, **kwargs)
    return frame[frame["start"] == start].iloc[0]


def _damascus_ids(store) -> list[str]:
    frame = store.mentions(article_id="syria-0301", resolved_only=False)
    return frame[frame["geonameid"] == DAMASCUS.geonameid]["mention_id"].tolist()


def test_mention_ids_are_article_and_offsets(store):
    frame = store.mentions(resolved_only=False)
    assert frame["mention_id"].is_unique
    for row in frame.itertuples():
        assert row.mention_id == f"{row.article_id}-{row.start}-{row.end}"
        assert parse_mention_id(row.mention_id) == (row.article_id, row.start, row.end)
    assert not frame["reviewed"].any() and frame["corrected"].isna().all()
    assert (frame["geoparser_geonameid"].fillna(-1) == frame["geonameid"].fillna(-1)).all()


@pytest.mark.parametrize("bad", ["", "nohyphen", "a-b-c", "syria-0301-1", "x--3"])
def test_a_malformed_mention_id_is_no_mention(store, bad):
    assert store.mention(bad) is None
    with pytest.raises(NotFoundError):
        store.candidates(bad)


def test_a_place_correction_moves_the_point(store):
    target = _damascus_ids(store)[1]
    done = store.add_correction(target, "place", place=HOMS_PLACE, editor="ana")
    assert done["id"] >= 1 and done["action"] == "place" and done["scope"] == "mention"
    assert done["editor"] == "ana" and done["created"].endswith("+00:00")
    assert done["old"]["geonameid"] == DAMASCUS.geonameid and done["old"]["name"] == "Damascus"
    moved = done["mention"]
    assert (moved["geonameid"], moved["resolved_name"]) == (169577, "Homs")
    assert (moved["lat"], moved["lon"]) == (34.72682, 36.72339)
    assert (
        moved["corrected"] == "place" and moved["reviewed"] and moved["correction_id"] == done["id"]
    )
    assert moved["geoparser_geonameid"] == DAMASCUS.geonameid
    _, start, _ = parse_mention_id(target)
    row = _row(store, "syria-0301", start)
    assert (row.geometry.x, row.geometry.y) == (36.72339, 34.72682)
    others = _damascus_ids(store)  # the other Damascus mentions did not move
    assert target not in others and len(others) == 2
    assert store.corrections()[0]["id"] == done["id"]


def test_scopes_reach_the_mention_the_story_or_every_story(store):
    first = _damascus_ids(store)[0]  # "DAMASCUS", the dateline: the same folded name
    store.add_correction(first, "place", place=HOMS_PLACE, scope="story")
    assert _damascus_ids(store) == []  # all three in that story
    story = store.mentions(article_id="syria-0301")
    assert (story["name"].str.casefold() == "damascus").sum() == 3
    assert set(story[story["name"].str.casefold() == "damascus"]["resolved_name"]) == {"Homs"}
    syria_id = story[story["name"] == "Syria"]["mention_id"].iloc[0]
    rule = store.add_correction(syria_id, "not_a_place", scope="everywhere")
    assert rule["mention"]["reason"] == NOT_A_PLACE and rule["mention"]["lat"] is None
    everywhere = store.mentions(resolved_only=False)
    syrias = everywhere[everywhere["name"] == "Syria"]
    assert set(syrias["article_id"]) == {"syria-0301", "geneva-0315"}
    assert syrias["geonameid"].isna().all() and syrias["reviewed"].all()
    assert "Syria" not in set(store.mentions()["name"])  # off the map, still listed
    assert set(store.mentions(article_id="geneva-0315")["name"]) == {"GENEVA", "Geneva"}


def test_the_most_specific_correction_wins_then_the_newest(store):
    ids = _damascus_ids(store)
    store.add_correction(ids[2], "accept")
    store.add_correction(ids[0], "place", place=HOMS_PLACE, scope="everywhere")
    kept = store.mention(ids[2])
    assert kept["resolved_name"] == "Damascus" and kept["corrected"] == "accept"
    assert store.mention(ids[1])["resolved_name"] == "Homs"
    later = store.add_correction(ids[1], "not_a_place")
    assert later["mention"]["geonameid"] is None


def test_accept_marks_reviewed_and_keeps_the_place(store):
    target = _damascus_ids(store)[0]
    before = store.mention(target)
    done = store.add_correction(target, "accept")
    after = done["mention"]
    assert after["reviewed"] and after["corrected"] == "accept"
    assert (after["geonameid"], after["lat"], after["lon"]) == (
        before["geonameid"],
        before["lat"],
        before["lon"],
    )


def test_undo_restores_the_original(store):
    target = _damascus_ids(store)[1]
    before = store.mention(target)
    done = store.add_correction(target, "not_a_place", editor="ana")
    assert store.mention(target)["geonameid"] is None
    undone = store.undo_correction(done["id"])
    assert undone["undone"] and undone["undone_at"]
    assert undone["mention"] == before
    assert store.corrections()[0]["undone"]
    assert store.corrections(include_undone=False) == []
    with pytest.raises(ConflictError, match="already undone"):
        store.undo_correction(done["id"])
    with pytest.raises(NotFoundError):
        store.undo_correction(9999)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"action": "move"}, QueryError),
        ({"action": "place", "scope": "planet"}, QueryError),
        ({"action": "place"}, QueryError),  # no place, no id
        ({"action": "place", "geonameid": 1}, QueryError),  # not a candidate
        ({"action": "place", "place": {**HOMS_PLACE, "lat": 95}}, QueryError),
    ],
)
def test_bad_corrections_are_refused_with_a_sentence(store, kwargs, error):
    target = _damascus_ids(store)[0]
    with pytest.raises(error):
        store.add_correction(target, **kwargs)
    assert store.corrections() == []


def test_unknown_mention_is_not_found(store):
    with pytest.raises(NotFoundError, match="no mention"):
        store.add_correction("syria-0301-0-1", "accept")


def test_candidates_are_stored_and_pickable(store_location):
    article, resolutions = make_story(
        "darayya-0601",
        date(2024, 6, 1),
        "Shelling near Damascus",
        "Shelling was heard in Daraya overnight.",
        [("Daraya", ALEPPO, "focus")],
    )
    weighed = (
        WeighedPlace(ALEPPO.geonameid, "Aleppo", 36.2, 37.16, "SY", "Aleppo", "P", "PPLA", 1, 0.6),
        replace(DARAYYA, score=0.3),
    )
    store = open_store(store_location)
    store.add([(article, [replace(resolutions[0], candidates=weighed)])])
    target = mention_id("darayya-0601", 22, 28)
    listed = store.candidates(target)
    assert [c["geonameid"] for c in listed] == [ALEPPO.geonameid, DARAYYA.geonameid]
    assert listed[0]["chosen"] and not listed[1]["chosen"]
    assert listed[1] == {
        "geonameid": 170017,
        "name": "Darayya",
        "admin1": "Rif Dimashq",
        "country_code": "SY",
        "feature_class": "P",
        "feature_code": "PPL",
        "population": 78_000,
        "lat": 33.458,
        "lon": 36.2357,
        "score": 0.3,
        "chosen": False,
    }
    moved = store.add_correction(target, "place", geonameid=DARAYYA.geonameid)["mention"]
    assert (moved["resolved_name"], moved["lat"]) == ("Darayya", 33.458)
    assert store.candidates(target)[1]["chosen"]


def test_two_concurrent_corrections_both_land_and_the_later_wins(store):
    target = _damascus_ids(store)[1]
    barrier, results, errors = threading.Barrier(2), [], []

    def correct(action: str) -> None:
        handle = open_store(store.location)  # its own connection, like another browser
        barrier.wait()
        try:
            kwargs = {"place": HOMS_PLACE} if action == "place" else {}
            results.append(handle.add_correction(target, action, editor=action, **kwargs))
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=correct, args=(a,)) for a in ("place", "not_a_place")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    log = store.corrections()
    assert len(log) == 2 and log[0]["id"] > log[1]["id"]
    assert store.mention(target)["corrected"] == log[0]["action"]


def test_a_correction_based_on_a_stale_view_gets_a_conflict(store):
    target = _damascus_ids(store)[1]
    first = store.add_correction(target, "accept", base=0, editor="ana")
    with pytest.raises(ConflictError, match="corrected by ana"):
        open_store(store.location).add_correction(target, "not_a_place", base=0)
    again = store.add_correction(target, "not_a_place", base=first["id"])
    assert again["mention"]["corrected"] == "not_a_place"
    assert len(store.corrections()) == 2


def test_a_copy_keeps_the_corrections_both_ways(store, tmp_path, postgis_url):
    ids = _damascus_ids(store)
    store.add_correction(ids[1], "place", place=HOMS_PLACE, editor="ana")
    undone = store.add_correction(ids[2], "not_a_place")
    store.undo_correction(undone["id"])
    middle = postgis_url if store.kind == "GeoPackage" else str(tmp_path / "middle.gpkg")
    middle_store = open_store(middle)
    copy_store(store.location, middle)
    back = str(tmp_path / "back.gpkg")
    copy_store(middle, back)
    for copied in (middle_store, open_store(back)):
        assert copied.mention(ids[1]) == store.mention(ids[1])
        assert copied.mention(ids[2]) == store.mention(ids[2])
        log = [{k: v for k, v in r.items() if k != "id"} for r in copied.corrections()]
        assert log == [{k: v for k, v in r.items() if k != "id"} for r in store.corrections()]
    copy_store(store.location, back)  # again: nothing twice
    assert len(open_store(back).corrections()) == 2


@pytest.mark.parametrize("store_location", ["gpkg"], indirect=True)
def test_an_old_geopackage_reads_and_upgrades_keeping_its_data(store):
    conn = sqlite3.connect(store.path)
    with conn:
        conn.execute('ALTER TABLE "mentions" DROP COLUMN "candidates"')
        conn.execute('DROP TABLE "corrections"')
        conn.execute("DELETE FROM gpkg_contents WHERE table_name = 'corrections'")
    conn.close()
    before = store.mentions(resolved_only=False)
    assert before["candidates"].isna().all() and store.corrections() == []
    target = _damascus_ids(store)[0]
    store.add_correction(target, "accept")
    after = store.mentions(resolved_only=False)
    assert len(after) == len(before) and after["reviewed"].sum() == 1


@pytest.mark.parametrize("store_location", ["postgis"], indirect=True)
def test_an_old_postgis_store_upgrades_keeping_its_data(store):
    from alembic import command

    from mapapp.stores.postgis_db import alembic_config, engine_for

    before = store.mentions(resolved_only=False)
    with engine_for(store.location).begin() as conn:
        command.downgrade(alembic_config(conn), "0002")
    with pytest.raises(StoreError, match="store upgrade"):
        open_store(store.location).mentions()
    assert open_store(store.location).upgrade() == ("0002", head_revision())
    again = open_store(store.location)
    after = again.mentions(resolved_only=False)
    assert len(after) == len(before)
    again.add_correction(_damascus_ids(again)[0], "accept")
    assert len(again.corrections()) == 1


def test_a_geoparquet_store_refuses_corrections(tmp_path, articles_records):
    store = open_store(tmp_path / "store.parquet")
    with store.writer() as writer:
        writer.add_frames(*batch_frames(articles_records))
    target = store.mentions()["mention_id"].iloc[0]
    assert store.corrections() == [] and store.mention(target)["mention_id"] == target
    with pytest.raises(StoreError, match="GeoParquet store keeps no corrections"):
        store.add_correction(target, "accept")


@pytest.mark.parametrize("store_location", ["gpkg"], indirect=True)
def test_a_copy_to_geoparquet_refuses_to_drop_corrections(store, tmp_path):
    store.add_correction(_damascus_ids(store)[0], "accept")
    target = tmp_path / "copy.parquet"
    with pytest.raises(StoreError, match="1 editors' corrections, which a GeoParquet store"):
        copy_store(store.location, target)
    assert not target.exists()


@pytest.mark.parametrize("store_location", ["gpkg"], indirect=True)
def test_exports_carry_mention_ids_and_corrections_not_candidates(store, tmp_path):
    target = _damascus_ids(store)[1]
    store.add_correction(target, "place", place=HOMS_PLACE)
    out = store.export(tmp_path / "places.csv", "csv")
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert "mention_id" in header and "corrected" in header and "candidates" not in header
    assert "Homs" in out.read_text(encoding="utf-8")
