"""The offline gazetteer: name folding, lookups by GeoNames id, and the pickled cache."""

from __future__ import annotations

import csv
import pickle
from pathlib import Path

import numpy as np
import pytest

from mapapp.errors import GazetteerError
from mapapp.recognition import gazetteer_cache as cache_module
from mapapp.recognition.gazetteer import MATCH_NAME, Gazetteer, name_key, squash_key
from mapapp.recognition.gazetteer_cache import load_gazetteer
from mapapp.recognition.gazetteer_sources import REGIONS_CSV, build_gazetteer, short_unit_name

pytest_plugins = ["geo_fixtures"]


def ids_of(gaz: Gazetteer, name: str, **kwargs: bool) -> set[int | None]:
    return {gaz.geonameid[c.index] for c in gaz.candidates(name, **kwargs)}


# --- folding -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("U.S.", "us"),
        ("U. S.", "us"),
        ("US", "us"),
        ("u.s", "us"),
        ("U.S.A.", "usa"),
        ("Sant Julià", "sant julia"),
        ("São Paulo", "sao paulo"),
        ("ZÜRICH", "zurich"),
        ("Côte d\u2019Ivoire", "cote divoire"),
        ("Al-Bukamal", "al bukamal"),
        ("Guinea\u2013Bissau", "guinea bissau"),
        ("Washington, D.C.", "washington dc"),
        ("  Port   Said ", "port said"),
    ],
)
def test_name_key_folds_case_accents_dots_and_dashes(name: str, key: str) -> None:
    assert name_key(name) == key


@pytest.mark.parametrize(
    ("spelling", "variant"),
    [
        ("Boukamal", "Al-Bukamal"),
        ("Boukamal", "al-Boukamal"),
        ("Qusayr", "al-Qusair"),
    ],
)
def test_squash_key_joins_transliteration_variants(spelling: str, variant: str) -> None:
    assert squash_key(spelling) == squash_key(variant)


def test_squash_key_keeps_different_places_apart() -> None:
    assert squash_key("Boukamal") != squash_key("Damascus")


# --- lookups in the real index -------------------------------------------------


def test_damascus_has_the_syrian_capital_and_american_namesakes(gazetteer: Gazetteer) -> None:
    cands = gazetteer.candidates("Damascus")
    by_id = {gazetteer.geonameid[c.index]: c for c in cands}
    assert by_id[170654].match == MATCH_NAME
    assert gazetteer.country[by_id[170654].index] == "SY"
    assert {5722088, 4352728} <= by_id.keys()  # Oregon, Maryland
    assert {gazetteer.country[c.index] for c in cands} >= {"SY", "US"}


def test_transliteration_variant_is_found_only_when_fuzzy(gazetteer: Gazetteer) -> None:
    assert ids_of(gazetteer, "Boukamal", fuzzy=False) == set()
    fuzzy = gazetteer.candidates("Boukamal")
    assert fuzzy and all(gazetteer.country[c.index] == "SY" for c in fuzzy)
    assert 174448 in ids_of(gazetteer, "Al-Bukamal")


@pytest.mark.parametrize(
    ("name", "geonameid", "country"),
    [
        ("Syria", 163843, "SY"),
        ("United States", 6252001, "US"),
        ("U.S.", 6252001, "US"),
        ("United Kingdom", 2635167, "GB"),
        ("UK", 2635167, "GB"),
        ("Britain", 2635167, "GB"),
    ],
)
def test_country_names_reach_the_pcli_row(
    gazetteer: Gazetteer, name: str, geonameid: int, country: str
) -> None:
    rows = [c.index for c in gazetteer.candidates(name) if gazetteer.fcode[c.index] == "PCLI"]
    assert [gazetteer.geonameid[r] for r in rows] == [geonameid]
    assert gazetteer.country[rows[0]] == country
    assert gazetteer.country_index[country] == rows[0]


@pytest.mark.parametrize(
    ("name", "geonameid", "code", "country", "admin1"),
    [
        ("EU", 6255148, "CONT", "", ""),
        ("Europe", 6255148, "CONT", "", ""),
        ("Texas", 4736286, "ADM1", "US", "TX"),
        ("Georgia", 614540, "PCLI", "GE", ""),
        ("Georgia", 4197000, "ADM1", "US", "GA"),
    ],
)
def test_areas_carry_geonames_ids(
    gazetteer: Gazetteer, name: str, geonameid: int, code: str, country: str, admin1: str
) -> None:
    assert geonameid in ids_of(gazetteer, name)
    place = gazetteer.place(gazetteer.by_geonameid[geonameid])
    assert (place.feature_code, place.country_code, place.admin1_code) == (code, country, admin1)


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("Dagestan, Respublika", "Dagestan"),  # the ISO inversion
        ("Komi, Respublika", "Komi"),
        ("Sabaragamuwa Province", "Sabaragamuwa"),  # a type word after the name
        ("Republic of Kelso", "Kelso"),
        ("Northern Region", None),  # a direction is no name
        ("National Capital Region", None),
        ("Oaxaca", None),  # nothing to take away
        ("Southern Nations, Nationalities and Peoples", None),  # a direction first
        ("Kelso, Upper Vale of the Long River", None),  # a comma inside a long name
    ],
)
def test_short_unit_name_is_the_name_news_writes(name: str, short: str | None) -> None:
    assert short_unit_name(name) == short


@pytest.mark.parametrize(("name", "geonameid"), [("Dagestan", 567293), ("Tatarstan", 484048)])
def test_a_unit_answers_to_its_short_name(gazetteer: Gazetteer, name: str, geonameid: int) -> None:
    assert geonameid in ids_of(gazetteer, name)


def test_admin1_rows_are_named(gazetteer: Gazetteer) -> None:
    assert gazetteer.admin1_names[("US", "TX")] == "Texas"
    assert gazetteer.place(gazetteer.by_geonameid[4717560]).admin1_name == "Texas"  # Paris, TX


@pytest.mark.parametrize(
    ("name", "country"),
    [("Eastern Ghouta", "SY"), ("East Ghouta", "SY"), ("Donbas", "UA"), ("Gaza Strip", "PS")],
)
def test_reviewed_regions_are_areas_in_a_country(
    gazetteer: Gazetteer, name: str, country: str
) -> None:
    rows = [c.index for c in gazetteer.candidates(name, fuzzy=False)]
    assert any(gazetteer.is_area(r) and gazetteer.country[r] == country for r in rows)


def reviewed_rows(classes: str) -> list[dict[str, str]]:
    """The reviewed table's rows with a point, of these feature classes, in one province."""
    with REGIONS_CSV.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return [r for r in rows if r["fclass"] and r["fclass"] in classes and r["admin1"]]


@pytest.mark.parametrize(
    ("classes", "degrees", "at_least"),
    [("SR", 0.35, 20), ("ALT", 1.0, 25)],  # landmarks; counties, islands and areas
)
def test_every_reviewed_point_lies_among_towns_of_its_own_province(
    gazetteer: Gazetteer, classes: str, degrees: float, at_least: int
) -> None:
    """A typing slip in a reviewed point or its codes would put a marker in the wrong place."""
    rows = reviewed_rows(classes)
    assert len(rows) >= at_least
    lat, lon = np.array(gazetteer.lat), np.array(gazetteer.lon)
    towns = np.array([f == "P" for f in gazetteer.fclass])
    for row in rows:
        y, x = float(row["lat"]), float(row["lon"])
        near = np.flatnonzero(towns & (np.abs(lat - y) < degrees) & (np.abs(lon - x) < degrees))
        assert any(
            (gazetteer.country[i], gazetteer.admin1[i]) == (row["country"], row["admin1"])
            for i in near
        ), row["names"]


@pytest.mark.parametrize(
    ("demonym", "geonameid"),
    [
        ("Syrian", 163843),
        ("Syrians", 163843),
        ("British", 2635167),
        ("Iranian", 130758),
        ("Texan", 4736286),
    ],
)
def test_demonyms_point_at_their_country(
    gazetteer: Gazetteer, demonym: str, geonameid: int
) -> None:
    assert gazetteer.geonameid[gazetteer.demonyms[name_key(demonym)]] == geonameid


@pytest.mark.parametrize(
    ("abbreviation", "geonameid"),
    [("Ore.", 5744337), ("Calif.", 5332921), ("TX", 4736286), ("Ont.", 6093943)],
)
def test_state_abbreviations_qualify_places(
    gazetteer: Gazetteer, abbreviation: str, geonameid: int
) -> None:
    rows = gazetteer.qualifiers[name_key(abbreviation)]
    assert geonameid in {gazetteer.geonameid[r] for r in rows}


# --- the cache -----------------------------------------------------------------


def tiny_gazetteer(name: str = "Testville") -> Gazetteer:
    gaz = Gazetteer()
    gaz.add(geonameid=1, name=name, lat=1.0, lon=2.0, fclass="P", fcode="PPL", country="ZZ")
    return gaz


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace the slow build with a one-row gazetteer; the list records each call."""
    calls: list[Path] = []

    def fake_build(data_packages: Path) -> Gazetteer:
        calls.append(data_packages)
        return tiny_gazetteer()

    monkeypatch.setattr(cache_module, "build_gazetteer", fake_build)
    return calls


def test_second_load_reuses_the_pickle(
    builds: list[Path], data_packages: Path, tmp_path: Path
) -> None:
    first = load_gazetteer(data_packages, tmp_path)
    second = load_gazetteer(data_packages, tmp_path)
    assert len(builds) == 1
    assert second.name == first.name == ["Testville"]
    assert [p.name for p in tmp_path.iterdir()] == ["gazetteer.pickle"]  # no temp files left


def test_session_cache_holds_the_real_index(
    gazetteer: Gazetteer,
    data_packages: Path,
    gazetteer_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_build(data_packages: Path) -> Gazetteer:
        raise AssertionError("the cached index should have been used")

    monkeypatch.setattr(cache_module, "build_gazetteer", no_build)
    reloaded = load_gazetteer(data_packages, gazetteer_cache)
    assert len(reloaded) == len(gazetteer)
    assert reloaded.geonameid[reloaded.by_geonameid[170654]] == 170654


@pytest.mark.parametrize(
    "content",
    [b"", b"not a pickle at all", pickle.dumps(("format=0;stale", tiny_gazetteer("Oldtown")))],
    ids=["empty", "garbage", "stale-fingerprint"],
)
def test_broken_or_stale_cache_is_rebuilt(
    builds: list[Path], data_packages: Path, tmp_path: Path, content: bytes
) -> None:
    (tmp_path / "gazetteer.pickle").write_bytes(content)
    gaz = load_gazetteer(data_packages, tmp_path)
    assert len(builds) == 1 and gaz.name == ["Testville"]
    assert load_gazetteer(data_packages, tmp_path).name == ["Testville"]
    assert len(builds) == 1  # the rebuilt cache was written back


def test_no_cache_dir_builds_every_time(builds: list[Path], data_packages: Path) -> None:
    load_gazetteer(data_packages, None)
    load_gazetteer(data_packages, None)
    assert len(builds) == 2


def test_missing_data_packages_name_npm_ci(tmp_path: Path) -> None:
    missing = tmp_path / "node_modules"
    with pytest.raises(GazetteerError, match="npm ci") as info:
        build_gazetteer(missing)
    assert str(missing) in str(info.value)
    with pytest.raises(GazetteerError, match="npm ci"):
        load_gazetteer(missing, tmp_path / "cache")
