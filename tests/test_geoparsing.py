"""The geoparser end to end: raw texts with or without spans, and the shared seed article."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mapapp.articles import parse_file, parse_text
from mapapp.geoparsing import Geoparser
from mapapp.recognition import gazetteer_cache as cache_module
from mapapp.recognition.gazetteer import Gazetteer, name_key
from mapapp.records import ROLES, Article, Resolution
from mapapp.settings import load_settings

pytest_plugins = ["geo_fixtures"]

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
KEYS = {
    "start",
    "end",
    "name",
    "lat",
    "lon",
    "geonameid",
    "country_code",
    "feature_code",
    "score",
    "role",
}
TEXT = "Envoys left Damascus for Homs on Monday, the ministry in Amman said."


def check_shape(found: dict) -> None:
    assert KEYS <= found.keys()
    assert isinstance(found["start"], int) and isinstance(found["end"], int)
    assert found["role"] in ROLES
    assert 0.0 <= found["score"] <= 1.0
    if found["geonameid"] is None:
        assert found["lat"] is found["lon"] is None and found["reason"]
    else:
        assert -90 <= found["lat"] <= 90 and -180 <= found["lon"] <= 180
        assert len(found["country_code"]) in (0, 2) and found["feature_code"]


def test_geoparse_many_free_and_given_spans(geoparser: Geoparser) -> None:
    given = [[12, 20], [25, 29]]
    free, spanned = geoparser.geoparse_many([(TEXT, None), (TEXT, given)])
    for found in free + spanned:
        check_shape(found)
        assert TEXT[found["start"] : found["end"]] == found["name"]
    assert [(d["name"], d["geonameid"]) for d in free] == [
        ("Damascus", 170654),
        ("Homs", 169577),
        ("Amman", 250441),
    ]
    assert [[d["start"], d["end"]] for d in spanned] == given
    assert [d["country_code"] for d in spanned] == ["SY", "SY"]


def test_given_spans_are_returned_even_when_not_places(geoparser: Geoparser) -> None:
    given = [(0, 6), (12, 20), (57, 62)]  # "Envoys" is no place
    [found] = geoparser.geoparse_many([(TEXT, given)])
    assert [(d["start"], d["end"]) for d in found] == given
    assert found[0]["name"] == "Envoys" and found[0]["geonameid"] is None and found[0]["reason"]
    assert found[2]["country_code"] == "JO"


def test_geoparse_many_keeps_items_apart(geoparser: Geoparser) -> None:
    texts = [
        ("Floods hit Alexandria near Cairo.", None),
        ("No places here at all.", None),
        ("Floods hit Alexandria near Arlington, Virginia.", None),
    ]
    first, empty, last = geoparser.geoparse_many(texts)
    assert empty == []
    assert first[0]["country_code"] == "EG" and last[0]["country_code"] == "US"


def test_span_outside_the_text_is_an_error(geoparser: Geoparser) -> None:
    with pytest.raises(ValueError, match="outside the text"):
        geoparser.geoparse_many([(TEXT, [[60, 600]])])


def test_from_config_uses_the_cache_and_corrections(
    data_packages: Path,
    gazetteer_cache: Path,
    gazetteer: Gazetteer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_build(data_packages: Path) -> Gazetteer:
        raise AssertionError("the cached index should have been used")

    monkeypatch.setattr(cache_module, "build_gazetteer", no_build)
    corrections = tmp_path / "corrections.json"
    corrections.write_text(json.dumps({"deny": ["Amman"]}), encoding="utf-8")
    parser = Geoparser.from_settings(
        load_settings(
            {
                "DATA_PACKAGES": str(data_packages),
                "CACHE_DIR": str(gazetteer_cache),
                "NER_MODEL": "none",
                "CORRECTIONS": str(corrections),
            }
        )
    )
    assert not parser.has_model
    assert len(parser.gazetteer) == len(gazetteer)
    [found] = parser.geoparse_many([(TEXT, None)])
    assert [d["name"] for d in found] == ["Damascus", "Homs"]


# --- the seed article -------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_file() -> Path:
    found = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []
    if not found:
        pytest.skip(f"no seed article under {SEEDS} (the shared corpora are not checked out)")
    return found[0]


@pytest.fixture(scope="module")
def seed_resolutions(geoparser: Geoparser, seed_file: Path) -> list[Resolution]:
    articles = parse_file(seed_file)
    assert len(articles) == 1 and isinstance(articles[0], Article)
    [(_, resolutions)] = geoparser.parse_articles(articles)
    return resolutions


@pytest.mark.parametrize(
    ("name", "country", "geonameid"),
    [
        ("Damascus", "SY", 170654),
        ("Geneva", "CH", 2660646),
        ("Homs", "SY", 169577),
        ("Boukamal", "SY", None),
        ("Eastern Ghouta", "SY", None),
        ("Beirut", "LB", 276781),
    ],
)
def test_seed_places_resolve_in_their_country(
    seed_resolutions: list[Resolution], name: str, country: str, geonameid: int | None
) -> None:
    mentions = [r for r in seed_resolutions if name_key(r.toponym.name) == name_key(name)]
    assert mentions, f"{name} was not recognised"
    resolved = {(r.place.country_code, r.place.geonameid) if r.place else None for r in mentions}
    assert {cc for cc, _ in resolved} == {country}, resolved
    if geonameid is not None:
        assert {gid for _, gid in resolved} == {geonameid}


def test_seed_dateline_is_beirut(seed_resolutions: list[Resolution]) -> None:
    first = seed_resolutions[0]  # the deck names no place: the dateline opens the body after it
    assert first.toponym.role == "dateline"
    assert first.toponym.sentence.startswith("BEIRUT -- ") and first.toponym.name == "BEIRUT"
    assert (first.place.geonameid, first.place.country_code) == (276781, "LB")


def test_seed_focus_is_damascus(seed_resolutions: list[Resolution]) -> None:
    focus = {r.place.geonameid for r in seed_resolutions if r.toponym.role == "focus"}
    assert focus == {170654}


def test_deck_is_read_like_body_text(geoparser: Geoparser) -> None:
    """A place named only in the deck is mapped; the dateline after the deck is still found."""
    article = parse_text(
        "Aid stalls at the border\n\nConvoys wait outside Aleppo for a third day\n\n"
        "AMMAN, Jordan -- Officials said the trucks had not moved since Friday.\n"
    )
    [(_, resolutions)] = geoparser.parse_articles([article])
    found = {
        (r.toponym.name, r.toponym.role, r.place and r.place.country_code) for r in resolutions
    }
    assert ("Aleppo", "mention", "SY") in found
    assert ("AMMAN", "dateline", "JO") in found
