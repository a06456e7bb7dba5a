"""The review queue and the review desk's commands: review, correct, corrections export/import;
and corrections living through reprocessing and feeding the next ingest."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import LAGOS, PARIS, make_story

from mapapp.cli import cli
from mapapp.ingest.pipeline import ingest, reprocess
from mapapp.maps.query import parse_view
from mapapp.maps.review import review_queue
from mapapp.records import Place
from mapapp.settings import Settings, load_settings
from mapapp.stores import open_store
from mapapp.stores.corrections_file import export_corrections, import_corrections

pytest_plugins = ["geo_fixtures"]

DATA = Path(__file__).parent / "data"
PARIS_TEXAS = 4717560
PARIS_FRANCE = 2988507
GEORGIA_US = Place(4197000, "Georgia", 32.75, -83.5, "A", "ADM1", "US", "GA", "Georgia", 10_711_908)
GEORGIA_GE = Place(614540, "Georgia", 42.0, 43.5, "A", "PCLI", "GE", "00", "", 3_704_500)
ATLANTA = Place(4180439, "Atlanta", 33.749, -84.38798, "P", "PPLA", "US", "GA", "Georgia", 498_715)
TBILISI = Place(
    611717, "Tbilisi", 41.69411, 44.83368, "P", "PPLC", "GE", "TB", "Tbilisi", 1_049_498
)


def desk_stories() -> list:
    """Four stories written for the queue: Georgia means two places, a doubtful Lagos, a name
    the resolver weighed but did not place, and a Paris alone in its country."""
    lagos_story = make_story(
        "lagos-0401",
        date(2024, 4, 1),
        "Ferries resume in Lagos",
        "Ferries resumed in Lagos on Monday. A charter from Paris landed, and crews "
        "from Ikorodu Wharf came later.",
        [
            ("Lagos", LAGOS, "focus"),
            ("Paris", PARIS, "mention"),
            ("Ikorodu Wharf", None, "mention"),
        ],
    )
    article, resolutions = lagos_story
    resolutions = [replace(resolutions[0], score=0.3), *resolutions[1:]]
    return [
        make_story(
            "georgia-us-0101",
            date(2024, 1, 1),
            "Storms in Georgia",
            "Storms crossed Georgia overnight and reached Atlanta by dawn.",
            [("Georgia", GEORGIA_US, "focus"), ("Atlanta", ATLANTA, "mention")],
        ),
        make_story(
            "georgia-ge-0201",
            date(2024, 2, 1),
            "Vote count in Georgia",
            "Georgia counted votes as crowds filled Tbilisi.",
            [("Georgia", GEORGIA_GE, "focus"), ("Tbilisi", TBILISI, "mention")],
        ),
        make_story(
            "georgia-ge-0301",
            date(2024, 3, 1),
            "Wine harvest in Georgia",
            "Growers in Georgia sold the harvest in Tbilisi.",
            [("Georgia", GEORGIA_GE, "mention"), ("Tbilisi", TBILISI, "mention")],
        ),
        (article, resolutions),
    ]


@pytest.fixture
def desk(store_location: str):
    """A store holding the desk's four stories (on each backend)."""
    store = open_store(store_location)
    store.add(desk_stories())
    return store


def _summary(items: list[dict]) -> list[tuple]:
    return [
        (i["name"], (i["place"] or {}).get("country_code"), i["stories"], tuple(i["reasons"]))
        for i in items
    ]


EXPECTED = [
    ("Georgia", "GE", 2, ("ambiguous_name",)),
    ("Ikorodu Wharf", None, 1, ("not_placed",)),
    ("Lagos", "NG", 1, ("low_score", "lone_country")),
    ("Georgia", "US", 1, ("ambiguous_name",)),
    ("Paris", "FR", 1, ("lone_country",)),
]


def test_the_queue_counts_and_ranks_what_needs_an_eye(desk):
    items = review_queue(desk)
    assert _summary(items) == EXPECTED
    top = items[0]
    assert top["mentions"] == 2 and top["headline"] == "Vote count in Georgia"
    assert set(top["mention_ids"]) == {"georgia-ge-0201-0-7", "georgia-ge-0301-11-18"}
    assert top["why"] == ["'Georgia' is placed at 2 different places across stories"]
    assert items[2]["why"][0] == "score 0.30 is below 0.50"


@pytest.mark.parametrize(
    "query, names",
    [
        ({"country": "GE"}, ["Georgia"]),
        ({"country": "NG"}, ["Ikorodu Wharf", "Lagos"]),
        ({"start": "2024-04-01"}, ["Ikorodu Wharf", "Lagos", "Paris"]),
        ({"end": "2024-01-31"}, ["Georgia"]),
        ({"q": "storms"}, ["Georgia"]),
    ],
)
def test_the_queue_filters_like_the_map(desk, query, names):
    assert [i["name"] for i in review_queue(desk, parse_view(query))] == names


def test_decided_items_leave_the_queue(desk):
    items = review_queue(desk)
    lagos = next(i for i in items if i["name"] == "Lagos")
    desk.add_correction(lagos["mention_id"], "accept")
    wharf = next(i for i in items if i["name"] == "Ikorodu Wharf")
    desk.add_correction(wharf["mention_id"], "not_a_place")
    georgia_us = items[3]["mention_id"]
    desk.add_correction(georgia_us, "place", place=_place(GEORGIA_GE))
    left = review_queue(desk)
    assert _summary(left) == [  # Atlanta is now the one US place of a Georgian story
        ("Atlanta", "US", 1, ("lone_country",)),
        ("Paris", "FR", 1, ("lone_country",)),
    ]
    undone = desk.corrections()[0]["id"]
    desk.undo_correction(undone)
    assert len(review_queue(desk)) == 3  # the Georgias are back: two places again


def _place(place: Place) -> dict:
    return {
        "geonameid": place.geonameid,
        "name": place.name,
        "lat": place.latitude,
        "lon": place.longitude,
        "country_code": place.country_code,
        "admin1": place.admin1_name,
        "feature_class": place.feature_class,
        "feature_code": place.feature_code,
        "population": place.population,
    }


def _run(*args: str) -> dict | str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_review_and_correct_from_the_command_line(desk):
    data = json.loads(_run("review", "--json", "--store", desk.location))
    assert data["total"] == 5 and _summary(data["items"]) == EXPECTED
    lagos = data["items"][2]["mention_id"]
    said = _run("correct", lagos, "--accept", "--editor", "ana", "--store", desk.location)
    assert said.startswith("correction 1 (accept, mention): Lagos -> Lagos (NG)")
    text = _run("review", "--store", desk.location, "--view", "country=NG")
    assert text.splitlines()[0].startswith("1 items to review")
    assert "Ikorodu Wharf -> not placed" in text
    assert desk.corrections()[0]["editor"] == "ana"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--accept", "--not-a-place"], "exactly one of"),
        ([], "exactly one of"),
    ],
)
def test_correct_wants_one_decision(desk, args, message):
    result = CliRunner().invoke(
        cli, ["correct", "lagos-0401-16-21", *args, "--store", desk.location]
    )
    assert result.exit_code == 2 and message in result.output


def test_export_import_round_trip(desk, tmp_path):
    items = review_queue(desk)
    desk.add_correction(items[2]["mention_id"], "accept", editor="ana")
    desk.add_correction(items[3]["mention_id"], "place", place=_place(GEORGIA_GE), scope="story")
    desk.add_correction(items[1]["mention_id"], "not_a_place", scope="everywhere")
    paris = items[4]["mention_id"]
    desk.add_correction(paris, "place", place=_place(GEORGIA_US), scope="everywhere")
    undone = desk.add_correction(items[0]["mention_id"], "not_a_place")
    desk.undo_correction(undone["id"])
    out = tmp_path / "corrections.json"
    assert export_corrections(desk, out) == {"pins": 1, "deny": 1, "mentions": 2}
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["pins"] == {"Paris": GEORGIA_US.geonameid}
    assert document["deny"] == ["Ikorodu Wharf"]
    fresh = open_store(tmp_path / "fresh.gpkg")
    fresh.add(desk_stories())
    looked = {GEORGIA_US.geonameid: _place(GEORGIA_US)}
    assert import_corrections(fresh, out, looked.get) == {"added": 4, "already": 0, "aliases": 0}
    columns = ["mention_id", "geonameid", "resolved_name", "reviewed", "corrected", "reason"]
    mine = desk.mentions(resolved_only=False)[columns]
    theirs = fresh.mentions(resolved_only=False)[columns]
    assert theirs.reset_index(drop=True).equals(mine.reset_index(drop=True))
    assert import_corrections(fresh, out, looked.get)["added"] == 0  # nothing twice
    text = _run("corrections", "export", str(tmp_path / "again.json"), "--store", str(fresh.path))
    assert "exported 1 pins, 1 denied names and 2 mention corrections" in text
    # the export is a MAPAPP_CORRECTIONS file the geoparser reads as it always did
    from mapapp.recognition.corrections import load_corrections

    seed = load_corrections(out)
    assert dict(seed.pins) == {"paris": GEORGIA_US.geonameid} and seed.deny == {"ikorodu wharf"}


def test_import_refuses_a_bad_file_naming_it(desk, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"mentions": [{"action": "place", "scope": "mention"}]}), "utf-8")
    result = CliRunner().invoke(cli, ["corrections", "import", str(bad), "--store", desk.location])
    assert result.exit_code != 0
    assert str(bad) in str(result.exception) or str(bad) in result.output
    assert desk.corrections() == []


# -- with the real geoparser --------------------------------------------------


@pytest.fixture
def config(store_location: str, gazetteer_cache: Path, gazetteer) -> Settings:
    """Settings for an empty store, on each backend."""
    return load_settings({"STORE": store_location, "CACHE_DIR": str(gazetteer_cache)})


def _paris(store, corrected: bool = True) -> list[dict]:
    frame = store.mentions(include_undated=True, resolved_only=False, corrected=corrected)
    rows = frame[frame["name"].str.casefold() == "paris"]
    return rows[["mention_id", "geonameid", "reviewed"]].to_dict("records")


def _gazetteer_place(gazetteer, geonameid: int) -> dict:
    place = gazetteer.place(gazetteer.by_geonameid[geonameid])
    return _place(place)


def test_corrections_survive_reprocess_and_disagreements_are_queued(
    config: Settings, gazetteer, tmp_path: Path
):
    ingest([DATA / "2026-10-19-paris-texas-fair.txt"], config)
    store = open_store(config.store)
    paris = _paris(store)
    assert [p["geonameid"] for p in paris] == [PARIS_TEXAS]
    moved = paris[0]["mention_id"]
    frame = store.mentions(resolved_only=False)
    kept = frame[frame["name"] == "Dallas"]["mention_id"].iloc[0]
    dallas = store.mention(kept)["geonameid"]
    other = next(c["geonameid"] for c in store.candidates(kept) if c["geonameid"] != dallas)
    store.add_correction(moved, "place", place=_gazetteer_place(gazetteer, PARIS_FRANCE))
    store.add_correction(kept, "accept")
    reprocess(config)
    assert store.mention(moved)["geonameid"] == PARIS_FRANCE
    assert _paris(store, corrected=False)[0]["geonameid"] == PARIS_TEXAS  # the stored geoparse
    assert store.mention(kept)["reviewed"] and store.mention(kept)["geonameid"] == dallas
    assert not any("disagrees" in i["reasons"] for i in review_queue(store))
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"pins": {"Dallas": other}}), encoding="utf-8")
    reprocess(config.replace(CORRECTIONS=str(seed)))  # a new rule: the geoparser changes its mind
    assert store.mention(kept)["geonameid"] == dallas  # the human decision stands
    assert store.mention(kept)["geoparser_geonameid"] == other
    assert store.mention(moved)["geonameid"] == PARIS_FRANCE
    queued = [i for i in review_queue(store) if "disagrees" in i["reasons"]]
    assert [i["mention_id"] for i in queued] == [kept]
    assert queued[0]["why"][0].startswith(f"the geoparser now says GeoNames {other}")


def test_an_everywhere_rule_changes_the_next_ingest(config: Settings, gazetteer, tmp_path: Path):
    ingest([DATA / "2026-10-19-paris-texas-fair.txt"], config)
    store = open_store(config.store)
    target = _paris(store)[0]["mention_id"]
    store.add_correction(
        target, "place", place=_gazetteer_place(gazetteer, PARIS_FRANCE), scope="everywhere"
    )
    frame = store.mentions(resolved_only=False)
    dallas = frame[frame["name"] == "Dallas"]["mention_id"].iloc[0]
    store.add_correction(dallas, "not_a_place", scope="everywhere")
    story = tmp_path / "2026-11-02-paris-rodeo.txt"
    story.write_text(
        "Rodeo riders head home\n\nPARIS, Texas — Riders left the Lamar County rodeo in Paris "
        "on Sunday for Dallas and Tulsa.\n",
        encoding="utf-8",
    )
    assert ingest([story], config).articles == 1
    raw = store.mentions(resolved_only=False, corrected=False)
    new = raw[raw["article_id"] != store.mention(target)["article_id"]]
    assert set(new[new["name"].str.casefold() == "paris"]["geonameid"]) == {PARIS_FRANCE}
    assert "Dallas" not in set(new["name"])  # denied: the geoparser no longer sees a place
    assert set(open_store(config.store).known_ids()) == set(raw["article_id"])
